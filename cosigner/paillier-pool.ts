/**
 * A pool of pre-generated Paillier keys with their Πmod, refilled off the request path. This is a
 * shell (it uses timers and node:crypto randomness); the protocol cores take a key from it as an
 * input. Refilling runs one key per macrotask so the event loop keeps serving requests between
 * keys; a take() on an empty pool generates synchronously (the "cold" path the bench measures).
 */
import { randomBytes } from 'node:crypto';
import { provePaillierKey } from './ecdsa2p/setup.ts';
import type { ProvenPaillierKey } from './ecdsa2p/types.ts';
import { generatePaillierKey } from './primes.ts';

const rng = (n: number) => new Uint8Array(randomBytes(n));

export function generateProvenPaillierKey(bits = 2048): ProvenPaillierKey {
  return provePaillierKey(generatePaillierKey(bits), rng);
}

export class PaillierKeyPool {
  readonly #keys: ProvenPaillierKey[] = [];
  readonly #target: number;
  readonly #bits: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(opts: { target: number; bits?: number }) {
    this.#target = opts.target;
    this.#bits = opts.bits ?? 2048;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Starts background refilling. */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Fills the pool now (blocking); for start-up and benches. */
  fill(): void {
    while (this.#keys.length < this.#target) this.#keys.push(generateProvenPaillierKey(this.#bits));
  }

  /** A key used by nobody else; generated on the spot if the pool is empty. */
  take(): ProvenPaillierKey {
    const key = this.#keys.shift() ?? generateProvenPaillierKey(this.#bits);
    this.#schedule();
    return key;
  }

  #schedule(): void {
    if (this.#stopped || this.#timer || this.#keys.length >= this.#target) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#keys.push(generateProvenPaillierKey(this.#bits));
      this.#schedule();
    }, 0);
    this.#timer.unref?.();
  }
}
