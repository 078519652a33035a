/** Worker thread: one range of the proof's j-passes over the on-disk checkpoints. */
import { parentPort } from 'node:worker_threads';
import { fromHexStrict, toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { ELEMENT_BYTES, groupFor } from '../groups.ts';
import { nativeBucketSum } from '../rsa2048/native-pass.ts';
import { proveRange } from '../wesolowski/index.ts';
import { diskCheckpoints } from './checkpoints.ts';
import type { WorkerMessage, WorkerTask } from './workers.ts';

const post = (m: WorkerMessage) => parentPort!.postMessage(m);

// The task arrives as the first message: the worker may be started before ℓ is known.
parentPort!.once('message', (task: WorkerTask) => {
  run(task);
});

function run(task: WorkerTask): void {
  try {
    const seed = fromHexStrict(task.seed)!;
    const group = groupFor(task.group, seed);
    const store = diskCheckpoints(task.checkpointDir, {
      group: task.group,
      seed,
      iterations: task.iterations,
      interval: task.params.interval,
      elementBytes: ELEMENT_BYTES[task.group],
    });
    const read = function* () {
      for (const bytes of store.read()) yield group.decode(bytes);
    };
    const challenge = BigInt(`0x${task.challenge}`);
    const sum = nativeBucketSum<unknown>(task.group, task.native, challenge, task.params.k, () =>
      store.readChunks(),
    );
    const share = proveRange<unknown>(
      group,
      task.iterations,
      challenge,
      task.params,
      task.from,
      task.to,
      read,
      () => post({ type: 'pass' }),
      sum,
    );
    post({ type: 'done', element: toHex(group.encode(share)) });
  } catch (err) {
    post({
      type: 'error',
      code: err instanceof VdfError ? err.code : 'VDF_CHECKPOINT',
      message: err instanceof Error ? err.message : String(err),
    });
  }
}
