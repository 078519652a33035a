import { describe, expect, it } from 'vitest';
import {
  addCiphertexts,
  assertCiphertext,
  decrypt,
  encrypt,
  multiplyCiphertext,
  paillierSecretKey,
} from './paillier.ts';
import { rng, testPaillierKey } from './test-fixtures.ts';

describe('Paillier', () => {
  const sk = testPaillierKey();

  it('decrypts what it encrypts, and is additively homomorphic', () => {
    const a = 123456789n << 200n;
    const b = 987654321n;
    const ca = encrypt(sk, a, rng).c;
    const cb = encrypt(sk, b, rng).c;
    expect(decrypt(sk, ca)).toBe(a);
    expect(decrypt(sk, addCiphertexts(sk, ca, cb))).toBe(a + b);
    expect(decrypt(sk, multiplyCiphertext(sk, cb, 1000n))).toBe(b * 1000n);
  });

  it('rejects ciphertexts outside Z*_{N²}', () => {
    expect(() => assertCiphertext(sk, 0n, 'c')).toThrow(/valid Paillier/);
    expect(() => assertCiphertext(sk, sk.n2, 'c')).toThrow(/valid Paillier/);
    expect(() => assertCiphertext(sk, sk.p * 5n, 'c')).toThrow(/valid Paillier/);
  });

  it('refuses non-Blum primes', () => {
    expect(() => paillierSecretKey(13n, 7n)).toThrow(/3 mod 4/);
  });
});
