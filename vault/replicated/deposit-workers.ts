/**
 * A node's pool of deposit workers (deposit-worker.ts). On the leader, a deposit whose stateless
 * checks passed here is proposed as `prechecked`, and no replica repeats them in its apply step:
 * a deposit then costs the cluster one set of curve operations instead of one per replica. Any
 * node signs the receipts it answers with here. None of it runs on an event loop that Raft and
 * proof of life share.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VaultError } from '../errors.ts';
import type { UnsignedReceipt } from '../machine/index.ts';
import type { DepositReceipt } from '../protocol/index.ts';
import type { DepositAnswer, DepositJob, DepositWorkerData } from './deposit-worker.ts';

/** A job before the pool numbers it (`Omit` taken over each member of the union). */
type Unnumbered<J> = J extends unknown ? Omit<J, 'id'> : never;
type Job = Unnumbered<DepositJob>;

interface Pending {
  resolve: (receipt: DepositReceipt | undefined) => void;
  reject: (e: Error) => void;
}

export class DepositWorkers {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, Pending>();
  readonly #load: number[];
  #next = 0;
  #broken: Error | null = null;

  constructor(keys: DepositWorkerData, size?: number) {
    const n = size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.#load = new Array(n).fill(0);
    this.#workers = Array.from({ length: n }, (_, i) => {
      const w = new Worker(new URL('./deposit-worker-boot.mjs', import.meta.url), {
        workerData: {
          clusterId: Uint8Array.from(keys.clusterId),
          clusterSecretKey: Uint8Array.from(keys.clusterSecretKey),
          receiptSecretKey: Uint8Array.from(keys.receiptSecretKey),
          receiptKey: Uint8Array.from(keys.receiptKey),
        } satisfies DepositWorkerData,
      });
      w.unref();
      w.on('message', (a: DepositAnswer) => this.#answer(i, a));
      w.on('error', (e) => this.#fail(e));
      return w;
    });
  }

  /**
   * Resolves if the deposit's stateless checks pass; rejects with their VaultError if not.
   * `command` is the deposit command's `encodeCommand` bytes.
   */
  async verify(command: Uint8Array, tenantKey: Uint8Array): Promise<void> {
    await this.#run({ kind: 'precheck', command, tenantKey });
  }

  /** The receipt signed by the cluster's receipt key. */
  async signReceipt(receipt: UnsignedReceipt): Promise<DepositReceipt> {
    const signed = await this.#run({ kind: 'receipt', receipt });
    if (signed === undefined) throw new VaultError('INTERNAL', 'no receipt from the worker', 500);
    return signed;
  }

  /** Rejects at once (503 `NODE_CLOSED` or 500 `INTERNAL`) once closed or a worker died. */
  #run(job: Job): Promise<DepositReceipt | undefined> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = ++this.#next;
    const i = this.#load.indexOf(Math.min(...this.#load));
    this.#load[i] = (this.#load[i] ?? 0) + 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#workers[i]!.postMessage({ ...job, id } as DepositJob);
    });
  }

  #answer(worker: number, a: DepositAnswer): void {
    this.#load[worker] = Math.max(0, (this.#load[worker] ?? 1) - 1);
    const p = this.#pending.get(a.id);
    if (!p) return;
    this.#pending.delete(a.id);
    if (a.ok) p.resolve(a.receipt);
    else p.reject(new VaultError(a.code, a.message, a.status));
  }

  #fail(e: Error): void {
    this.#broken ??=
      e instanceof VaultError ? e : new VaultError('INTERNAL', 'a deposit worker failed', 500);
    for (const p of this.#pending.values()) p.reject(this.#broken);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#fail(new VaultError('NODE_CLOSED', 'shutting down', 503));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
