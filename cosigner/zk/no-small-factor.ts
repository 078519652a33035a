/**
 * Πfac, the no-small-factor proof (CGGMP ePrint 2021/060 §C.5): both factors of the Paillier
 * modulus N0 exceed 2^ℓ, shown against the verifier's ring-Pedersen parameters. Together with
 * Πmod this is the modulus validation BitForge found missing.
 */
import { abs, gcd, isqrt, mod } from '../bigint.ts';
import { proofFailed } from '../errors.ts';
import type { PaillierSecretKey } from '../paillier.ts';
import { type RandomBytes, randomSigned } from '../random.ts';
import { CURVE_ORDER, field, intToWire, parseWireInt } from '../wire.ts';
import { ELL, EPSILON, type ProofContext, proofTranscript } from './context.ts';
import {
  pedersen,
  pedersenPublic,
  powSigned,
  powSignedPublic,
  type RingPedersen,
} from './ring-pedersen.ts';

export interface NoSmallFactorProof {
  readonly P: bigint;
  readonly Q: bigint;
  readonly A: bigint;
  readonly B: bigint;
  readonly T: bigint;
  readonly sigma: bigint;
  readonly z1: bigint;
  readonly z2: bigint;
  readonly w1: bigint;
  readonly w2: bigint;
  readonly v: bigint;
}

type Commitments = Pick<NoSmallFactorProof, 'P' | 'Q' | 'A' | 'B' | 'T' | 'sigma'>;

function challenge(ctx: ProofContext, n0: bigint, rp: RingPedersen, c: Commitments): bigint {
  return (
    proofTranscript('pi-fac', ctx)
      .appendInt('N0', n0)
      .appendInt('Nhat', rp.nHat)
      .appendInt('s', rp.s)
      .appendInt('t', rp.t)
      .appendInts('commitments', [c.P, c.Q, c.A, c.B, c.T, c.sigma])
      .challengeBelow('e', 2n * CURVE_ORDER + 1n) - CURVE_ORDER
  );
}

export function proveNoSmallFactor(
  ctx: ProofContext,
  sk: PaillierSecretKey,
  rp: RingPedersen,
  rng: RandomBytes,
): NoSmallFactorProof {
  const { n: n0, p, q } = sk;
  const rootN0 = isqrt(n0) + 1n;
  const le = 1n << (ELL + EPSILON);
  const l = 1n << ELL;
  const alpha = randomSigned(rng, le * rootN0);
  const beta = randomSigned(rng, le * rootN0);
  const mu = randomSigned(rng, l * rp.nHat);
  const nu = randomSigned(rng, l * rp.nHat);
  const sigma = randomSigned(rng, l * n0 * rp.nHat);
  const r = randomSigned(rng, le * n0 * rp.nHat);
  const x = randomSigned(rng, le * rp.nHat);
  const y = randomSigned(rng, le * rp.nHat);
  const P = pedersen(rp, p, mu);
  const Q = pedersen(rp, q, nu);
  const A = pedersen(rp, alpha, x);
  const B = pedersen(rp, beta, y);
  const T = mod(powSigned(Q, alpha, rp.nHat) * powSigned(rp.t, r, rp.nHat), rp.nHat);
  const e = challenge(ctx, n0, rp, { P, Q, A, B, T, sigma });
  const sigmaHat = sigma - nu * p;
  return {
    P,
    Q,
    A,
    B,
    T,
    sigma,
    z1: alpha + e * p,
    z2: beta + e * q,
    w1: x + e * mu,
    w2: y + e * nu,
    v: r + e * sigmaHat,
  };
}

export function verifyNoSmallFactor(
  ctx: ProofContext,
  n0: bigint,
  rp: RingPedersen,
  proof: NoSmallFactorProof,
): void {
  const fail = (why: string) => proofFailed(`no-small-factor proof: ${why}`);
  const m = rp.nHat;
  for (const [name, v] of Object.entries({
    P: proof.P,
    Q: proof.Q,
    A: proof.A,
    B: proof.B,
    T: proof.T,
  })) {
    if (v <= 0n || v >= m || gcd(v, m) !== 1n) throw fail(`${name} is not a unit mod N̂`);
  }
  const bound = (isqrt(n0) + 1n) << (ELL + EPSILON);
  if (abs(proof.z1) > bound || abs(proof.z2) > bound) throw fail('z1 or z2 out of range');
  const e = challenge(ctx, n0, rp, proof);
  const R = pedersenPublic(rp, n0, proof.sigma);
  const check = (lhs: bigint, rhs: bigint, what: string) => {
    if (lhs !== rhs) throw fail(`${what} does not hold`);
  };
  check(
    pedersenPublic(rp, proof.z1, proof.w1),
    mod(proof.A * powSignedPublic(proof.P, e, m), m),
    'equation 1',
  );
  check(
    pedersenPublic(rp, proof.z2, proof.w2),
    mod(proof.B * powSignedPublic(proof.Q, e, m), m),
    'equation 2',
  );
  check(
    mod(powSignedPublic(proof.Q, proof.z1, m) * powSignedPublic(rp.t, proof.v, m), m),
    mod(proof.T * powSignedPublic(R, e, m), m),
    'equation 3',
  );
}

export type NoSmallFactorWire = Record<keyof NoSmallFactorProof, string>;

const KEYS = ['P', 'Q', 'A', 'B', 'T', 'sigma', 'z1', 'z2', 'w1', 'w2', 'v'] as const;

export function noSmallFactorToWire(p: NoSmallFactorProof): NoSmallFactorWire {
  return Object.fromEntries(KEYS.map((k) => [k, intToWire(p[k])])) as NoSmallFactorWire;
}

export function parseNoSmallFactor(value: unknown, modulusBits: number): NoSmallFactorProof {
  // Generous bound: the largest honest value (v) is about 2ℓ+ε+log N0+log N̂ bits.
  const maxBits = Number(ELL * 2n + EPSILON) + 2 * modulusBits + 64;
  const out = Object.fromEntries(
    KEYS.map((k) => [k, parseWireInt(`piFac.${k}`, field(value, k), maxBits, true)]),
  ) as unknown as NoSmallFactorProof;
  return out;
}
