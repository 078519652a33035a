/**
 * Issue 11, item 1, the attack itself: junk keygens sent at a cosigner while it pings. Real
 * processes on loopback: a dev vault, a cosigner pinging every second, and this test flooding
 * the cosigner with freshly registered wallets' junk keygens (8 in flight, the keygen quotas set
 * out of the way so every request reaches the keygen path). Ping spacing is measured at the
 * vault. Before the fix each junk keygen took a pooled Paillier key and, the pool empty, made one
 * on the main thread, and the main thread also sent the pings: pings stopped for many seconds.
 * A second case blocks the cosigner's main thread outright (in-process) and counts the pings the
 * vault applied meanwhile: the ping loop runs in its own thread.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCosigner } from '../cosigner/index.ts';
import { DevAttestationVerifier, KeyFileSealer } from '../vault/index.ts';
import {
  NO_QUOTAS,
  registerTenantAt,
  startCosignerProcess,
  startDevVault,
} from './support/dev-processes.ts';
import { appliedPings, junkKeygens, PingWatch } from './support/pings.ts';
import type { VigilProcess } from './support/processes.ts';
import { until } from './support/until.ts';

/** Pings every second; a gap beyond this is a stall (generous for a loaded 2-core machine). */
const MAX_GAP_MS = 4_000;
const FLOOD_MS = 15_000;

const operator = schnorr.utils.randomSecretKey();
let dir: string;
let vault: { process: VigilProcess; url: string; devKey: string };
const children: VigilProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-ping-flood-'));
  vault = await startDevVault(join(dir, 'vault'), schnorr.getPublicKey(operator));
  children.push(vault.process);
}, 90_000);

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await rm(dir, { recursive: true, force: true });
});

describe('proof of life under a keygen flood', () => {
  it('junk keygens at a cosigner process do not space its pings beyond the deadline', async () => {
    const cosigner = await startCosignerProcess(join(dir, 'cosigner'), vault, { extra: NO_QUOTAS });
    children.push(cosigner.process);
    expect(await registerTenantAt(vault.url, operator, cosigner)).toBe(201);
    const watch = new PingWatch(() => [vault.url]);
    try {
      await until(() => watch.times.length >= 2, 30_000, 'the first pings');
      const start = Date.now();
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, () => junkKeygens(cosigner.url, start + FLOOD_MS, statuses)),
      );
      const end = Date.now();
      const gap = watch.maxGap(start, end);
      // the flood happened and was refused as bad input, never as a server failure
      expect(statuses.length).toBeGreaterThan(8);
      expect(statuses.filter((s) => s !== 400)).toEqual([]);
      expect(gap, `pings seen at +${watch.since(start).map((t) => t - start)} ms`).toBeLessThan(
        MAX_GAP_MS,
      );
      expect(watch.since(start).length).toBeGreaterThanOrEqual(FLOOD_MS / MAX_GAP_MS);
    } finally {
      await watch.stop();
      cosigner.process.child.kill('SIGTERM');
    }
  }, 150_000);

  it('a blocked main thread does not delay a ping: the ping loop has its own thread', async () => {
    const c = await openCosigner({
      dataDir: join(dir, 'in-process'),
      sealer: new KeyFileSealer({ path: join(dir, 'in-process.key') }),
      vaultUrl: vault.url,
      verifier: new DevAttestationVerifier({
        insecureDevAttestation: true,
        trustedKeys: [Buffer.from(vault.devKey, 'hex')],
        warn: () => {},
      }),
      tenant: 'blocked',
      pingIntervalMs: 500,
      limits: { groups: ['rsa2048'], minIterations: 16, maxIterations: 5000 },
      poolTarget: 0,
    });
    try {
      expect(await registerTenantAt(vault.url, operator, c.tenantKeys)).toBe(201);
      const watch = new PingWatch(() => [vault.url]);
      await until(() => watch.times.length >= 1, 30_000, 'pings from the thread').finally(() =>
        watch.stop(),
      );
      const before = await appliedPings(vault.url);
      // Anything synchronous on the main thread (a proof to verify, a key made inline): 5 s.
      const t = Date.now();
      while (Date.now() - t < 5_000) {
        /* busy */
      }
      const during = (await appliedPings(vault.url)) - before;
      // 10 intervals passed; a loaded machine may lose a few, a stalled loop loses all.
      expect(during).toBeGreaterThanOrEqual(3);
    } finally {
      await c.close();
    }
  }, 90_000);
});
