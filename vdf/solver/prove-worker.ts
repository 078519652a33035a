/** Worker thread: one range of the proof's j-passes over the on-disk checkpoints. */
import { parentPort } from 'node:worker_threads';
import { fromHexStrict, toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';
import { ELEMENT_BYTES, groupFor } from '../groups.ts';
import { installNodeAccelerators } from '../node-accelerators.ts';
import { proveRange } from '../wesolowski/index.ts';
import { CACHE_DECODED_MAX, type CheckpointStore, diskCheckpoints } from './checkpoints.ts';
import { solverBucketSum } from './native-sum.ts';
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
let opened: { job: WorkerJob; group: VdfGroup<unknown>; store: CheckpointStore } | undefined;
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

function open(job: WorkerJob) {
  const seed = fromHexStrict(job.seed)!;
  const group = groupFor(job.group, seed);
  const store = diskCheckpoints(job.checkpointDir, {
    group: job.group,
    seed,
    iterations: job.iterations,
    interval: job.params.interval,
    elementBytes: ELEMENT_BYTES[job.group],
  });
  return { job, group, store };
}

function run(
  opened: { job: WorkerJob; group: VdfGroup<unknown>; store: CheckpointStore },
  task: WorkerTask,
): void {
  const { job, store } = opened;
  // class1024's operations follow the task's choice too (the solver's native: false).
  const group = task.native ? opened.group : groupFor(job.group, fromHexStrict(job.seed)!, false);
  try {
    store.refresh();
    // As on the main thread: few checkpoints are decoded once (at the first pass that reads
    // them), not in every pass.
    let decoded: unknown[] | undefined;
    const read = function* () {
      if (decoded === undefined && store.count <= CACHE_DECODED_MAX)
        decoded = [...store.read()].map((b) => group.decode(b));
      if (decoded) yield* decoded;
      else for (const bytes of store.read()) yield group.decode(bytes);
    };
    const challenge = BigInt(`0x${task.challenge}`);
    const sum = solverBucketSum<unknown>(group, task.native, challenge, job.params.k, () =>
      store.readChunks(),
    );
    const share = proveRange<unknown>(
      group,
      job.iterations,
      challenge,
      job.params,
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
