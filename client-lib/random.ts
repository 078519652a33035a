import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Source of randomness, injectable so tests can be deterministic. */
export type RandomBytes = (n: number) => Uint8Array;

export const systemRandom: RandomBytes = (n) => new Uint8Array(nodeRandomBytes(n));
