/**
 * The host connection's socket, on a thread of its own (client.ts). The node's store has a
 * synchronous point read (the state machine reads inside its apply step), so the main thread
 * may block on an answer: it posts the request here and waits on shared memory, which this
 * thread fills when the host's answer arrives. Asynchronous requests are answered by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bodyId, frame, onFrames } from './protocol.ts';
import { dialHost } from './socket.ts';
import { type FromWorker, SYNC, type ToWorker, type WorkerData } from './worker-messages.ts';

const port = parentPort!;
const { address, control } = workerData as WorkerData;
const ctrl = new Int32Array(control);
/** Pending synchronous requests: where to put the answer, and the answer kept while too big. */
const syncWaits = new Map<number, { buffer: SharedArrayBuffer; held?: Uint8Array }>();
let lost: string | null = null;

function settleSync(state: number, length = 0): void {
  Atomics.store(ctrl, 1, length);
  Atomics.store(ctrl, 0, state);
  Atomics.notify(ctrl, 0);
}

function deliverSync(id: number, body: Uint8Array): void {
  const wait = syncWaits.get(id)!;
  if (body.length > wait.buffer.byteLength) {
    wait.held = body;
    settleSync(SYNC.tooSmall, body.length);
    return;
  }
  new Uint8Array(wait.buffer).set(body);
  syncWaits.delete(id);
  settleSync(SYNC.answered, body.length);
}

function fail(message: string): void {
  if (lost !== null) return;
  lost = message;
  if (syncWaits.size > 0) settleSync(SYNC.lost);
  port.postMessage({ kind: 'lost', message } satisfies FromWorker);
}

try {
  const socket = await dialHost(address);
  onFrames(
    socket,
    (body) => {
      const id = bodyId(body);
      if (syncWaits.has(id)) deliverSync(id, body);
      else
        port.postMessage({ kind: 'answer', id, body } satisfies FromWorker, [
          body.buffer as ArrayBuffer,
        ]);
    },
    (e) => {
      socket.destroy();
      fail(`host agent sent an unreadable frame: ${e.message}`);
    },
  );
  socket.on('error', (e) => fail(`host agent connection failed: ${e.message}`));
  socket.on('close', () => fail('host agent closed the connection'));
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'buffer') {
      const wait = syncWaits.get(m.id);
      if (!wait?.held) return;
      wait.buffer = m.buffer;
      deliverSync(m.id, wait.held);
      return;
    }
    if (m.sync) syncWaits.set(m.id, { buffer: m.buffer! });
    if (lost !== null) {
      if (m.sync) settleSync(SYNC.lost);
      return;
    }
    socket.write(frame(m.body));
  });
  port.postMessage({ kind: 'ready' } satisfies FromWorker);
} catch (e) {
  fail(`cannot reach the host agent: ${(e as Error).message}`);
}
