/**
 * A pool of pre-generated Paillier keys with their Πmod, refilled off the request path. This is a
 * shell (it uses timers, threads and node:crypto randomness); the protocol cores take a key from
 * it as an input. With `worker: true` refills run in a worker thread, so the event loop never
 * stalls on a key; otherwise one key per macrotask on the main thread. A take() on an empty pool
 * returns nothing: a 2048-bit prime search with its Πmod takes a second of CPU, so a server that
 * generated on the request path could be stalled by anyone able to start a keygen (issue 11). The
 * caller answers "retry later" (retryAfterSeconds) while the refill runs.
 */
import { Worker } from 'node:worker_threads';
import { provePaillierKey } from './ecdsa2p/setup.ts';
import type { ProvenPaillierKey } from './ecdsa2p/types.ts';
import { generatePaillierKey } from './primes.ts';
import { systemRandom } from './random.ts';

export function generateProvenPaillierKey(bits = 2048): ProvenPaillierKey {
  return provePaillierKey(generatePaillierKey(bits), systemRandom);
}

export class PaillierKeyPool {
  readonly #keys: ProvenPaillierKey[] = [];
  readonly #target: number;
  readonly #bits: number;
  readonly #useWorker: boolean;
  readonly #idleMs: number;
  readonly #now: () => number;
  #lastTake = Number.NEGATIVE_INFINITY;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #worker: Worker | undefined;
  #inFlight = false;
  #stopped = false;
  /** How long the last key took to make (the retry hint for callers that found the pool empty). */
  #lastGenerationMs = 2000;
  #generationStarted = 0;

  constructor(opts: {
    target: number;
    bits?: number;
    worker?: boolean;
    /**
     * Worker refills wait until no key was taken for this long, unless the pool is below half its
     * target: a burst of keygens is not slowed by a prime search competing for the CPU.
     */
    idleMs?: number;
    now?: () => number;
  }) {
    this.#target = opts.target;
    this.#bits = opts.bits ?? 2048;
    this.#useWorker = opts.worker ?? false;
    this.#idleMs = opts.idleMs ?? 0;
    this.#now = opts.now ?? Date.now;
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
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#inFlight = false;
  }

  /** Fills the pool now (blocking); for start-up and benches. */
  fill(): void {
    while (this.#keys.length < this.#target) this.#keys.push(generateProvenPaillierKey(this.#bits));
  }

  /** A key used by nobody else, or undefined when the pool is empty (it is never made here). */
  take(): ProvenPaillierKey | undefined {
    this.#lastTake = this.#now();
    const key = this.#keys.shift();
    this.#schedule();
    return key;
  }

  /** Whole seconds a caller that found the pool empty should wait: about one key's making. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#lastGenerationMs / 1000));
  }

  #schedule(): void {
    if (this.#useWorker) {
      this.#scheduleWorker();
      return;
    }
    if (this.#stopped || this.#timer || this.#keys.length >= this.#target) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      const started = performance.now();
      this.#keys.push(generateProvenPaillierKey(this.#bits));
      this.#lastGenerationMs = performance.now() - started;
      this.#schedule();
    }, 0);
    this.#timer.unref?.();
  }

  #scheduleWorker(): void {
    if (this.#stopped || this.#inFlight || this.#keys.length >= this.#target) return;
    const quietFor = this.#now() - this.#lastTake;
    if (this.#keys.length * 2 >= this.#target && quietFor < this.#idleMs) {
      if (!this.#idleTimer) {
        this.#idleTimer = setTimeout(() => {
          this.#idleTimer = undefined;
          this.#scheduleWorker();
        }, this.#idleMs - quietFor);
        this.#idleTimer.unref?.();
      }
      return;
    }
    if (!this.#worker) {
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: { entry: new URL('./paillier-worker.ts', import.meta.url).href },
      });
      worker.unref();
      worker.on('message', (key: ProvenPaillierKey) => {
        this.#inFlight = false;
        this.#lastGenerationMs = performance.now() - this.#generationStarted;
        if (this.#stopped) return;
        this.#keys.push(key);
        this.#scheduleWorker();
      });
      worker.on('error', () => {
        // A failed worker is replaced on the next refill; take() still works without it.
        this.#inFlight = false;
        this.#worker = undefined;
      });
      this.#worker = worker;
    }
    this.#inFlight = true;
    this.#generationStarted = performance.now();
    this.#worker.postMessage(this.#bits);
  }
}
