/**
 * P9 on one node: SIGKILL a real vault process in the middle of a stream of deposits; after a
 * restart from the same disk every acknowledged deposit is there and readable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { depositToJson, tenantRegistrationToJson } from '../vault/index.ts';
import { Operator, Tenant } from '../vault/node/actors.test-support.ts';
import { fetchJson, postJson as post } from './support/http.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dirs: string[] = [];
const procs: VigilProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function startNode(dataDir: string, operatorKey: Uint8Array) {
  const p = startVigil(
    [
      'vault',
      'start',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--insecure-dev-attestation',
      '--log-level',
      'warn',
    ],
    { VIGIL_OPERATOR_KEY: Buffer.from(operatorKey).toString('hex') },
  );
  procs.push(p);
  const [, url] = await p.waitFor(/vault listening on (http:\/\/\S+)/);
  return { p, url: url! };
}

describe('vault node under SIGKILL', () => {
  it('keeps every acknowledged deposit', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-crash-'));
    dirs.push(dataDir);
    const operator = new Operator();
    const tenant = new Tenant('acme');
    const first = await startNode(dataDir, operator.publicKey);
    const att = await fetchJson(`${first.url}/v1/attestation`);
    const cluster = {
      clusterId: Buffer.from(att.json.cluster.clusterId, 'hex'),
      clusterEncryptionKey: Buffer.from(att.json.cluster.clusterEncryptionKey, 'hex'),
      receiptKey: Buffer.from(att.json.cluster.receiptKey, 'hex'),
    };
    const reg = operator.registerTenant(cluster, tenant);
    if (reg.type !== 'registerTenant') throw new Error('unreachable');
    expect(
      (await post(`${first.url}/v1/tenants`, tenantRegistrationToJson(reg.registration))).status,
    ).toBe(201);

    const acked: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const w = tenant.newWallet();
        const cmd = tenant.deposit(cluster, w, { group: 'rsa2048', iterations: 64 });
        if (cmd.type !== 'deposit') throw new Error('unreachable');
        try {
          const r = await post(`${first.url}/v1/deposits`, depositToJson(cmd.deposit));
          if (r.status === 201) acked.push(Buffer.from(w.walletId).toString('hex'));
        } catch {
          return; // the connection died with the process
        }
      }
    });
    while (acked.length < 30) await new Promise((r) => setTimeout(r, 10));
    first.p.child.kill('SIGKILL');
    await first.p.exited;
    stop = true;
    await Promise.all(writers);

    const second = await startNode(dataDir, operator.publicKey);
    for (const id of acked) {
      const r = await fetchJson(`${second.url}/v1/wallets/${id}`);
      expect({ id, status: r.status }).toEqual({ id, status: 200 });
      const receipt = await fetchJson(`${second.url}/v1/wallets/${id}/receipt`);
      expect(receipt.json.receipt.walletId).toBe(id);
    }
    second.p.child.kill('SIGTERM');
    expect(await second.p.exited).toBe(0);
  }, 60_000);
});
