import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { StorageBox } from './storage-box.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

const key = new Uint8Array(32).fill(0x42);
const otherKey = new Uint8Array(32).fill(0x43);

describe('StorageBox (XChaCha20-Poly1305 at rest)', () => {
  it('round-trips any value and name, with a fresh nonce each time', () => {
    const box = new StorageBox(key);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 40 }),
        (plaintext, name) => {
          const sealed = box.seal(name, plaintext);
          expect(sealed.length).toBe(1 + 24 + plaintext.length + 16);
          expect(sealed[0]).toBe(1);
          expect(Buffer.from(box.open(name, sealed)).equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    const a = box.seal('k', new Uint8Array(8));
    const b = box.seal('k', new Uint8Array(8));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    // nonces are drawn from a pooled CSPRNG buffer: never reused, across refills too
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      nonces.add(Buffer.from(box.seal('k', new Uint8Array(1)).subarray(1, 25)).toString('hex'));
    }
    expect(nonces.size).toBe(1000);
  });

  it("writes noble's XChaCha20-Poly1305 bytes and opens boxes noble wrote (disk format unchanged)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ maxLength: 300 }),
        // multi-byte and long names too (the associated data's scratch buffer grows for them)
        fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 200 })),
        (k, nonce, plaintext, name) => {
          const box = new StorageBox(k, () => Uint8Array.from(nonce));
          const sealed = box.seal(name, plaintext);
          // the AAD is the box's own; recover it by sealing the same input through noble
          const aad = Buffer.concat([
            Buffer.from([0, 0, 0, 26]),
            Buffer.from('vigil/vault/storage-box/v1'),
            Buffer.from([1]),
            (() => {
              const length = Buffer.alloc(4);
              length.writeUInt32BE(Buffer.byteLength(name));
              return length;
            })(),
            Buffer.from(name),
          ]);
          const noble = xchacha20poly1305(k, nonce, aad).encrypt(plaintext);
          expect(Buffer.from(sealed.subarray(25))).toEqual(Buffer.from(noble));
          const written = Buffer.concat([Buffer.from([1]), Buffer.from(nonce), noble]);
          expect(Buffer.from(box.open(name, written))).toEqual(Buffer.from(plaintext));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('uses the caller-supplied RNG for nonces', () => {
    const box = new StorageBox(key, (n) => new Uint8Array(n).fill(9));
    const sealed = box.seal('deposit/abc', Uint8Array.of(1, 2, 3));
    expect(Buffer.from(sealed.subarray(1, 25)).equals(Buffer.alloc(24, 9))).toBe(true);
    expect(
      Buffer.from(box.seal('deposit/abc', Uint8Array.of(1, 2, 3))).equals(Buffer.from(sealed)),
    ).toBe(true);
    expect(
      codeOf(() => new StorageBox(key, () => new Uint8Array(12)).seal('x', new Uint8Array(1))),
    ).toBe('STORAGE_KEY_INVALID');
  });

  it('detects any flipped bit, a wrong name, a wrong key and truncation', () => {
    const box = new StorageBox(key);
    const plaintext = new TextEncoder().encode('x2 share ciphertext stand-in');
    const sealed = box.seal('deposit/w1', plaintext);
    for (let i = 1; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Uint8Array.from(sealed);
        tampered[i]! ^= mask;
        expect(
          codeOf(() => box.open('deposit/w1', tampered)),
          `byte ${i}`,
        ).toBe('STORAGE_TAMPERED');
      }
    }
    const versioned = Uint8Array.from(sealed);
    versioned[0] = 2;
    expect(codeOf(() => box.open('deposit/w1', versioned))).toBe('STORAGE_MALFORMED');
    expect(codeOf(() => box.open('deposit/w2', sealed))).toBe('STORAGE_TAMPERED');
    expect(codeOf(() => box.open(new TextEncoder().encode('deposit/w1'), sealed))).toBe('ACCEPTED');
    expect(codeOf(() => new StorageBox(otherKey).open('deposit/w1', sealed))).toBe(
      'STORAGE_TAMPERED',
    );
    expect(codeOf(() => box.open('deposit/w1', sealed.subarray(0, 40)))).toBe('STORAGE_MALFORMED');
    expect(codeOf(() => box.open('deposit/w1', sealed.subarray(0, sealed.length - 1)))).toBe(
      'STORAGE_TAMPERED',
    );
  });

  it('refuses a storage key of the wrong size', () => {
    expect(codeOf(() => new StorageBox(new Uint8Array(16)))).toBe('STORAGE_KEY_INVALID');
  });
});
