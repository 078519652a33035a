/**
 * P4 with real processes: a cluster whose processes all stopped does not restart from its disks
 * by itself; `vigil cluster recover` rebuilds it with a new epoch, every deposit kept and every
 * pending claim void, under the same cluster keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimToJson, depositToJson, tenantRegistrationToJson } from '../vault/index.ts';
import { Claimant, Operator, Tenant } from '../vault/node/actors.test-support.ts';
import { fetchJson, type Json, postJson as post, sleep } from './support/http.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dirs: string[] = [];
const procs: VigilProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function ready(url: string): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    try {
      const s = (await fetchJson(`${url}/v1/cluster/status`)).json;
      if (s.epochReady && s.leaderUrl) return s;
    } catch {
      /* starting */
    }
    await sleep(100);
  }
  throw new Error('cluster not ready');
}

function start(dataDir: string, operatorKey: Uint8Array): VigilProcess {
  const p = startVigil([
    'cluster',
    'start',
    '--nodes',
    '3',
    '--data-dir',
    dataDir,
    '--operator-key',
    Buffer.from(operatorKey).toString('hex'),
    '--insecure-dev-attestation',
  ]);
  procs.push(p);
  return p;
}

describe('vigil cluster recover', () => {
  it('restarts a stopped cluster: new epoch, deposits kept, pending claims void', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-recover-'));
    dirs.push(dataDir);
    const operator = new Operator();
    const tenant = new Tenant('acme');
    const sup = start(dataDir, operator.publicKey);
    const url = (await sup.waitFor(/node-1 (http:\S+)/))[1]!;
    await ready(url);
    const att = (await fetchJson(`${url}/v1/attestation`)).json;
    const cluster = {
      clusterId: Buffer.from(att.cluster.clusterId, 'hex'),
      clusterEncryptionKey: Buffer.from(att.cluster.clusterEncryptionKey, 'hex'),
      receiptKey: Buffer.from(att.cluster.receiptKey, 'hex'),
    };
    const reg = operator.registerTenant(cluster, tenant);
    if (reg.type !== 'registerTenant') throw new Error('unreachable');
    expect(
      (await post(`${url}/v1/tenants`, tenantRegistrationToJson(reg.registration))).status,
    ).toBe(201);
    const wallets = [tenant.newWallet(), tenant.newWallet(), tenant.newWallet()];
    for (const w of wallets) {
      const d = tenant.deposit(cluster, w, { group: 'rsa2048', iterations: 64 });
      if (d.type !== 'deposit') throw new Error('unreachable');
      expect((await post(`${url}/v1/deposits`, depositToJson(d.deposit))).status).toBe(201);
    }
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const nonce = (await post(`${url}/v1/wallets/${hex(wallets[0]!.walletId)}/claim-nonce`, {}))
      .json;
    const c = new Claimant(wallets[0]!).claim(cluster, Buffer.from(nonce.nonce, 'hex'));
    if (c.type !== 'claim') throw new Error('unreachable');
    const claim = (await post(`${url}/v1/claims`, claimToJson(c.claim))).json.claim;
    expect(claim.status).toBe('live');

    sup.child.kill('SIGTERM');
    expect(await sup.exited).toBe(0);
    // a whole-cluster restart from disk is refused without recover
    const refused = start(dataDir, operator.publicKey);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/vigil cluster recover/);

    const rec = startVigil(['cluster', 'recover', '--data-dir', dataDir]);
    expect(await rec.exited).toBe(0);
    expect(rec.output()).toMatch(/recovered from \d+ disks/);
    // the digest the new cluster's genesis carries (each founder checks its copy against it)
    expect(rec.output()).toMatch(/vault of \d+ records, digest [0-9a-f]{64};/);

    const again = start(dataDir, operator.publicKey);
    const url2 = (await again.waitFor(/node-2 (http:\S+)/))[1]!;
    await ready(url2);
    const att2 = (await fetchJson(`${url2}/v1/attestation`)).json;
    expect(att2.cluster).toEqual(att.cluster); // same cluster keys
    for (const w of wallets) {
      expect((await fetchJson(`${url2}/v1/wallets/${hex(w.walletId)}`)).status).toBe(200);
    }
    const after = (await fetchJson(`${url2}/v1/claims/${claim.claimId}`)).json;
    expect(after.status).toBe('voided');
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 180_000);
});
