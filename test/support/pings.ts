/**
 * Proof of life seen from the vault's side: a watcher that polls nodes' metrics and records when
 * each ping was committed (so spacing is measured where it matters), and the junk-keygen attacker
 * of issue 11 whose flood it is measured under.
 */
import { randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { CosignerClient, CosignerHttpError } from '../../cosigner/index.ts';
import { sleep } from './http.ts';

/** Pings a node's HTTP API committed (`vigil_vault_commands_total{type="ping",outcome="ok"}`). */
export async function appliedPings(url: string): Promise<number> {
  const get = () => fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) });
  // once more on a fresh socket: a pooled one may have been closed while this thread was busy
  const res = await get().catch(get);
  const m = /vigil_vault_commands_total\{type="ping",outcome="ok"\} (\d+)/.exec(await res.text());
  return Number(m?.[1] ?? 0);
}

/**
 * Polls the nodes' ping counters every 50 ms and records the time each new ping was first seen.
 * A node counts the pings its HTTP API committed (the leader's, mostly), so the watch adds up
 * each node's increases: a node that dies takes its counter with it, and one that appears starts
 * from what it shows then. Spacing between those times is the spacing a claimant would race.
 */
export class PingWatch {
  readonly times: number[] = [];
  #stop = false;
  readonly #done: Promise<void>;

  constructor(urls: () => string[]) {
    this.#done = (async () => {
      const seen = new Map<string, number>();
      while (!this.#stop) {
        await Promise.all(
          urls().map(async (u) => {
            const n = await appliedPings(u).catch(() => -1);
            const before = seen.get(u);
            if (n < 0) return;
            if (before !== undefined) for (let i = before; i < n; i++) this.times.push(Date.now());
            seen.set(u, Math.max(before ?? 0, n));
          }),
        );
        await sleep(50);
      }
    })();
  }

  /** Pings seen at or after `t`. */
  since(t: number): number[] {
    return this.times.filter((x) => x >= t);
  }

  /** The longest wait between `from`, the pings seen in [from, to], and `to`. */
  maxGap(from: number, to: number): number {
    const ts = [from, ...this.times.filter((x) => x >= from && x <= to), to];
    let gap = 0;
    for (let i = 1; i < ts.length; i++) gap = Math.max(gap, ts[i]! - ts[i - 1]!);
    return gap;
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
  }
}

/**
 * One attacker of issue 11: registers a wallet (registration is open) and sends it a junk keygen,
 * again and again until `endAt`; records each answer's status (0: no answer).
 */
export async function junkKeygens(base: string, endAt: number, statuses: number[]): Promise<void> {
  while (Date.now() < endAt) {
    try {
      const c = await CosignerClient.register({
        baseUrl: base,
        authSecretKey: schnorr.utils.randomSecretKey(),
        policy: { group: 'rsa2048', iterations: 100 },
      });
      await c.call('POST', '/keygen', {
        sessionId: randomBytes(32).toString('hex'),
        message: { commitment: 'zz', ringPedersen: {} },
      });
      statuses.push(200);
    } catch (e) {
      statuses.push(e instanceof CosignerHttpError ? e.status : 0);
    }
  }
}
