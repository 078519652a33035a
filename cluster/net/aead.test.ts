import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Aead = typeof import('./aead.ts');

/** A fresh copy of aead.ts, loaded with or without the addon. */
async function load(native: boolean): Promise<Aead> {
  vi.resetModules();
  vi.stubEnv('VIGIL_AEAD_NATIVE', native ? '1' : '0');
  return import('./aead.ts');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

// RFC 8439 §2.8.2, the AEAD construction's worked example.
const rfc = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('070000004041424344454647'),
  aad: hex('50515253c0c1c2c3c4c5c6c7'),
  plaintext: new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
  ciphertextStart: hex('d31a8d34648e60db7b86afbc53ef7ec2'),
};

// The addon is built by `npm ci` where a compiler is present; without one its half is skipped
// with the reason (as the VDF addon's tests are) and node:crypto's half still runs.
const built = (await import('./aead.ts')).aeadImplementation();
if (!built.native) console.warn(`[aead] skipping the addon's tests: ${built.reason}`);

describe.each([
  ['the addon', true],
  ['node:crypto', false],
])('ChaCha20-Poly1305 through %s', (_name, native) => {
  if (native && !built.native) {
    it.skip('needs the vigil_aead addon (npm ci builds it)', () => {});
    return;
  }

  it('uses the implementation asked for (the addon is built by npm ci)', async () => {
    const aead = await load(native);
    expect(aead.aeadImplementation().native).toBe(native);
  });

  it("gives RFC 8439's worked example", async () => {
    const aead = await load(native);
    const sealed = aead.seal(rfc.key, rfc.nonce, rfc.aad, rfc.plaintext);
    expect(sealed.subarray(0, 16)).toEqual(rfc.ciphertextStart);
    expect(sealed.subarray(sealed.length - 16)).toEqual(rfc.tag);
    expect(aead.open(rfc.key, rfc.nonce, rfc.aad, sealed)).toEqual(rfc.plaintext);
  });

  it("matches noble's bytes both ways, at an offset too", async () => {
    const aead = await load(native);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 700 }),
        fc.nat(40),
        (key, nonce, aad, plaintext, offset) => {
          const reference = chacha20poly1305(key, nonce, aad).encrypt(plaintext);
          expect(aead.seal(key, nonce, aad, plaintext)).toEqual(reference);
          const out = new Uint8Array(offset + reference.length + 3).fill(0xee);
          aead.sealInto(key, nonce, aad, plaintext, out, offset);
          expect(out.subarray(offset, offset + reference.length)).toEqual(reference);
          expect(out.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
          expect(out.subarray(offset + reference.length).every((b) => b === 0xee)).toBe(true);
          expect(aead.open(key, nonce, aad, reference)).toEqual(plaintext);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses any flipped bit, another nonce, key or associated data, and short input', async () => {
    const aead = await load(native);
    const sealed = aead.seal(rfc.key, rfc.nonce, rfc.aad, rfc.plaintext);
    for (const at of [0, 50, sealed.length - 17, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 0x01;
      expect(aead.open(rfc.key, rfc.nonce, rfc.aad, bad)).toBeNull();
    }
    const other = (b: Uint8Array) => b.map((x, i) => (i === 0 ? x ^ 1 : x));
    expect(aead.open(other(rfc.key), rfc.nonce, rfc.aad, sealed)).toBeNull();
    expect(aead.open(rfc.key, other(rfc.nonce), rfc.aad, sealed)).toBeNull();
    expect(aead.open(rfc.key, rfc.nonce, other(rfc.aad), sealed)).toBeNull();
    expect(aead.open(rfc.key, rfc.nonce, new Uint8Array(0), sealed)).toBeNull();
    expect(aead.open(rfc.key, rfc.nonce, rfc.aad, sealed.subarray(0, 15))).toBeNull();
    // an empty plaintext still carries (and checks) its tag
    const empty = aead.seal(rfc.key, rfc.nonce, rfc.aad, new Uint8Array(0));
    expect(empty).toHaveLength(16);
    expect(aead.open(rfc.key, rfc.nonce, rfc.aad, empty)).toEqual(new Uint8Array(0));
    empty[3]! ^= 0x80;
    expect(aead.open(rfc.key, rfc.nonce, rfc.aad, empty)).toBeNull();
  });

  it('throws on a wrong key or nonce size and on an output without room', async () => {
    const aead = await load(native);
    const p = new Uint8Array(10);
    expect(() => aead.seal(new Uint8Array(31), rfc.nonce, rfc.aad, p)).toThrow(RangeError);
    expect(() => aead.seal(rfc.key, new Uint8Array(24), rfc.aad, p)).toThrow(RangeError);
    expect(() => aead.open(rfc.key, new Uint8Array(8), rfc.aad, p)).toThrow(RangeError);
    expect(() => aead.sealInto(rfc.key, rfc.nonce, rfc.aad, p, new Uint8Array(26), 1)).toThrow(
      RangeError,
    );
  });
});
