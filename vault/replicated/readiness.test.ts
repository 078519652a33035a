/**
 * Issue 11, items 7, 12 and 13: a node that has not started Raft, has no vault yet or is still
 * catching up answers 503 with a code, a reason and a retry hint (it used to answer 500 INTERNAL
 * from a half-built member, or serve a state it did not have yet); an unknown route is a 404 JSON
 * error like every other refusal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.ts';
import type { AttestationProvider } from '../enclave/index.ts';
import { buildVaultApp } from '../http/app.ts';
import { Operator, Tenant } from '../node/actors.test-support.ts';
import { clusterApi, RaftMetrics } from './api.ts';
import { listenLocalMember, startLocalCluster } from './local.ts';
import type { ClusterMember } from './member.ts';

let dir: string;
const members: ClusterMember[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const m of members.splice(0)) await m.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function appFor(
  member: ClusterMember,
  attestation: AttestationProvider,
): Promise<FastifyInstance> {
  const metrics = new RaftMetrics();
  metrics.attach(member);
  const app = await buildVaultApp({
    backend: member,
    attestation,
    cluster: clusterApi(member, metrics, () => 'http://test.invalid'),
  });
  apps.push(app);
  return app;
}

describe('a node that cannot serve yet says so', () => {
  it('before Raft starts, while it has no vault, and once it caught up; unknown routes are 404 JSON', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-ready-'));
    const operator = new Operator();
    const c = await startLocalCluster({ n: 3, dir, operatorKey: operator.publicKey });
    members.push(...c.members);
    const leader = await until(() => c.members.find((m) => m.isLeader && m.epochReady), 20_000);
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    await leader.submit(operator.registerTenant(keys, tenant));
    const w = tenant.newWallet();
    await leader.submit(tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 }));

    const joiner = await listenLocalMember({
      dir,
      slot: 'node-4',
      generation: 1,
      attestation: c.attestation,
      storageKey: c.storageKey,
      clusterId: c.clusterId,
    });
    members.push(joiner);
    const app = await appFor(joiner, c.attestation.provider);
    const wallet = `/v1/wallets/${Buffer.from(w.walletId).toString('hex')}`;

    // Raft not started: 503 with the phase, never a 500
    joiner.setPhase('asking the cluster to admit this node');
    let r = await app.inject({ method: 'GET', url: '/v1/cluster/status' });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('CLUSTER_STARTING');
    expect(r.json().error.message).toContain('asking the cluster to admit');
    r = await app.inject({ method: 'GET', url: wallet });
    expect([r.statusCode, r.json().error.code, r.headers['retry-after']]).toEqual([
      503,
      'NOT_READY',
      '1',
    ]);
    r = await app.inject({ method: 'GET', url: '/healthz' });
    expect([r.statusCode, r.json().status]).toEqual([503, 'starting']);

    // Raft started but the vault not here yet (not admitted): still 503, not a 404 for the wallet
    await joiner.start([...leader.state.members.values()]);
    r = await app.inject({ method: 'GET', url: wallet });
    expect([r.statusCode, r.json().error.code]).toEqual([503, 'NOT_READY']);
    expect(r.json().error.message).toMatch(/vault is not here yet|catching up/);

    // admitted, caught up: served
    await leader.admit(await joiner.record('http://joiner.invalid'));
    await until(() => joiner.notReady() === null, 20_000);
    r = await app.inject({ method: 'GET', url: wallet });
    expect(r.statusCode).toBe(200);

    // the membership a client fails over with: every member's URL, the leader's, who votes
    r = await app.inject({ method: 'GET', url: '/v1/cluster/members' });
    const view = r.json() as { members: { id: string; url: string }[]; leaderUrl: string };
    expect(r.statusCode).toBe(200);
    expect(view.members.map((m) => m.id).sort()).toEqual([...leader.state.members.keys()].sort());
    expect(view.members.find((m) => m.id === joiner.id)?.url).toBe('http://joiner.invalid');
    expect(view.leaderUrl).toBe(leader.state.members.get(leader.id)?.httpUrl);

    // the error contract: an unknown route and an over-long path parameter are 4xx JSON
    r = await app.inject({ method: 'GET', url: '/v1/no-such-thing' });
    expect([r.statusCode, r.json().error.code]).toEqual([404, 'NOT_FOUND']);
    r = await app.inject({ method: 'GET', url: `/v1/wallets/${'ab'.repeat(400)}` });
    expect([r.statusCode, r.json().error.code]).toEqual([414, 'URL_TOO_LONG']);
  }, 60_000);
});
