/**
 * The main thread's side of the ping worker: starts it, hands it the attested cluster id (the
 * main thread verifies attestations; the worker only pings), turns its reports into metrics and
 * log lines, shares the membership it learns with the vault link, and runs the after-ping chores
 * (retrying pending deletions) here, where the store is. A worker that dies is started again.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { VaultTrust } from '../../vault/index.ts';
import type { CosignerMetrics } from './metrics.ts';
import { reportPing } from './ping-report.ts';
import type { FromPingWorker, PingWorkerConfig, ToPingWorker } from './ping-worker.ts';

export interface PingThreadOptions {
  seeds: readonly string[];
  tenant: string;
  pingSecretKey: string;
  intervalMs: number;
  /** The vault image the ping thread's own attested-TLS fetch trusts. */
  trust?: VaultTrust;
  metrics: CosignerMetrics;
  log: Logger;
  /** The cluster id from a verified attestation (VaultLink.attestedClusterKeys). */
  attestClusterId: () => Promise<Uint8Array>;
  /** The cluster's nodes, as the worker learned them. */
  onMembers?: (urls: string[]) => void;
  /** Runs after each round, on this thread, one at a time (e.g. pending deletions). */
  afterPing?: () => Promise<void>;
}

export class PingThread {
  readonly #o: PingThreadOptions;
  #worker: Worker | undefined;
  #intervalMs: number;
  #stopped = true;
  #attesting = false;
  #chores = false;
  #restart: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: PingThreadOptions) {
    this.#o = opts;
    this.#intervalMs = opts.intervalMs;
    opts.metrics.vaultNodes.set(new Set(opts.seeds).size);
  }

  get running(): boolean {
    return !this.#stopped;
  }

  start(intervalMs = this.#intervalMs): void {
    if (!(intervalMs > 0)) throw new Error('the ping interval must be positive');
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#intervalMs = intervalMs;
    this.#spawn();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restart) clearTimeout(this.#restart);
    const w = this.#worker;
    this.#worker = undefined;
    if (w) {
      w.postMessage({ type: 'stop' } satisfies ToPingWorker);
      await w.terminate();
    }
  }

  #spawn(): void {
    const config: PingWorkerConfig = {
      seeds: [...this.#o.seeds],
      tenant: this.#o.tenant,
      pingSecretKey: this.#o.pingSecretKey,
      intervalMs: this.#intervalMs,
      ...(this.#o.trust ? { trust: this.#o.trust } : {}),
      membersEveryMs: Math.max(30_000, this.#intervalMs * 6),
    };
    const worker = new Worker(new URL('../worker-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./ping-worker.ts', import.meta.url).href, config },
    });
    // The process exits on its own signals; a ping thread alone does not keep it alive.
    worker.unref();
    worker.on('message', (m: FromPingWorker) => this.#onMessage(worker, m));
    worker.on('error', (err) => {
      this.#o.log.error({ err: { name: err.name, message: err.message } }, 'ping thread failed');
    });
    worker.on('exit', () => {
      if (this.#worker !== worker || this.#stopped) return;
      this.#worker = undefined;
      this.#restart = setTimeout(() => {
        if (!this.#stopped) this.#spawn();
      }, this.#intervalMs);
      this.#restart.unref?.();
    });
    this.#worker = worker;
  }

  #onMessage(worker: Worker, m: FromPingWorker): void {
    if (m.type === 'need-cluster') {
      void this.#sendClusterId(worker);
      return;
    }
    if (m.type === 'members') {
      this.#o.metrics.vaultNodes.set(m.urls.length);
      this.#o.log.info({ nodes: m.urls }, 'vault cluster membership');
      this.#o.onMembers?.(m.urls);
      return;
    }
    reportPing(this.#o.metrics, this.#o.log, m.result, m.seconds);
    // A refused ping may mean a cluster id that is no longer current: attest again.
    if (!m.result.ok && m.result.code === 'COSIGNER_VAULT_REJECTED')
      void this.#sendClusterId(worker);
    void this.#runChores();
  }

  async #sendClusterId(worker: Worker): Promise<void> {
    if (this.#attesting) return;
    this.#attesting = true;
    try {
      const id = await this.#o.attestClusterId();
      if (this.#worker === worker) {
        worker.postMessage({
          type: 'cluster',
          clusterId: Buffer.from(id).toString('hex'),
        } satisfies ToPingWorker);
      }
    } catch {
      // logged by the vault link; the worker asks again next round
    } finally {
      this.#attesting = false;
    }
  }

  async #runChores(): Promise<void> {
    if (this.#chores || !this.#o.afterPing) return;
    this.#chores = true;
    try {
      await this.#o.afterPing().catch(() => undefined);
    } finally {
      this.#chores = false;
    }
  }
}
