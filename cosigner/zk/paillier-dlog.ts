/**
 * Πlog* (CGGMP ePrint 2021/060 §C.2), our PDL-with-range proof: the Paillier ciphertext C under
 * N0 encrypts the discrete log x of X = x·G, and |x| ≤ 2^(ℓ+ε). The client needs exactly this
 * before it trusts ckey = Enc(x_server): a ckey that decrypts to something else, or to a huge
 * value, would let the server learn the client's secrets from the last signing message.
 * Range soundness comes from the client's own ring-Pedersen parameters.
 */
import { abs, gcd, mod } from '../bigint.ts';
import { proofFailed } from '../errors.ts';
import { encryptWith, type PaillierPublicKey } from '../paillier.ts';
import { type RandomBytes, randomSigned, randomUnit } from '../random.ts';
import {
  CURVE_ORDER,
  field,
  G,
  intToWire,
  type Point,
  parsePoint,
  parseWireInt,
  pointToWire,
  scalarMod,
} from '../wire.ts';
import { ELL, EPSILON, type ProofContext, proofTranscript } from './context.ts';
import {
  pedersen,
  pedersenPublic,
  powSigned,
  powSignedPublic,
  type RingPedersen,
} from './ring-pedersen.ts';

export interface PaillierDlogStatement {
  readonly pk: PaillierPublicKey;
  readonly c: bigint;
  readonly x: Point;
  readonly rp: RingPedersen;
}

export interface PaillierDlogProof {
  readonly S: bigint;
  readonly A: bigint;
  readonly Y: Point;
  readonly D: bigint;
  readonly z1: bigint;
  readonly z2: bigint;
  readonly z3: bigint;
}

function challenge(
  ctx: ProofContext,
  st: PaillierDlogStatement,
  S: bigint,
  A: bigint,
  Y: Point,
  D: bigint,
): bigint {
  return (
    proofTranscript('pi-log-star', ctx)
      .appendInt('N0', st.pk.n)
      .appendInt('C', st.c)
      .appendBytes('X', st.x.toBytes(true))
      .appendInts('ring-pedersen', [st.rp.nHat, st.rp.s, st.rp.t])
      .appendInts('S,A,D', [S, A, D])
      .appendBytes('Y', Y.toBytes(true))
      .challengeBelow('e', 2n * CURVE_ORDER + 1n) - CURVE_ORDER
  );
}

/** Proves C = Enc(x; rho) and X = x·G for the secret x (|x| ≤ 2^ℓ) and Paillier randomness rho. */
export function provePaillierDlog(
  ctx: ProofContext,
  st: PaillierDlogStatement,
  witness: { x: bigint; rho: bigint },
  rng: RandomBytes,
): PaillierDlogProof {
  const { pk, rp } = st;
  const alpha = randomSigned(rng, 1n << (ELL + EPSILON));
  const mu = randomSigned(rng, (1n << ELL) * rp.nHat);
  const r = randomUnit(rng, pk.n);
  const gamma = randomSigned(rng, (1n << (ELL + EPSILON)) * rp.nHat);
  const S = pedersen(rp, witness.x, mu);
  const A = encryptWith(pk, alpha, r);
  // alpha ≡ 0 (mod q) has probability 2^-256; noble's constant-time multiply rejects it.
  const Y = G.multiply(scalarMod(alpha));
  const D = pedersen(rp, alpha, gamma);
  const e = challenge(ctx, st, S, A, Y, D);
  return {
    S,
    A,
    Y,
    D,
    z1: alpha + e * witness.x,
    z2: mod(r * powSigned(witness.rho, e, pk.n), pk.n),
    z3: gamma + e * mu,
  };
}

export function verifyPaillierDlog(
  ctx: ProofContext,
  st: PaillierDlogStatement,
  proof: PaillierDlogProof,
): void {
  const fail = (why: string) => proofFailed(`Paillier encryption-vs-dlog proof: ${why}`);
  const { pk, rp } = st;
  if (abs(proof.z1) > 1n << (ELL + EPSILON)) throw fail('z1 out of range (plaintext too large)');
  if (proof.A <= 0n || proof.A >= pk.n2 || gcd(proof.A, pk.n) !== 1n) throw fail('A is not a unit');
  if (proof.z2 <= 0n || proof.z2 >= pk.n || gcd(proof.z2, pk.n) !== 1n)
    throw fail('z2 is not a unit');
  for (const [name, v] of [
    ['S', proof.S],
    ['D', proof.D],
  ] as const) {
    if (v <= 0n || v >= rp.nHat || gcd(v, rp.nHat) !== 1n) throw fail(`${name} is not a unit`);
  }
  const e = challenge(ctx, st, proof.S, proof.A, proof.Y, proof.D);
  if (
    encryptWith(pk, proof.z1, proof.z2) !== mod(proof.A * powSignedPublic(st.c, e, pk.n2), pk.n2)
  ) {
    throw fail('the Paillier equation does not hold');
  }
  const lhs = G.multiplyUnsafe(scalarMod(proof.z1));
  const rhs = proof.Y.add(st.x.multiplyUnsafe(scalarMod(e)));
  if (!lhs.equals(rhs)) throw fail('the curve equation does not hold');
  if (
    pedersenPublic(rp, proof.z1, proof.z3) !==
    mod(proof.D * powSignedPublic(proof.S, e, rp.nHat), rp.nHat)
  ) {
    throw fail('the ring-Pedersen equation does not hold');
  }
}

export interface PaillierDlogWire {
  S: string;
  A: string;
  Y: string;
  D: string;
  z1: string;
  z2: string;
  z3: string;
}

export function paillierDlogToWire(p: PaillierDlogProof): PaillierDlogWire {
  return {
    S: intToWire(p.S),
    A: intToWire(p.A),
    Y: pointToWire(p.Y),
    D: intToWire(p.D),
    z1: intToWire(p.z1),
    z2: intToWire(p.z2),
    z3: intToWire(p.z3),
  };
}

export function parsePaillierDlog(value: unknown, modulusBits: number): PaillierDlogProof {
  const big = 2 * modulusBits + 64;
  const int = (k: string, bits: number) => parseWireInt(`piLog.${k}`, field(value, k), bits, true);
  return {
    S: int('S', big),
    A: int('A', big),
    Y: parsePoint('piLog.Y', field(value, 'Y')),
    D: int('D', big),
    z1: int('z1', Number(ELL + EPSILON) + 2),
    z2: int('z2', big),
    z3: int('z3', big + Number(ELL * 2n + EPSILON)),
  };
}
