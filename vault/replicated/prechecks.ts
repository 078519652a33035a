/**
 * The leader's pool of precheck workers (precheck-worker.ts). A deposit whose stateless checks
 * passed here is proposed as `prechecked`, and no replica repeats them in its apply step: a
 * deposit then costs the cluster one set of curve operations instead of one per replica, and
 * none of it on an event loop that Raft and proof of life share.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VaultError } from '../errors.ts';
import { encodeCommand } from '../machine/index.ts';
import type { Deposit } from '../protocol/index.ts';
import type { PrecheckAnswer, PrecheckJob } from './precheck-worker.ts';

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class DepositPrechecks {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, Pending>();
  readonly #load: number[];
  #next = 0;
  #closed = false;

  constructor(secrets: { clusterId: Uint8Array; clusterSecretKey: Uint8Array }, size?: number) {
    const n = size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.#load = new Array(n).fill(0);
    this.#workers = Array.from({ length: n }, (_, i) => {
      const w = new Worker(new URL('./precheck-worker-boot.mjs', import.meta.url), {
        workerData: {
          clusterId: Uint8Array.from(secrets.clusterId),
          clusterSecretKey: Uint8Array.from(secrets.clusterSecretKey),
        },
      });
      w.unref();
      w.on('message', (a: PrecheckAnswer) => this.#answer(i, a));
      w.on('error', (e) => this.#fail(e));
      return w;
    });
  }

  /** Resolves if the deposit's stateless checks pass; rejects with their VaultError if not. */
  verify(deposit: Deposit, tenantKey: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new VaultError('NODE_CLOSED', 'shutting down', 503));
    const id = ++this.#next;
    const i = this.#load.indexOf(Math.min(...this.#load));
    this.#load[i] = (this.#load[i] ?? 0) + 1;
    const job: PrecheckJob = {
      id,
      command: encodeCommand({ type: 'deposit', deposit }),
      tenantKey,
    };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#workers[i]!.postMessage(job);
    });
  }

  #answer(worker: number, a: PrecheckAnswer): void {
    this.#load[worker] = Math.max(0, (this.#load[worker] ?? 1) - 1);
    const p = this.#pending.get(a.id);
    if (!p) return;
    this.#pending.delete(a.id);
    if (a.ok) p.resolve();
    else p.reject(new VaultError(a.code, a.message, a.status));
  }

  #fail(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fail(new VaultError('NODE_CLOSED', 'shutting down', 503));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
