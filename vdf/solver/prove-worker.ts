/** Worker thread: one range of the proof's j-passes over the on-disk checkpoints. */
import { parentPort } from 'node:worker_threads';
import { fromHexStrict, toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';
import { ELEMENT_BYTES, groupFor } from '../groups.ts';
import { installNodeAccelerators } from '../node-accelerators.ts';
import { checkpointCount, proveRange } from '../wesolowski/index.ts';
import {
  CACHE_DECODED_MAX,
  type CheckpointStore,
  diskCheckpoints,
  readRange,
} from './checkpoints.ts';
import { solverBucketSum } from './native-sum.ts';
import { checkpointJob, type SolvePlan, solvePlan } from './plan.ts';
import type { WorkerInbound, WorkerJob, WorkerMessage, WorkerTask } from './workers.ts';

// a worker is a fresh isolate: nothing the parent installed reaches it
installNodeAccelerators();

const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const fail = (err: unknown) =>
  post({
    type: 'error',
    code: err instanceof VdfError ? err.code : 'VDF_CHECKPOINT',
    message: err instanceof Error ? err.message : String(err),
  });

// The job comes first, while the evaluation may still be running: open the checkpoints and verify
// what is there. The task comes once ℓ is known: pick up the last segments, then run the passes.
interface Opened {
  job: WorkerJob;
  plan: SolvePlan;
  group: VdfGroup<unknown>;
  store: CheckpointStore;
}
let opened: Opened | undefined;
let openError: unknown;
parentPort!.on('message', (m: WorkerInbound) => {
  if (m.type === 'job') {
    try {
      opened = open(m.job);
    } catch (err) {
      openError = err;
    }
    return;
  }
  parentPort!.removeAllListeners('message');
  if (!opened) fail(openError ?? new VdfError('VDF_CHECKPOINT', 'proof worker got no job'));
  else run(opened, m.task);
});

function open(job: WorkerJob): Opened {
  const seed = fromHexStrict(job.seed)!;
  const group = groupFor(job.group, seed);
  const plan = solvePlan(job.group, job.iterations, job.segmentAt);
  const store = diskCheckpoints(
    job.checkpointDir,
    checkpointJob(plan, {
      group: job.group,
      seed,
      iterations: job.iterations,
      elementBytes: ELEMENT_BYTES[job.group],
    }),
  );
  return { job, plan, group, store };
}

function run(opened: Opened, task: WorkerTask): void {
  const { job, store } = opened;
  // class1024's operations follow the task's choice too (the solver's native: false).
  const group = task.native ? opened.group : groupFor(job.group, fromHexStrict(job.seed)!, false);
  try {
    store.refresh();
    const { params, iterations, firstCheckpoint: first } = opened.plan.segments[task.segment]!;
    const needed = checkpointCount(iterations, params);
    // As on the main thread: few checkpoints are decoded once (at the first pass that reads
    // them), not in every pass.
    let decoded: unknown[] | undefined;
    const read = function* () {
      if (decoded === undefined && needed <= CACHE_DECODED_MAX) {
        const bytes = readRange(store, first, needed, group.elementBytes);
        decoded = [];
        for (let at = 0; at < bytes.length; at += group.elementBytes)
          decoded.push(group.decode(bytes.subarray(at, at + group.elementBytes)));
      }
      if (decoded) yield* decoded;
      else for (const bytes of store.read(first)) yield group.decode(bytes);
    };
    const challenge = BigInt(`0x${task.challenge}`);
    const sum = solverBucketSum<unknown>(group, task.native, challenge, params.k, () =>
      store.readChunks(first),
    );
    const share = proveRange<unknown>(
      group,
      iterations,
      challenge,
      params,
      task.from,
      task.to,
      read,
      () => post({ type: 'pass' }),
      sum,
    );
    post({ type: 'done', element: toHex(group.encode(share)) });
  } catch (err) {
    fail(err);
  }
}
