/**
 * The node's end of the host agent: requests over the socket thread (worker.ts), either awaited
 * or, for the store's synchronous point read, waited for on shared memory. Answers are only
 * decoded here; whether to believe them is authenticated.ts's business.
 */
import { Worker } from 'node:worker_threads';
import type { Reader, Writer } from '../bytes.ts';
import { HostError, Op, type OpCode, readResponse, request } from './protocol.ts';
import type { HostAddress } from './socket.ts';
import { type FromWorker, SYNC, type ToWorker, type WorkerData } from './worker-messages.ts';

const SYNC_BUFFER = 1 << 20;

export interface HostClientOptions {
  /** How long a synchronous read may block the thread before the store gives up (ms). */
  readonly syncTimeoutMs?: number;
  /** Told once when the connection fails (not when closed): the store on it is gone for good. */
  readonly onLost?: (e: HostError) => void;
}

export class HostClient {
  readonly #worker: Worker;
  readonly #ctrl: Int32Array;
  #buffer = new SharedArrayBuffer(SYNC_BUFFER);
  readonly #pending = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();
  #next = 0;
  #lost: HostError | null = null;
  readonly #syncTimeoutMs: number;
  readonly #onLost: ((e: HostError) => void) | undefined;

  private constructor(worker: Worker, control: SharedArrayBuffer, o: HostClientOptions) {
    this.#worker = worker;
    this.#ctrl = new Int32Array(control);
    this.#syncTimeoutMs = o.syncTimeoutMs ?? 30_000;
    this.#onLost = o.onLost;
  }

  static async connect(address: HostAddress, o: HostClientOptions = {}): Promise<HostClient> {
    const control = new SharedArrayBuffer(8);
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { address, control } satisfies WorkerData,
    });
    const client = new HostClient(worker, control, o);
    // a failure before the connection is up rejects the connect; after, it is a loss (onLost)
    let up = false;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.kind === 'ready') {
          up = true;
          resolve();
        } else if (m.kind === 'lost') {
          reject(new HostError('HOST_UNAVAILABLE', m.message));
          client.#fail(m.message, !up);
        } else client.#answer(m.id, m.body);
      });
      worker.on('error', (e) => {
        reject(e);
        client.#fail(`host connection thread failed: ${e.message}`, !up);
      });
    }).catch(async (e) => {
      await worker.terminate();
      throw e;
    });
    worker.unref();
    return client;
  }

  /** The first failure of the connection, once there is one: nothing is sent after it. */
  get lost(): HostError | null {
    return this.#lost;
  }

  call(op: OpCode, payload?: Writer): Promise<Reader> {
    if (this.#lost) return Promise.reject(this.#lost);
    const id = this.#id();
    // an answer awaited keeps the process alive; an idle connection does not
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({
        kind: 'request',
        id,
        body: request(id, op, payload),
        sync: false,
      } satisfies ToWorker);
    }).then(readResponse);
  }

  /** Blocks this thread until the host answers (or the timeout, or the connection, ends it). */
  callSync(op: OpCode, payload?: Writer): Reader {
    if (this.#lost) throw this.#lost;
    const id = this.#id();
    Atomics.store(this.#ctrl, 0, SYNC.waiting);
    const msg: ToWorker = {
      kind: 'request',
      id,
      body: request(id, op, payload),
      sync: true,
      buffer: this.#buffer,
    };
    this.#worker.postMessage(msg);
    for (;;) {
      const outcome = Atomics.wait(this.#ctrl, 0, SYNC.waiting, this.#syncTimeoutMs);
      const state = Atomics.load(this.#ctrl, 0);
      if (outcome === 'timed-out' && state === SYNC.waiting) {
        throw this.#fail(`host agent did not answer within ${this.#syncTimeoutMs} ms`);
      }
      if (state === SYNC.answered) {
        const length = Atomics.load(this.#ctrl, 1);
        return readResponse(new Uint8Array(this.#buffer, 0, length).slice());
      }
      if (state === SYNC.lost) throw this.#fail('host agent connection lost');
      // too small: hand the thread a buffer that fits and wait again
      this.#buffer = new SharedArrayBuffer(Atomics.load(this.#ctrl, 1));
      Atomics.store(this.#ctrl, 0, SYNC.waiting);
      this.#worker.postMessage({ kind: 'buffer', id, buffer: this.#buffer } satisfies ToWorker);
    }
  }

  /** The parent's current credentials, as the host agent encodes them (HOST_NO_CREDENTIALS if none). */
  async credentials(): Promise<Uint8Array> {
    const r = await this.call(Op.credentials);
    const bytes = r.bytes(64 << 10);
    r.end();
    return bytes;
  }

  #id(): number {
    this.#next = (this.#next + 1) >>> 0 || 1;
    return this.#next;
  }

  #answer(id: number, body: Uint8Array): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    p.resolve(body);
  }

  #fail(message: string, quiet = false): HostError {
    if (this.#lost === null) {
      this.#lost = new HostError('HOST_UNAVAILABLE', message);
      if (!quiet) this.#onLost?.(this.#lost);
    }
    for (const p of this.#pending.values()) p.reject(this.#lost);
    this.#pending.clear();
    this.#worker.unref();
    return this.#lost;
  }

  async close(): Promise<void> {
    this.#fail('closed', true);
    await this.#worker.terminate();
  }
}
