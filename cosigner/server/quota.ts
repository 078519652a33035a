/**
 * Token buckets keyed by a principal (a wallet id, a client address): how many costly operations
 * each may start. A bucket holds up to `perHour` tokens and refills at `perHour` an hour, so a
 * principal may use its allowance at once and then one per 3600/perHour seconds. Pure: the clock
 * is an argument. Memory is bounded: full buckets carry no information and are forgotten, and
 * beyond `maxKeys` the oldest bucket is dropped (an attacker with that many addresses gains no
 * more than it already had: one fresh allowance per address).
 */

const HOUR_MS = 3_600_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class Quota {
  readonly perHour: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor(opts: { perHour: number; maxKeys?: number }) {
    this.perHour = opts.perHour;
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  #tokens(key: string, now: number): number {
    const b = this.#buckets.get(key);
    if (!b) return this.perHour;
    // multiply before dividing: whole hours give whole tokens, exactly
    return Math.min(this.perHour, b.tokens + (Math.max(0, now - b.at) * this.perHour) / HOUR_MS);
  }

  /** Milliseconds until `key` may start one more operation (0: now). Changes nothing. */
  waitMs(key: string, now: number): number {
    const tokens = this.#tokens(key, now);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * HOUR_MS) / this.perHour);
  }

  /** Spends one token of `key` (call after waitMs said 0). */
  spend(key: string, now: number): void {
    const tokens = this.#tokens(key, now) - 1;
    this.#buckets.delete(key); // re-inserted last: the map's order is least recently used first
    this.#buckets.set(key, { tokens, at: now });
    if (this.#buckets.size > this.#maxKeys) this.#sweep(now);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [k] of this.#buckets) {
      if (this.#tokens(k, now) >= this.perHour) this.#buckets.delete(k);
    }
    for (const [k] of this.#buckets) {
      if (this.#buckets.size <= this.#maxKeys) break;
      this.#buckets.delete(k);
    }
  }
}
