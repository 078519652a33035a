/**
 * Precomputed Paillier encryption masks r^N mod N² for the client's signing message: the one
 * full-size exponentiation of a signature (two thirds of its cost) does not depend on the message,
 * so a device can compute masks while idle. Each mask is handed out once and forgotten — two
 * ciphertexts under one mask reveal the difference of their plaintexts.
 */
import { mod } from '../bigint.ts';
import { modPow } from '../modexp.ts';
import { type PaillierPublicKey, paillierPublicKey } from '../paillier.ts';
import { type RandomBytes, randomUnit } from '../random.ts';

/** r^N mod N² for a fresh unit r. */
export function encryptionMask(pk: PaillierPublicKey, rng: RandomBytes): bigint {
  return modPow(randomUnit(rng, pk.n), pk.n, pk.n2);
}

/** (1 + N)^m · mask mod N²: encryption under a precomputed mask. */
export function encryptWithMask(pk: PaillierPublicKey, m: bigint, mask: bigint): bigint {
  return mod(mod(1n + mod(m, pk.n) * pk.n, pk.n2) * mask, pk.n2);
}

export class EncryptionMaskPool {
  readonly paillierN: bigint;
  readonly #pk: PaillierPublicKey;
  readonly #rng: RandomBytes;
  readonly #masks: bigint[] = [];

  constructor(opts: { paillierN: bigint; rng: RandomBytes }) {
    this.paillierN = opts.paillierN;
    this.#pk = paillierPublicKey(opts.paillierN);
    this.#rng = opts.rng;
  }

  get size(): number {
    return this.#masks.length;
  }

  /** Computes masks until `count` are ready (call while idle). */
  fill(count: number): void {
    while (this.#masks.length < count) this.#masks.push(encryptionMask(this.#pk, this.#rng));
  }

  /** A mask nobody else gets; computed on the spot when the pool is empty. */
  take(): bigint {
    return this.#masks.pop() ?? encryptionMask(this.#pk, this.#rng);
  }
}
