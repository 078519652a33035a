/**
 * The proof's j-passes split over worker threads (the machine's second core): worker w computes
 * H_w over its range of j from the on-disk checkpoints, and the ranges combine by Horner.
 */
import { Worker } from 'node:worker_threads';
import { fromHexStrict } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import { combineRanges, type ProofParams } from '../wesolowski/index.ts';
import type { SegmentProofJob } from './prove-segment.ts';

/**
 * Below this T a worker's start-up (≈ 0.5 s under tsx) costs more than it saves: about 3 s of
 * evaluation either way (rsa2048 ≈ 1.4M squarings/s; class1024 ≈ 60–100K/s natively, and its
 * proof, per product a NUCOMP call, is a larger share of the run).
 */
const WORKER_MIN_ITERATIONS: Record<GroupName, number> = { rsa2048: 2 ** 22, class1024: 2 ** 18 };

export function useWorkers(
  setting: 'auto' | 'never' | number | undefined,
  group: GroupName,
  iterations: number,
  params: ProofParams,
): boolean {
  if (params.l < 2 || setting === 'never') return false;
  if (typeof setting === 'number') return setting >= 2;
  return iterations >= WORKER_MIN_ITERATIONS[group];
}

/**
 * What a worker learns at start: the job whose checkpoints it opens (and verifies) early. It
 * derives the solve's plan (solvePlan) from T and the split, as the solver did.
 */
export interface WorkerJob {
  group: GroupName;
  seed: string;
  iterations: number;
  segmentAt: number | undefined;
  checkpointDir: string;
}

/** What it learns once ℓ is known: its range of one segment's passes. */
export interface WorkerTask {
  /** Index into the plan's segments. */
  segment: number;
  challenge: string;
  from: number;
  to: number;
  /** Use the native rsa2048 pass and class1024 operations when the worker can load them. */
  native: boolean;
}

export type WorkerInbound = { type: 'job'; job: WorkerJob } | { type: 'task'; task: WorkerTask };

export type WorkerMessage =
  | { type: 'pass' }
  | { type: 'done'; element: string }
  | { type: 'error'; code: string; message: string };

/**
 * Proof workers started ahead of their tasks: booting a worker (tsx, the modules, the addon)
 * takes ≈ 0.5 s, so the solver starts them in the evaluation's last seconds and the proof begins
 * the moment ℓ is known. Each worker gets the job at once (it opens the checkpoint directory and
 * verifies the segments written so far) and one task later.
 */
export class ProofWorkers {
  readonly #workers: Worker[];
  readonly #failures: (VdfError | undefined)[];

  constructor(count: number, job: WorkerJob) {
    this.#workers = Array.from(
      { length: count },
      () => new Worker(new URL('./prove-worker-boot.mjs', import.meta.url)),
    );
    for (const w of this.#workers) w.postMessage({ type: 'job', job } satisfies WorkerInbound);
    // A worker that dies before its task is reported when the task is given.
    this.#failures = this.#workers.map(() => undefined);
    this.#workers.forEach((worker, i) => {
      const early = (why: string) => {
        this.#failures[i] ??= new VdfError('VDF_CHECKPOINT', `proof worker failed: ${why}`);
      };
      worker.on('error', (err) => early(err.message));
      worker.on('exit', (code) => early(`exited with ${code}`));
    });
  }

  get size(): number {
    return this.#workers.length;
  }

  run(i: number, task: WorkerTask, onPass: () => void): Promise<Uint8Array> {
    const worker = this.#workers[i]!;
    const failed = this.#failures[i];
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        f();
      };
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'pass') {
          try {
            onPass();
          } catch (err) {
            settle(() => reject(err));
            void worker.terminate();
          }
        } else if (m.type === 'done') {
          settle(() => resolve(fromHexStrict(m.element)!));
        } else {
          settle(() => reject(new VdfError('VDF_CHECKPOINT', `proof worker failed: ${m.message}`)));
        }
      });
      worker.on('error', (err) =>
        settle(() => reject(new VdfError('VDF_CHECKPOINT', `proof worker failed: ${err.message}`))),
      );
      worker.on('exit', (code) =>
        settle(() => reject(new VdfError('VDF_CHECKPOINT', `proof worker exited with ${code}`))),
      );
      worker.postMessage({ type: 'task', task } satisfies WorkerInbound);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

export function proofWorkerCount(
  setting: 'auto' | 'never' | number | undefined,
  l: number,
): number {
  return typeof setting === 'number' ? Math.min(setting, l) : 2;
}

/** The job's segment, its passes dealt over the workers. */
export async function proveInWorkers<E>(
  { group, native, plan, segment, challenge, store, onPass }: SegmentProofJob<E>,
  workers: ProofWorkers,
): Promise<E> {
  const { params } = plan.segments[segment]!;
  store.flush();
  const count = workers.size;
  const bounds = Array.from({ length: count + 1 }, (_, i) => Math.round((i * params.l) / count));
  const shares = await Promise.all(
    bounds.slice(0, -1).map((from, i) =>
      workers.run(
        i,
        {
          segment,
          challenge: challenge.toString(16),
          from,
          to: bounds[i + 1]!,
          native,
        },
        onPass,
      ),
    ),
  );
  // Highest range first: acc = acc^(2^(k·width_below)) · H_below, walking down.
  let acc = group.decode(shares[count - 1]!);
  for (let i = count - 2; i >= 0; i--) {
    acc = combineRanges(group, params, group.decode(shares[i]!), acc, bounds[i + 1]! - bounds[i]!);
  }
  return acc;
}
