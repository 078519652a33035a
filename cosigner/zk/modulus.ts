/**
 * Πmod, the Paillier–Blum modulus proof (CGGMP, ePrint 2021/060 §C.1 / 2020/492 §4.3): N is a
 * product of two primes ≡ 3 mod 4 with gcd(N, φ(N)) = 1. BitForge (CVE-2023-33241) extracted keys
 * from peers whose Paillier modulus was never proven; this, with Πfac, closes that door.
 */
import { bitLength, gcd, jacobi, mod, modInverse } from '../bigint.ts';
import { proofFailed } from '../errors.ts';
import { modPow, modPowPublic } from '../modexp.ts';
import type { PaillierSecretKey } from '../paillier.ts';
import { type RandomBytes, randomUnit } from '../random.ts';
import { Transcript } from '../transcript.ts';
import { field, intToWire, parseArray, parseWireInt } from '../wire.ts';
import { REPETITIONS } from './context.ts';

export interface ModulusProof {
  readonly w: bigint;
  readonly x: readonly bigint[];
  readonly a: readonly boolean[];
  readonly b: readonly boolean[];
  readonly z: readonly bigint[];
}

/**
 * The proof is about N alone, so it is bound to N and the owner label rather than to a session:
 * that lets a key pool compute it off the request path. Replaying it proves nothing new (only the
 * holder of the factors can decrypt under N).
 */
function challenges(owner: string, n: bigint, w: bigint): bigint[] {
  const t = new Transcript('vigil/cosigner/pi-mod/v1')
    .appendString('owner', owner)
    .appendInt('N', n)
    .appendInt('w', w);
  const ys: bigint[] = [];
  while (ys.length < REPETITIONS) {
    const y = t.challengeBelow('y', n);
    if (y !== 0n && gcd(y, n) === 1n) ys.push(y);
  }
  return ys;
}

function crt(sk: PaillierSecretKey, rp: bigint, rq: bigint): bigint {
  return rp + sk.p * mod((rq - rp) * modInverse(sk.p, sk.q), sk.q);
}

export function proveModulus(sk: PaillierSecretKey, owner: string, rng: RandomBytes): ModulusProof {
  const { n, p, q } = sk;
  let w: bigint;
  do w = randomUnit(rng, n);
  while (jacobi(w, n) !== -1);
  const ys = challenges(owner, n, w);
  const fourthP = ((p + 1n) / 4n) ** 2n % (p - 1n);
  const fourthQ = ((q + 1n) / 4n) ** 2n % (q - 1n);
  const nInvP = modInverse(n, p - 1n);
  const nInvQ = modInverse(n, q - 1n);
  const xs: bigint[] = [];
  const as: boolean[] = [];
  const bs: boolean[] = [];
  const zs: bigint[] = [];
  for (const y of ys) {
    let found = false;
    for (const a of [false, true]) {
      for (const b of [false, true]) {
        if (found) continue;
        let v = b ? mod(w * y, n) : y;
        if (a) v = mod(-v, n);
        if (jacobi(v, p) === 1 && jacobi(v, q) === 1) {
          xs.push(crt(sk, modPow(v, fourthP, p), modPow(v, fourthQ, q)));
          as.push(a);
          bs.push(b);
          found = true;
        }
      }
    }
    if (!found) throw new RangeError('N is not a Blum modulus');
    zs.push(crt(sk, modPow(y, nInvP, p), modPow(y, nInvQ, q)));
  }
  return { w, x: xs, a: as, b: bs, z: zs };
}

/** Deterministic Miller–Rabin with transcript-derived bases; enough to reject a prime N. */
function isProbablyPrime(n: bigint): boolean {
  if (n < 4n) return n === 2n || n === 3n;
  if (n % 2n === 0n) return false;
  let d = n - 1n;
  let s = 0;
  while (d % 2n === 0n) {
    d /= 2n;
    s++;
  }
  const t = new Transcript('vigil/cosigner/miller-rabin/v1').appendInt('n', n);
  for (let i = 0; i < 32; i++) {
    const a = 2n + t.challengeBelow('base', n - 3n);
    let x = modPowPublic(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

export function verifyModulus(
  n: bigint,
  owner: string,
  proof: ModulusProof,
  minBits: number,
): void {
  const fail = (why: string) => proofFailed(`Paillier–Blum modulus proof: ${why}`);
  if (bitLength(n) < minBits) throw fail(`N has fewer than ${minBits} bits`);
  if (n % 2n === 0n) throw fail('N is even');
  if (isProbablyPrime(n)) throw fail('N is prime');
  const { w } = proof;
  if (w <= 0n || w >= n || gcd(w, n) !== 1n || jacobi(w, n) !== -1) {
    throw fail('w is not a unit of Jacobi symbol -1');
  }
  if (
    proof.x.length !== REPETITIONS ||
    proof.a.length !== REPETITIONS ||
    proof.b.length !== REPETITIONS ||
    proof.z.length !== REPETITIONS
  ) {
    throw fail(`expected ${REPETITIONS} repetitions`);
  }
  const ys = challenges(owner, n, w);
  ys.forEach((y, i) => {
    const x = proof.x[i] as bigint;
    const z = proof.z[i] as bigint;
    if (x <= 0n || x >= n || z <= 0n || z >= n) throw fail(`response ${i} out of range`);
    // z^N = z^(N−1)·z: OpenSSL's public operation takes exponents below the modulus only.
    if (mod(modPowPublic(z, n - 1n, n) * z, n) !== y) throw fail(`z^N ≠ y at ${i}`);
    let v = proof.b[i] ? mod(w * y, n) : y;
    if (proof.a[i]) v = mod(-v, n);
    const x2 = (x * x) % n;
    if ((x2 * x2) % n !== v) throw fail(`x^4 ≠ ±w^b·y at ${i}`);
  });
}

export interface ModulusProofWire {
  w: string;
  x: string[];
  ab: string;
  z: string[];
}

export function modulusProofToWire(p: ModulusProof): ModulusProofWire {
  const ab = p.a.map((a, i) => (a ? 2 : 0) + (p.b[i] ? 1 : 0)).join('');
  return { w: intToWire(p.w), x: p.x.map(intToWire), ab, z: p.z.map(intToWire) };
}

export function parseModulusProof(value: unknown, maxBits: number): ModulusProof {
  const ab = field(value, 'ab');
  if (typeof ab !== 'string' || !/^[0-3]*$/.test(ab) || ab.length !== REPETITIONS) {
    throw proofFailed('Paillier–Blum modulus proof: malformed a/b bits');
  }
  const digits = [...ab].map(Number);
  return {
    w: parseWireInt('piMod.w', field(value, 'w'), maxBits),
    x: parseArray('piMod.x', field(value, 'x'), REPETITIONS, (f, v) => parseWireInt(f, v, maxBits)),
    a: digits.map((d) => d >= 2),
    b: digits.map((d) => d % 2 === 1),
    z: parseArray('piMod.z', field(value, 'z'), REPETITIONS, (f, v) => parseWireInt(f, v, maxBits)),
  };
}
