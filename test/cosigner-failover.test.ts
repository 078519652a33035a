/**
 * Issue 11, item 2: losing the vault node the cosigner talks to must not silence proof of life.
 * Real processes: a 3-node cluster (`vigil cluster start`, whose supervisor restarts a killed
 * slot as a new member) and a cosigner process given only the leader's URL, pinging every 2 s.
 * It learns the other members from `GET /v1/cluster/members`; the leader it talks to is then
 * SIGKILLed, and pings keep landing at the new leader, and a deposit goes through a survivor. Before this
 * change the cosigner knew one URL and pinged nothing until that node came back.
 */
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CosignerClient, verifyKeyDeposit } from '../cosigner/index.ts';
import { KeyFileSealer } from '../vault/index.ts';
import { cleanupClusters, ProcessCluster, urlsOf } from './support/cluster.ts';
import { hex, registerTenantAt, startCosignerProcess } from './support/dev-processes.ts';
import { PingWatch } from './support/pings.ts';
import type { VigilProcess } from './support/processes.ts';
import { until } from './support/until.ts';

const INTERVAL_S = 2;
/** An election (≈ 1 s) plus a round, on a loaded 2-core machine. */
const MAX_GAP_MS = 8_000;

const children: VigilProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await cleanupClusters();
});

async function cosignerMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe('the cosigner follows the vault cluster', () => {
  it('keeps pinging when the node it talks to is killed', async () => {
    const { cluster, nodes } = await ProcessCluster.start(3);
    const leader = nodes.find((n) => n.role === 'leader')!;
    const devKey = hex(
      ed25519.getPublicKey(
        await new KeyFileSealer({
          path: join(cluster.dataDir, 'dev-attestation.key'),
        }).storageKey(),
      ),
    );
    const cosigner = await startCosignerProcess(
      join(cluster.dataDir, 'cosigner'), // removed with the cluster's directory
      { url: leader.url as string, devKey },
      { pingIntervalS: INTERVAL_S },
    );
    children.push(cosigner.process);
    expect(await registerTenantAt(leader.url as string, cluster.operator.secretKey, cosigner)).toBe(
      201,
    );
    let live = urlsOf(nodes);
    const watch = new PingWatch(() => live);
    try {
      await until(() => watch.times.length >= 2, 30_000, 'the first pings');
      // It learned the whole cluster from the one URL it was given.
      await cluster.until('the cosigner to know 3 nodes', async () =>
        (await cosignerMetric(cosigner.url, 'vigil_cosigner_vault_nodes')) === 3 ? true : undefined,
      );

      const killedAt = Date.now();
      process.kill(leader.pid as number, 'SIGKILL');
      live = live.filter((u) => u !== leader.url);
      await until(
        () => watch.since(killedAt).length >= 3,
        60_000,
        'three pings after the leader was killed',
      );
      const gap = watch.maxGap(killedAt, watch.since(killedAt)[2]!);
      expect(gap, `pings at +${watch.since(killedAt).map((t) => t - killedAt)} ms`).toBeLessThan(
        MAX_GAP_MS,
      );
      // The pings went to the new leader, one of the survivors.
      const after = await cluster.until('a new leader', async () => {
        const s = await cluster.statuses();
        return s.find((n) => n.role === 'leader' && n.url !== leader.url);
      });
      expect(live).toContain(after.url);
      expect(
        await cosignerMetric(cosigner.url, 'vigil_cosigner_pings_total\\{outcome="ok"\\}'),
      ).toBeGreaterThanOrEqual(4);
      // Deposits follow the cluster too: a MuSig2 keygen deposits x2 through a survivor.
      const wallet = await CosignerClient.register({
        baseUrl: cosigner.url,
        authSecretKey: schnorr.utils.randomSecretKey(),
        scheme: 'musig2',
        policy: { group: 'rsa2048', iterations: 100 },
      });
      const { key } = await wallet.keygenMusig();
      expect(live).toContain(key.vault.vaultUrl);
      expect(verifyKeyDeposit(key, 'musig2', { group: 'rsa2048', iterations: 100 })).toBe(true);
    } finally {
      await watch.stop();
      cosigner.process.child.kill('SIGTERM');
    }
  }, 180_000);
});
