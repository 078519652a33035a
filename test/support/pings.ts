/**
 * Proof of life seen from the vault's side, for the cosigner's availability tests: a dev vault
 * as a real process, a cosigner tenant registered with it, and a watcher that polls a node's
 * metrics and records when each ping was applied (so spacing is measured where it matters).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { CosignerClient, CosignerHttpError } from '../../cosigner/index.ts';
import {
  KeyFileSealer,
  signTenantRegistration,
  tenantRegistrationToJson,
} from '../../vault/index.ts';
import { fetchJson, postJson, sleep } from './http.ts';
import { startVigil, type VigilProcess } from './processes.ts';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `vigil vault start` in dev mode; its URL and the dev attestation key a cosigner pins. */
export async function startDevVault(
  dataDir: string,
  operatorPublicKey: Uint8Array,
): Promise<{ process: VigilProcess; url: string; devKey: string }> {
  const p = startVigil([
    'vault',
    'start',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--insecure-dev-attestation',
    '--operator-key',
    hex(operatorPublicKey),
  ]);
  const url = (await p.waitFor(/vault listening on (\S+)/, 60_000))[1] as string;
  const devKey = hex(
    ed25519.getPublicKey(
      await new KeyFileSealer({ path: join(dataDir, 'dev-attestation.key') }).storageKey(),
    ),
  );
  return { process: p, url, devKey };
}

/** Registers a cosigner's tenant (its tenant and ping keys) through `url`; returns the status. */
export async function registerTenantAt(
  url: string,
  operatorSecretKey: Uint8Array,
  t: { tenant: string; tenantKey: string; pingKey: string },
  maxWallets = 1000,
): Promise<number> {
  const att = (await fetchJson(`${url}/v1/attestation`)).json;
  const registration = signTenantRegistration(
    Buffer.from(att.cluster.clusterId as string, 'hex'),
    {
      tenant: t.tenant,
      tenantKey: Buffer.from(t.tenantKey, 'hex'),
      pingKey: Buffer.from(t.pingKey, 'hex'),
      limits: {
        groups: ['rsa2048'],
        minIterations: 16,
        maxIterations: 5_000_000,
        maxWallets,
        maxClaims: 4,
      },
    },
    operatorSecretKey,
    schnorr.utils.randomSecretKey(),
  );
  return (await postJson(`${url}/v1/tenants`, tenantRegistrationToJson(registration))).status;
}

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

/** The quotas and rate limit out of the way: every flood request reaches the keygen path. */
export const NO_QUOTAS = [
  '--wallet-quota-client',
  '1000000',
  '--keygen-quota-wallet',
  '1000000',
  '--keygen-quota-client',
  '1000000',
  '--rate-limit',
  '10000000',
];

/** `vigil cosigner start` against `vault.url` (one URL or several, comma-separated). */
export async function startCosignerProcess(
  dataDir: string,
  vault: { url: string; devKey: string },
  opts: { pingIntervalS?: number; extra?: string[] } = {},
): Promise<{
  process: VigilProcess;
  url: string;
  tenant: string;
  tenantKey: string;
  pingKey: string;
}> {
  const p = startVigil([
    'cosigner',
    'start',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--vault',
    vault.url,
    '--tenant',
    'acme',
    '--ping-interval',
    String(opts.pingIntervalS ?? 1),
    '--insecure-dev-attestation',
    '--dev-attestation-key',
    vault.devKey,
    '--pool-size',
    '2',
    '--groups',
    'rsa2048',
    '--min-iterations',
    '16',
    '--log-level',
    'warn',
    ...(opts.extra ?? []),
  ]);
  const m = await p.waitFor(
    /cosigner listening on (\S+)\ntenant (\S+)\ntenant key (\S+)\nping key (\S+)/,
    60_000,
  );
  const [, url, tenant, tenantKey, pingKey] = m as unknown as string[];
  return { process: p, url: url!, tenant: tenant!, tenantKey: tenantKey!, pingKey: pingKey! };
}
