/**
 * Positive and negative tests for every proof. The Paillier modulus is a real 2048-bit Blum
 * modulus; the ring-Pedersen modulus is 1024-bit (see test-fixtures.ts) — soundness checks here do
 * not depend on its size.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { encrypt, type PaillierSecretKey, paillierSecretKey } from '../paillier.ts';
import { generateBlumPrime } from '../primes.ts';
import { randomScalar } from '../random.ts';
import {
  rng,
  sessionId,
  TEST_RING_PEDERSEN_BITS,
  testPaillierKey,
  testRingPedersen,
} from '../test-fixtures.ts';
import { CURVE_ORDER, G } from '../wire.ts';
import { commit, verifyOpening } from './commitment.ts';
import type { ProofContext } from './context.ts';
import { modulusProofToWire, parseModulusProof, proveModulus, verifyModulus } from './modulus.ts';
import {
  noSmallFactorToWire,
  parseNoSmallFactor,
  proveNoSmallFactor,
  verifyNoSmallFactor,
} from './no-small-factor.ts';
import {
  paillierDlogToWire,
  parsePaillierDlog,
  provePaillierDlog,
  verifyPaillierDlog,
} from './paillier-dlog.ts';
import { proveRingPedersen, verifyRingPedersen } from './ring-pedersen.ts';
import { proveSchnorr, verifySchnorr } from './schnorr.ts';

const ctx: ProofContext = { sessionId: sessionId('proofs'), prover: 'server', purpose: 'test' };
const other: ProofContext = { ...ctx, sessionId: sessionId('other') };

/** A Paillier "key" built around a deliberately bad modulus, for the prover to try its luck. */
function unsafeKey(p: bigint, q: bigint): PaillierSecretKey {
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  return { n, n2: n * n, p, q, phi, p2: p * p, q2: q * q, hp: 1n, hq: 1n, pInvModQ: 1n };
}

describe('Schnorr proof of knowledge', () => {
  it('verifies, and fails when tampered or moved to another session', () => {
    const x = randomScalar(rng, CURVE_ORDER);
    const X = G.multiply(x);
    const proof = proveSchnorr(ctx, x, rng);
    verifySchnorr(ctx, X, proof);
    expect(() => verifySchnorr(other, X, proof)).toThrow(/does not verify/);
    expect(() => verifySchnorr(ctx, X, { ...proof, z: proof.z + 1n })).toThrow(/does not verify/);
    expect(() => verifySchnorr({ ...ctx, prover: 'client' }, X, proof)).toThrow();
  });
});

describe('commitments', () => {
  it('open only to the committed items', () => {
    const { commitment, opening } = commit(ctx, [Uint8Array.of(1, 2), Uint8Array.of(3)], rng);
    verifyOpening(ctx, commitment, opening);
    // Same bytes, different split: length prefixes keep them apart.
    expect(() =>
      verifyOpening(ctx, commitment, {
        ...opening,
        items: [Uint8Array.of(1), Uint8Array.of(2, 3)],
      }),
    ).toThrow(/does not match/);
    expect(() => verifyOpening(other, commitment, opening)).toThrow(/does not match/);
  });
});

describe('Πmod (Paillier–Blum modulus)', () => {
  const sk = testPaillierKey();
  const proof = proveModulus(sk, 'server', rng);

  it('accepts a Blum modulus, also after a wire round trip', () => {
    verifyModulus(sk.n, 'server', parseModulusProof(modulusProofToWire(proof), 2048), 2048);
  });

  it('rejects a tampered proof, a truncated one and a too-small modulus', () => {
    const x = [...proof.x];
    x[5] = (x[5] as bigint) + 1n;
    expect(() => verifyModulus(sk.n, 'server', { ...proof, x }, 2048)).toThrow(/x\^4/);
    expect(() => verifyModulus(sk.n, 'server', { ...proof, z: proof.z.slice(1) }, 2048)).toThrow(
      /repetitions/,
    );
    expect(() => verifyModulus(sk.n, 'other-owner', proof, 2048)).toThrow();
    expect(() => verifyModulus(sk.n, 'server', proof, 3072)).toThrow(/fewer than/);
  });

  it('cannot be produced for a non-Blum modulus (p ≡ 1 mod 4)', () => {
    let p: bigint;
    do p = generateBlumPrime(1024) + 2n;
    while (p % 4n !== 1n); // not prime in general: the prover simply fails to find roots
    const q = generateBlumPrime(1024);
    const bad = unsafeKey(p, q);
    expect(() => {
      const forged = proveModulus(bad, 'server', rng);
      verifyModulus(bad.n, 'server', forged, 2048);
    }).toThrow();
  });

  it('rejects a prime modulus', () => {
    const p = generateBlumPrime(2048);
    const fake = { ...proof, w: 2n };
    expect(() => verifyModulus(p, 'server', fake, 2048)).toThrow(/prime/);
  });

  it('rejects N = p²·q (not square-free) even from an honest-looking prover', () => {
    const p = generateBlumPrime(512);
    const q = generateBlumPrime(1024);
    const bad = unsafeKey(p * p, q); // "p" is p², which the prover treats as a prime
    expect(() => {
      const forged = proveModulus(bad, 'server', rng);
      verifyModulus(bad.n, 'server', forged, 2048);
    }).toThrow();
  });
});

describe('Πprm (ring-Pedersen parameters)', () => {
  const rp = testRingPedersen();
  const c: ProofContext = { ...ctx, prover: 'client' };
  it('verifies and rejects tampering, wrong session and a small modulus', () => {
    const proof = proveRingPedersen(c, rp, rng);
    verifyRingPedersen(c, rp, proof, TEST_RING_PEDERSEN_BITS);
    const z = [...proof.z];
    z[3] = (z[3] as bigint) + 1n;
    expect(() => verifyRingPedersen(c, rp, { ...proof, z }, TEST_RING_PEDERSEN_BITS)).toThrow();
    expect(() =>
      verifyRingPedersen({ ...c, sessionId: sessionId('x') }, rp, proof, 1024),
    ).toThrow();
    expect(() => verifyRingPedersen(c, rp, proof, 2048)).toThrow(/fewer than/);
  });

  it('rejects s outside ⟨t⟩ (no λ known)', () => {
    const proof = proveRingPedersen(c, rp, rng);
    const forged = { ...rp, s: (rp.s * 4n) % rp.nHat };
    expect(() => verifyRingPedersen(c, forged, proof, TEST_RING_PEDERSEN_BITS)).toThrow();
  });
});

describe('Πfac (no small factor)', () => {
  const sk = testPaillierKey();
  const rp = testRingPedersen();

  it('verifies for a balanced modulus, also after a wire round trip', () => {
    const proof = proveNoSmallFactor(ctx, sk, rp, rng);
    verifyNoSmallFactor(ctx, sk.n, rp, parseNoSmallFactor(noSmallFactorToWire(proof), 2048));
    expect(() => verifyNoSmallFactor(other, sk.n, rp, proof)).toThrow();
    expect(() => verifyNoSmallFactor(ctx, sk.n, rp, { ...proof, w1: proof.w1 + 1n })).toThrow();
  });

  it('cannot be produced for a modulus with a small factor', () => {
    const small = 1000003n; // a ~20-bit prime factor
    const big = generateBlumPrime(2028);
    const bad = unsafeKey(small, big);
    const forged = proveNoSmallFactor(ctx, bad, rp, rng);
    expect(() => verifyNoSmallFactor(ctx, bad.n, rp, forged)).toThrow(/out of range/);
  });
});

describe('Πlog* (PDL with range)', () => {
  const sk = testPaillierKey();
  const rp = testRingPedersen();
  const x = randomScalar(rng, CURVE_ORDER);
  const X = G.multiply(x);
  const { c, r } = encrypt(sk, x, rng);
  const st = { pk: sk, c, x: X, rp };

  it('verifies, also after a wire round trip', () => {
    const proof = provePaillierDlog(ctx, st, { x, rho: r }, rng);
    verifyPaillierDlog(ctx, st, parsePaillierDlog(paillierDlogToWire(proof), 2048));
  });

  it('rejects a ciphertext of a different value (wrong PDL)', () => {
    const other = encrypt(sk, x + 1n, rng);
    const proof = provePaillierDlog(ctx, { ...st, c: other.c }, { x, rho: other.r }, rng);
    expect(() => verifyPaillierDlog(ctx, { ...st, c: other.c }, proof)).toThrow(
      /Paillier equation/,
    );
  });

  it('rejects a point that is not x·G', () => {
    const proof = provePaillierDlog(ctx, st, { x, rho: r }, rng);
    expect(() => verifyPaillierDlog(ctx, { ...st, x: X.add(G) }, proof)).toThrow();
  });

  it('rejects an out-of-range plaintext (x ≡ dlog mod q but huge)', () => {
    const huge = x + CURVE_ORDER * (1n << 600n);
    const enc = encrypt(sk, huge, rng);
    const stHuge = { ...st, c: enc.c };
    const proof = provePaillierDlog(ctx, stHuge, { x: huge, rho: enc.r }, rng);
    expect(() => verifyPaillierDlog(ctx, stHuge, proof)).toThrow(/range/);
  });

  it('rejects a tampered response and another session', () => {
    const proof = provePaillierDlog(ctx, st, { x, rho: r }, rng);
    expect(() => verifyPaillierDlog(ctx, st, { ...proof, z3: proof.z3 + 1n })).toThrow();
    expect(() => verifyPaillierDlog(other, st, proof)).toThrow();
  });
});

describe('noble agrees with our curve helpers', () => {
  it('G is secp256k1 base point', () => {
    expect(G.equals(secp256k1.Point.BASE)).toBe(true);
    expect(paillierSecretKey).toBeTypeOf('function');
  });
});
