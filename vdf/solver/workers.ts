/**
 * The proof's j-passes split over worker threads (the machine's second core): worker w computes
 * H_w over its range of j from the on-disk checkpoints, and the ranges combine by Horner.
 */
import { Worker } from 'node:worker_threads';
import { fromHexStrict, toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName, VdfGroup } from '../group.ts';
import { combineRanges, type ProofParams } from '../wesolowski/index.ts';
import type { CheckpointStore } from './checkpoints.ts';

/** Below this T a worker's start-up (≈ 0.5 s under tsx) costs more than it saves. */
const WORKER_MIN_ITERATIONS = 2 ** 22;

export function useWorkers(
  setting: 'auto' | 'never' | number | undefined,
  iterations: number,
  params: ProofParams,
): boolean {
  if (params.l < 2 || setting === 'never') return false;
  if (typeof setting === 'number') return setting >= 2;
  return iterations >= WORKER_MIN_ITERATIONS;
}

export interface WorkerTask {
  group: GroupName;
  seed: string;
  iterations: number;
  params: ProofParams;
  challenge: string;
  from: number;
  to: number;
  checkpointDir: string;
  /** Use the native rsa2048 pass when the worker can load it. */
  native: boolean;
}

export type WorkerMessage =
  | { type: 'pass' }
  | { type: 'done'; element: string }
  | { type: 'error'; code: string; message: string };

function runWorker(task: WorkerTask, onPass: () => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./prove-worker-boot.mjs', import.meta.url), {
      workerData: task,
    });
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'pass') {
        try {
          onPass();
        } catch (err) {
          settled = true;
          void worker.terminate();
          reject(err);
        }
      } else if (m.type === 'done') {
        settled = true;
        resolve(fromHexStrict(m.element)!);
      } else {
        settled = true;
        reject(new VdfError('VDF_CHECKPOINT', `proof worker failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(new VdfError('VDF_CHECKPOINT', `proof worker failed: ${err.message}`));
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new VdfError('VDF_CHECKPOINT', `proof worker exited with ${code}`));
      settled = true;
    });
  });
}

export async function proveInWorkers<E>(
  group: VdfGroup<E>,
  o: {
    group: GroupName;
    seed: Uint8Array;
    iterations: number;
    checkpointDir?: string;
    workers?: 'auto' | 'never' | number;
    native?: boolean;
  },
  params: ProofParams,
  challenge: bigint,
  store: CheckpointStore,
  onPass: () => void,
): Promise<E> {
  store.flush();
  const count = typeof o.workers === 'number' ? Math.min(o.workers, params.l) : 2;
  const bounds = Array.from({ length: count + 1 }, (_, i) => Math.round((i * params.l) / count));
  const shares = await Promise.all(
    bounds.slice(0, -1).map((from, i) =>
      runWorker(
        {
          group: o.group,
          seed: toHex(o.seed),
          iterations: o.iterations,
          params,
          challenge: challenge.toString(16),
          from,
          to: bounds[i + 1]!,
          checkpointDir: o.checkpointDir!,
          native: o.native !== false,
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
