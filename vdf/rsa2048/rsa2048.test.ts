import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';
import { bigintToBytes, toHex, utf8 } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { mulMod, mulModBarrett, naiveSquareTimes } from './arith.ts';
import { canonical, decodeRsa, deriveRsaInput, encodeRsa, rsa2048Group } from './group.ts';
import { HALF_N, N, RSA2048_DECIMAL } from './modulus.ts';
import { opensslPow, opensslSquareTimes } from './openssl.ts';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof VdfError ? err.code : 'other';
  }
  return 'none';
};

describeWithVectors('rsa', 'rsa2048 modulus against shared/vectors/rsa', () => {
  const check = JSON.parse(readVectorText('rsa', 'rsa-2048-check-values.json'));
  it('is the RSA-2048 challenge number', () => {
    expect(N.toString(2)).toHaveLength(2048);
    expect(toHex(sha256(utf8(RSA2048_DECIMAL)))).toBe(
      check.sha256_of_decimal_string_without_newline,
    );
    expect(N.toString(16)).toBe(check.hex);
    expect(RSA2048_DECIMAL).toBe(readVectorText('rsa', 'rsa-2048-modulus.txt').trim());
  });
  it('12 squarings of 2 give 2^4096 mod N on both backends', () => {
    const expected = BigInt(check.pow_2_4096_mod_N_decimal);
    expect(naiveSquareTimes(2n, 12)).toBe(expected);
    expect(opensslSquareTimes(2n, 12)).toBe(expected);
  });
});

describe('rsa2048 arithmetic', () => {
  it('OpenSSL squaring chains agree with BigInt across the 2047-squaring split', () => {
    const x = deriveRsaInput(utf8('chain'));
    for (const k of [1, 2046, 2047, 2048, 5000])
      expect(opensslSquareTimes(x, k)).toBe(naiveSquareTimes(x, k));
  });
  it('OpenSSL pow and Barrett agree with BigInt', () => {
    const x = deriveRsaInput(utf8('pow'));
    const e = (1n << 263n) + 12345n;
    let ref = 1n;
    for (const bit of e.toString(2)) {
      ref = (ref * ref) % N;
      if (bit === '1') ref = (ref * x) % N;
    }
    expect(opensslPow(x, e)).toBe(ref);
    expect(mulModBarrett(x, N - 1n)).toBe(mulMod(x, N - 1n));
    expect(mulModBarrett(N - 1n, N - 1n)).toBe(1n);
  });
});

describe('rsa2048 encoding', () => {
  const g = rsa2048Group(utf8('enc'));
  it('round-trips canonical elements and rejects everything else', () => {
    const y = g.squareTimes(g.input, 10);
    expect(y).toBeLessThanOrEqual(HALF_N);
    expect(g.decode(g.encode(y))).toBe(y);
    expect(code(() => decodeRsa(bigintToBytes(N - y, 256)))).toBe('VDF_MALFORMED');
    expect(code(() => decodeRsa(new Uint8Array(256)))).toBe('VDF_MALFORMED');
    expect(code(() => decodeRsa(bigintToBytes(N, 256)))).toBe('VDF_MALFORMED');
    expect(code(() => decodeRsa(bigintToBytes(N + 1n, 256)))).toBe('VDF_MALFORMED');
    expect(code(() => decodeRsa(new Uint8Array(255).fill(1)))).toBe('VDF_MALFORMED');
    expect(code(() => decodeRsa(new Uint8Array(257)))).toBe('VDF_MALFORMED');
    expect(decodeRsa(encodeRsa(HALF_N))).toBe(HALF_N);
    expect(code(() => decodeRsa(encodeRsa(HALF_N + 1n)))).toBe('VDF_MALFORMED');
  });
  it('canonicalises ±v to the same element and derives inputs per seed', () => {
    expect(canonical(N - 5n)).toBe(5n);
    expect(canonical(-5n)).toBe(5n);
    expect(deriveRsaInput(utf8('a'))).not.toBe(deriveRsaInput(utf8('b')));
    expect(deriveRsaInput(utf8('a'))).toBe(rsa2048Group(utf8('a')).input);
  });
});
