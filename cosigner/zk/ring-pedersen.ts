/**
 * Ring-Pedersen parameters (N̂, s, t) and Πprm, their proof (CGGMP ePrint 2021/060 §C.4): the
 * verifier of Πfac and Πlog* (here the client) generates them, so the prover (the server) cannot
 * choose a modulus whose order it knows — TSSHOCK's "never let the prover pick Ñ". Πprm shows
 * s ∈ ⟨t⟩, so the commitments s^x·t^r hide x from the server's point of view and bind it to the
 * client's. 80 binary repetitions.
 */
import { bitLength, gcd, mod, modInverse } from '../bigint.ts';
import { proofFailed } from '../errors.ts';
import { modPow, modPowPublic, modPowPublicSigned } from '../modexp.ts';
import { type RandomBytes, randomBelow, randomUnit } from '../random.ts';
import { field, intToWire, parseArray, parseWireInt } from '../wire.ts';
import { type ProofContext, proofTranscript, REPETITIONS } from './context.ts';

export interface RingPedersen {
  readonly nHat: bigint;
  readonly s: bigint;
  readonly t: bigint;
}

export interface RingPedersenSecret extends RingPedersen {
  readonly phi: bigint;
  readonly lambda: bigint;
}

/** From two safe primes chosen by the caller (pure given rng). */
export function ringPedersenFromPrimes(p: bigint, q: bigint, rng: RandomBytes): RingPedersenSecret {
  if (p === q) throw new RangeError('ring-Pedersen primes must differ');
  const nHat = p * q;
  const phi = (p - 1n) * (q - 1n);
  const tau = randomUnit(rng, nHat);
  const t = (tau * tau) % nHat;
  const lambda = randomBelow(rng, phi);
  return { nHat, s: modPow(t, lambda, nHat), t, phi, lambda };
}

export interface RingPedersenProof {
  readonly a: readonly bigint[];
  readonly z: readonly bigint[];
}

function challengeBits(ctx: ProofContext, rp: RingPedersen, a: readonly bigint[]): boolean[] {
  const bytes = proofTranscript('pi-prm', ctx)
    .appendInt('Nhat', rp.nHat)
    .appendInt('s', rp.s)
    .appendInt('t', rp.t)
    .appendInts('A', a)
    .challengeBytes('e', Math.ceil(REPETITIONS / 8));
  return Array.from(
    { length: REPETITIONS },
    (_, i) => (((bytes[i >> 3] as number) >> (i & 7)) & 1) === 1,
  );
}

export function proveRingPedersen(
  ctx: ProofContext,
  rp: RingPedersenSecret,
  rng: RandomBytes,
): RingPedersenProof {
  const alphas = Array.from({ length: REPETITIONS }, () => randomBelow(rng, rp.phi));
  const a = alphas.map((alpha) => modPow(rp.t, alpha, rp.nHat));
  const e = challengeBits(ctx, rp, a);
  const z = alphas.map((alpha, i) => mod(alpha + (e[i] ? rp.lambda : 0n), rp.phi));
  return { a, z };
}

export function assertRingPedersenShape(rp: RingPedersen, minBits: number): void {
  const fail = (why: string) => proofFailed(`ring-Pedersen parameters: ${why}`);
  if (bitLength(rp.nHat) < minBits) throw fail(`N̂ has fewer than ${minBits} bits`);
  if (rp.nHat % 2n === 0n) throw fail('N̂ is even');
  for (const [name, v] of [
    ['s', rp.s],
    ['t', rp.t],
  ] as const) {
    if (v <= 1n || v >= rp.nHat || gcd(v, rp.nHat) !== 1n) throw fail(`${name} is not a unit ≠ 1`);
  }
  if (rp.s === rp.t) throw fail('s equals t');
}

export function verifyRingPedersen(
  ctx: ProofContext,
  rp: RingPedersen,
  proof: RingPedersenProof,
  minBits: number,
): void {
  assertRingPedersenShape(rp, minBits);
  if (proof.a.length !== REPETITIONS || proof.z.length !== REPETITIONS) {
    throw proofFailed(`ring-Pedersen proof: expected ${REPETITIONS} repetitions`);
  }
  const e = challengeBits(ctx, rp, proof.a);
  proof.a.forEach((a, i) => {
    const z = proof.z[i] as bigint;
    if (a <= 0n || a >= rp.nHat || gcd(a, rp.nHat) !== 1n || z < 0n || z >= rp.nHat) {
      throw proofFailed(`ring-Pedersen proof: value ${i} out of range`);
    }
    const rhs = e[i] ? (a * rp.s) % rp.nHat : a;
    if (modPowPublic(rp.t, z, rp.nHat) !== rhs)
      throw proofFailed(`ring-Pedersen proof fails at ${i}`);
  });
}

export interface RingPedersenWire {
  nHat: string;
  s: string;
  t: string;
  proof: { a: string[]; z: string[] };
}

export function ringPedersenToWire(rp: RingPedersen, proof: RingPedersenProof): RingPedersenWire {
  return {
    nHat: intToWire(rp.nHat),
    s: intToWire(rp.s),
    t: intToWire(rp.t),
    proof: { a: proof.a.map(intToWire), z: proof.z.map(intToWire) },
  };
}

export function parseRingPedersen(
  value: unknown,
  maxBits: number,
): { rp: RingPedersen; proof: RingPedersenProof } {
  const p = field(value, 'proof');
  const int = (f: string, v: unknown) => parseWireInt(f, v, maxBits);
  return {
    rp: {
      nHat: int('ringPedersen.nHat', field(value, 'nHat')),
      s: int('ringPedersen.s', field(value, 's')),
      t: int('ringPedersen.t', field(value, 't')),
    },
    proof: {
      a: parseArray('ringPedersen.proof.a', field(p, 'a'), REPETITIONS, int),
      z: parseArray('ringPedersen.proof.z', field(p, 'z'), REPETITIONS, int),
    },
  };
}

/** s^a · t^b mod N̂ for exponents of any sign. */
export function pedersen(rp: RingPedersen, a: bigint, b: bigint): bigint {
  return mod(powSigned(rp.s, a, rp.nHat) * powSigned(rp.t, b, rp.nHat), rp.nHat);
}

export function powSigned(base: bigint, e: bigint, m: bigint): bigint {
  return e >= 0n ? modPow(base, e, m) : modPow(modInverse(base, m), -e, m);
}

/** pedersen for public exponents only (verifiers): the faster, not constant-time route. */
export function pedersenPublic(rp: RingPedersen, a: bigint, b: bigint): bigint {
  return mod(powSignedPublic(rp.s, a, rp.nHat) * powSignedPublic(rp.t, b, rp.nHat), rp.nHat);
}

export function powSignedPublic(base: bigint, e: bigint, m: bigint): bigint {
  return modPowPublicSigned(base, e, m);
}
