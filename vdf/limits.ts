/**
 * Bounds checked before any work. T = 2^48 ≈ 2.8·10^14 covers a month against the RSA FPGA
 * estimate (4·10^13) with margin; verification cost does not grow with T (r = 2^T mod ℓ).
 */
import { VdfError } from './errors.ts';

export const MAX_ITERATIONS = 2 ** 48;
export const MAX_SEED_BYTES = 1024;

export function checkIterations(iterations: unknown): asserts iterations is number {
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations) || iterations < 1)
    throw new VdfError('VDF_OUT_OF_RANGE', 'iterations must be a positive integer');
  if (iterations > MAX_ITERATIONS)
    throw new VdfError('VDF_OUT_OF_RANGE', `iterations above the cap of ${MAX_ITERATIONS}`);
}

export function checkSeed(seed: Uint8Array): void {
  if (seed.length === 0) throw new VdfError('VDF_MALFORMED', 'seed is empty');
  if (seed.length > MAX_SEED_BYTES)
    throw new VdfError('VDF_OUT_OF_RANGE', `seed longer than ${MAX_SEED_BYTES} bytes`);
}
