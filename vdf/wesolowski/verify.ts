/** Wesolowski verification: π^ℓ · x^(2^T mod ℓ) == y, with ℓ recomputed from (T, x, y). */
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';

export function pow2Mod(exponent: number, modulus: bigint): bigint {
  let result = 1n;
  let base = 2n % modulus;
  let e = BigInt(exponent);
  while (e > 0n) {
    if (e & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    e >>= 1n;
  }
  return result;
}

/** Throws VdfError('VDF_INVALID_PROOF') when the decoded proof does not verify. */
export function verifyWesolowski<E>(
  group: VdfGroup<E>,
  iterations: number,
  x: E,
  y: E,
  proof: E,
): void {
  const challenge = group.challengePrime(iterations, x, y);
  const r = pow2Mod(iterations, challenge);
  const lhs = group.mul(group.pow(proof, challenge), group.pow(x, r));
  if (!group.equal(lhs, y))
    throw new VdfError(
      'VDF_INVALID_PROOF',
      `${group.name}: proof does not verify (pi^l * x^r != y)`,
    );
}
