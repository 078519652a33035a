/**
 * The proofs of a split solve's segments before the final one (Chia's n-Wesolowski segments,
 * solver/plan.ts). Each starts as soon as its end element is stored: on a proof worker of its
 * own while the evaluation goes on, or on this thread once it is over. Each is persisted in the
 * checkpoint directory when done, and checked again (its B and its Wesolowski equation) when a
 * resumed solve loads it: a segment that fails is proved again, never emitted.
 */
import { bigintToBytes, bytesEqual, concatBytes, u64be } from '../bytes.ts';
import { B_BYTES, SEGMENT_BYTES } from '../class1024/verify.ts';
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';
import { verifyWesolowski } from '../wesolowski/index.ts';
import { type CheckpointStore, readRange } from './checkpoints.ts';
import type { SolvePlan } from './plan.ts';
import { proveSegment } from './prove-segment.ts';
import type { ProofWorkers } from './workers.ts';

/** Chia's segment bytes: u64be(iterations) ‖ B (33 bytes) ‖ π. */
function segmentHeader(iterations: number, B: bigint): Uint8Array {
  return concatBytes(u64be(iterations), bigintToBytes(B, B_BYTES));
}

/** Whether `bytes` are the proof of `iterations` squarings from x to y (B recomputed). */
function isSegmentOf<E>(
  group: VdfGroup<E>,
  iterations: number,
  x: E,
  y: E,
  bytes: Uint8Array,
): boolean {
  const header = segmentHeader(iterations, group.challengePrime(iterations, x, y));
  if (bytes.length !== SEGMENT_BYTES || !bytesEqual(bytes.subarray(0, header.length), header))
    return false;
  try {
    verifyWesolowski(group, iterations, x, y, group.decode(bytes.subarray(header.length)));
    return true;
  } catch (err) {
    if (err instanceof VdfError) return false;
    throw err;
  }
}

export interface SegmentProofsOptions<E> {
  group: VdfGroup<E>;
  native: boolean;
  plan: SolvePlan;
  store: CheckpointStore;
  /** One proof worker for a segment, or undefined: the segments are proved on this thread. */
  spawn: (() => ProofWorkers) | undefined;
  /** Called after every pass (it may throw to cancel: the solver's abort check). */
  onPass: () => void;
}

export class SegmentProofs<E> {
  readonly #o: SegmentProofsOptions<E>;
  readonly #count: number;
  readonly #started: boolean[];
  readonly #done: (Uint8Array | undefined)[];
  readonly #running: (Promise<Uint8Array> | undefined)[];
  readonly #passes: number[];
  /** Workers booted ahead of their segment's end (warmUp), one per segment. */
  readonly #booted: (ProofWorkers | undefined)[];
  readonly #workers: ProofWorkers[] = [];

  constructor(o: SegmentProofsOptions<E>) {
    this.#o = o;
    this.#count = o.plan.segments.length - 1;
    this.#started = new Array(this.#count).fill(false);
    this.#done = new Array(this.#count).fill(undefined);
    this.#running = new Array(this.#count).fill(undefined);
    this.#passes = new Array(this.#count).fill(0);
    this.#booted = new Array(this.#count).fill(undefined);
  }

  /**
   * Boots segment s's worker ahead of its end (≈ 0.5 s under tsx, and it verifies the
   * checkpoints written so far), so its proof starts the moment y_s is stored.
   */
  warmUp(s: number): void {
    const { spawn } = this.#o;
    if (!spawn || this.#started[s] || this.#booted[s]) return;
    this.#booted[s] = spawn();
    this.#workers.push(this.#booted[s]);
  }

  /** Starts the proof of every segment whose end element is now stored (once each). */
  startReady(): void {
    const { plan, store, spawn } = this.#o;
    for (let s = 0; s < this.#count; s++) {
      if (this.#started[s] || store.count <= plan.segments[s + 1]!.firstCheckpoint) continue;
      this.#started[s] = true;
      const saved = store.loadResult(`segment-${s}`);
      if (saved && this.#isValid(s, saved)) {
        this.#done[s] = saved;
        void this.#booted[s]?.close();
        continue;
      }
      if (!spawn) continue;
      const workers = this.#booted[s] ?? spawn();
      if (!this.#booted[s]) this.#workers.push(workers);
      const running = this.#prove(s, workers).finally(() => workers.close());
      // Awaited in finish(); until then a cancelled solve's rejection must not go unhandled.
      running.catch(() => undefined);
      this.#running[s] = running;
    }
  }

  /** Passes of the segments' proofs still to run (the solver's progress after the evaluation). */
  passesLeft(): number {
    let left = 0;
    for (let s = 0; s < this.#count; s++)
      if (!this.#done[s]) left += this.#o.plan.segments[s]!.params.l - this.#passes[s]!;
    return left;
  }

  /** Every segment's bytes in evaluation order, proving here what no worker has. */
  async finish(): Promise<Uint8Array[]> {
    this.startReady();
    const out: Uint8Array[] = [];
    for (let s = 0; s < this.#count; s++)
      out.push(this.#done[s] ?? (await (this.#running[s] ?? this.#prove(s, undefined))));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
  }

  /** Segment s's start and end elements: store entries at its and the next one's C_0. */
  #ends(s: number): { x: E; y: E } {
    const { group, plan, store } = this.#o;
    const at = (i: number) => group.decode(readRange(store, i, 1, group.elementBytes));
    return {
      x: at(plan.segments[s]!.firstCheckpoint),
      y: at(plan.segments[s + 1]!.firstCheckpoint),
    };
  }

  #isValid(s: number, bytes: Uint8Array): boolean {
    const { x, y } = this.#ends(s);
    return isSegmentOf(this.#o.group, this.#o.plan.segments[s]!.iterations, x, y, bytes);
  }

  async #prove(s: number, workers: ProofWorkers | undefined): Promise<Uint8Array> {
    const { group, plan, store } = this.#o;
    const { x, y } = this.#ends(s);
    const { iterations } = plan.segments[s]!;
    const challenge = group.challengePrime(iterations, x, y);
    const onPass = () => {
      this.#passes[s]!++;
      this.#o.onPass();
    };
    const { native } = this.#o;
    const job = { group, native, plan, segment: s, challenge, store, onPass };
    const proof = await proveSegment(job, workers);
    const bytes = concatBytes(segmentHeader(iterations, challenge), group.encode(proof));
    store.saveResult(`segment-${s}`, bytes);
    this.#done[s] = bytes;
    return bytes;
  }
}
