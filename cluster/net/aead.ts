import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * RFC 8439 ChaCha20-Poly1305, the AEAD under the peer channels (noise.ts) and the sealed storage
 * (the vault's storage box). Every Raft write seals or opens several values, so the per-call cost
 * is on the write's critical path: the `vigil_aead` addon (native/aead.cc) runs Node's own OpenSSL
 * with one reusable context and writes into the caller's buffer; node:crypto's Cipheriv, the
 * fallback where the addon is not built (or VIGIL_AEAD_NATIVE=0), builds a stream object, a
 * native handle and two Buffers per message (~20 µs a call in a busy node, and work for the
 * young-generation collector). Both give the same bytes (aead.test.ts, against noble too).
 */
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

interface AeadAddon {
  /** Same contract as `sealInto` below (which checks the arguments first). */
  seal: typeof sealInto;
  /** Writes the plaintext into `out` (the sealed length less the tag); false if it fails. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
    out: Uint8Array,
  ): boolean;
}

const ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/vigil_aead.node', import.meta.url),
);

function loadAddon(): { addon: AeadAddon | null; reason: string } {
  if (process.env.VIGIL_AEAD_NATIVE === '0')
    return { addon: null, reason: 'disabled by VIGIL_AEAD_NATIVE=0' };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as AeadAddon;
    if (typeof addon.seal !== 'function' || typeof addon.open !== 'function')
      throw new Error('addon lacks seal/open; run npm ci');
    return { addon, reason: ADDON_PATH };
  } catch (e) {
    return { addon: null, reason: e instanceof Error ? e.message : String(e) };
  }
}

const loaded = loadAddon();

/** Which implementation seals here: the addon's path, or why node:crypto is used instead. */
export function aeadImplementation(): { native: boolean; reason: string } {
  return { native: loaded.addon !== null, reason: loaded.reason };
}

function checkKeyNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AEAD_KEY_BYTES || nonce.length !== AEAD_NONCE_BYTES)
    throw new RangeError('ChaCha20-Poly1305: key must be 32 bytes, nonce 12');
}

/** Writes ciphertext ‖ tag of `plaintext` into `out` at `offset` (room for length + 16 needed). */
export function sealInto(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  checkKeyNonce(key, nonce);
  if (offset < 0 || out.length - offset < plaintext.length + AEAD_TAG_BYTES)
    throw new RangeError('ChaCha20-Poly1305: no room for ciphertext and tag');
  if (loaded.addon) {
    loaded.addon.seal(key, nonce, aad, plaintext, out, offset);
    return;
  }
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  out.set(c.update(plaintext), offset);
  c.final();
  out.set(c.getAuthTag(), offset + plaintext.length);
}

/** ciphertext ‖ tag of `plaintext`. */
export function seal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
  sealInto(key, nonce, aad, plaintext, out, 0);
  return out;
}

/** The plaintext of ciphertext ‖ tag, or null if it fails authentication (or is too short). */
export function open(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  checkKeyNonce(key, nonce);
  if (sealed.length < AEAD_TAG_BYTES) return null;
  const split = sealed.length - AEAD_TAG_BYTES;
  if (loaded.addon) {
    const out = new Uint8Array(split);
    return loaded.addon.open(key, nonce, aad, sealed, out) ? out : null;
  }
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  d.setAAD(aad, { plaintextLength: split });
  d.setAuthTag(sealed.subarray(split));
  const plain = d.update(sealed.subarray(0, split));
  try {
    d.final();
  } catch {
    return null;
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
}
