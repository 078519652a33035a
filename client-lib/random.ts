/** n fresh random bytes. Shells pass a source; cores never draw their own. */
export type RandomBytes = (n: number) => Uint8Array;

// getRandomValues fills at most 65,536 bytes per call (Web Crypto).
const MAX_FILL = 65_536;

/**
 * The platform's cryptographic randomness through Web Crypto's getRandomValues: browsers, Node
 * 20 and React Native (with a getRandomValues polyfill such as react-native-get-random-values,
 * which docs/sdk.md names). Throws where there is none rather than fall back to anything weaker.
 */
export const webCryptoRandom: RandomBytes = (n) => {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof c?.getRandomValues !== 'function') {
    throw new Error('no crypto.getRandomValues on this platform: install a polyfill (docs/sdk.md)');
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += MAX_FILL) c.getRandomValues(out.subarray(i, i + MAX_FILL));
  return out;
};
