/**
 * The ping loop in its own thread (issue 11): whatever the main thread is doing — verifying a
 * client's proofs, answering a flood of keygens — this thread's timer fires and its ping goes
 * out. It holds only what a ping needs: the tenant name, the ping key, the attested cluster id
 * (sent by the main thread, which verifies attestations) and the vault's nodes. It reports every
 * round to the main thread, which keeps the metrics and logs; a slow main thread delays those
 * reports, never a ping.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseHex } from '../../vault/protocol/index.ts';
import { attestedTlsFor, type VaultTrust } from '../../vault/tls/index.ts';
import { type PingRoundResult, pingRound, refreshMembers } from './ping-round.ts';
import { VaultRoute } from './vault-route.ts';

export interface PingWorkerConfig {
  seeds: string[];
  tenant: string;
  /** hex; crosses the thread boundary in memory only, never logged */
  pingSecretKey: string;
  intervalMs: number;
  /** Nodes' TLS keys are pinned through their attestation, checked in this thread. */
  trust?: VaultTrust;
  /** How often the cluster's membership is asked for (also after any failed round). */
  membersEveryMs: number;
}

export type ToPingWorker = { type: 'cluster'; clusterId: string } | { type: 'stop' };

export type FromPingWorker =
  | { type: 'round'; result: PingRoundResult; seconds: number }
  | { type: 'members'; urls: string[] }
  | { type: 'need-cluster' };

const port = parentPort;
if (!port) throw new Error('ping-worker runs in a worker thread');
const cfg = (workerData as { config: PingWorkerConfig }).config;
const post = (m: FromPingWorker) => port.postMessage(m);
const route = new VaultRoute(cfg.seeds);
const vaultFetch = cfg.trust ? attestedTlsFor(cfg.trust, () => {}).fetch : fetch;
const pingSecretKey = parseHex('pingSecretKey', cfg.pingSecretKey, 32);
let clusterId: Uint8Array | undefined;
let stopped = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let membersAt = Number.NEGATIVE_INFINITY;

let inRound = false;

port.on('message', (m: ToPingWorker) => {
  if (m.type === 'cluster') {
    const first = clusterId === undefined;
    clusterId = parseHex('clusterId', m.clusterId, 32);
    // the first ping goes out as soon as there is a cluster to sign it for
    if (first && !inRound && !stopped) {
      clearTimeout(timer);
      timer = setTimeout(round, 0);
    }
  }
  if (m.type === 'stop') {
    stopped = true;
    if (timer) clearTimeout(timer);
    port.close();
  }
});

async function round(): Promise<void> {
  const started = performance.now();
  inRound = true;
  try {
    await roundBody(started);
  } catch (err) {
    // Whatever went wrong, the loop goes on: a ping loop that stops is the failure to avoid.
    const outcome = `INTERNAL ${(err as Error).name}`;
    post({
      type: 'round',
      result: { ok: false, code: 'COSIGNER_VAULT_UNAVAILABLE', attempts: [{ url: '', outcome }] },
      seconds: (performance.now() - started) / 1000,
    });
  } finally {
    inRound = false;
  }
  if (stopped) return;
  // Rounds start every interval from the last start, so a slow round does not push the next.
  timer = setTimeout(round, Math.max(0, started + cfg.intervalMs - performance.now()));
}

async function roundBody(started: number): Promise<void> {
  if (clusterId === undefined) {
    post({ type: 'need-cluster' });
  } else {
    const result = await pingRound({
      route,
      tenant: cfg.tenant,
      pingSecretKey,
      clusterId,
      budgetMs: cfg.intervalMs,
      fetch: vaultFetch,
    });
    post({ type: 'round', result, seconds: (performance.now() - started) / 1000 });
    if (!result.ok) membersAt = Number.NEGATIVE_INFINITY; // a node went: ask who is left
  }
  // After the ping, never before it: membership is for the next round.
  if (performance.now() - membersAt >= cfg.membersEveryMs) {
    membersAt = performance.now();
    const timeout = Math.min(2_000, Math.max(250, cfg.intervalMs / 4));
    if (await refreshMembers(route, timeout, vaultFetch))
      post({ type: 'members', urls: route.urls });
  }
}

timer = setTimeout(round, 0);
