/**
 * A real 3-process cluster (`vigil cluster start`) under a stream of deposits and claims: the
 * leader is SIGKILLed (the supervisor restarts it as a new member) and a follower is SIGSTOPped
 * and resumed. Afterwards every acknowledged deposit is on every node, every acknowledged claim
 * is known, the membership converged back to 3 voters, and no process is left behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimToJson, depositToJson, readHello, tenantRegistrationToJson } from '../vault/index.ts';
import { Claimant, Operator, Tenant } from '../vault/node/actors.test-support.ts';
import { fetchJson, type Json, postJson as post, sleep } from './support/http.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dirs: string[] = [];
const procs: VigilProcess[] = [];
const pids = new Set<number>();
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  // the supervisor's children outlive a SIGKILLed supervisor: kill every node we can find
  for (const d of dirs) {
    for (const slot of ['node-1', 'node-2', 'node-3']) {
      const h = await readHello(d, slot);
      if (h) pids.add(h.pid);
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function statuses(dataDir: string): Promise<Json[]> {
  const out: Json[] = [];
  for (const slot of ['node-1', 'node-2', 'node-3']) {
    const h = await readHello(dataDir, slot);
    if (!h) continue;
    pids.add(h.pid);
    try {
      out.push({ ...(await fetchJson(`${h.url}/v1/cluster/status`)).json, pid: h.pid });
    } catch {
      out.push({ slot, pid: h.pid, url: h.url, role: 'unreachable' });
    }
  }
  return out;
}

let lastStatuses: Json[] = [];

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | null | false>,
  ms = 45_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) {
      const brief = lastStatuses.map((n) => ({
        id: n.id,
        role: n.role,
        term: n.term,
        applied: n.appliedIndex,
        voters: n.voters,
        learners: n.learners,
        epochReady: n.epochReady,
      }));
      throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(brief)}`);
    }
    await sleep(100);
  }
}

/** Converged: one leader, 3 voters, everyone applied the same index and holds the epoch. */
async function converged(dataDir: string): Promise<Json[] | undefined> {
  const s = await statuses(dataDir);
  lastStatuses = s;
  if (s.length !== 3 || s.some((n) => n.role === 'unreachable' || !n.epochReady)) return undefined;
  const leaders = s.filter((n) => n.role === 'leader');
  if (leaders.length !== 1) return undefined;
  // Converged means the voters are exactly the three live identities: a replacement still a
  // learner (its dead predecessor still a voter) leaves only two live voters, and pausing one of
  // them would rightly stop the cluster.
  const ids = new Set(s.map((n) => n.id as string));
  const { voters, learners } = leaders[0]! as { voters: string[]; learners?: string[] };
  if (voters.length !== 3 || !voters.every((v) => ids.has(v)) || (learners?.length ?? 0) > 0) {
    return undefined;
  }
  const applied = new Set(s.map((n) => n.appliedIndex));
  return applied.size === 1 ? s : undefined;
}

describe('a real 3-process cluster under SIGKILL and SIGSTOP', () => {
  it('loses no acknowledged write and converges', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-cluster-'));
    dirs.push(dataDir);
    const operator = new Operator();
    const tenant = new Tenant('acme');
    const sup = startVigil([
      'cluster',
      'start',
      '--nodes',
      '3',
      '--data-dir',
      dataDir,
      '--operator-key',
      Buffer.from(operator.publicKey).toString('hex'),
      '--insecure-dev-attestation',
    ]);
    procs.push(sup);
    await sup.waitFor(/node-3 http/);
    const first = await until('the founding cluster', () => converged(dataDir));
    const urls = () => first.map((n) => n.url as string);
    const att = await fetchJson(`${urls()[0]}/v1/attestation`);
    const cluster = {
      clusterId: Buffer.from(att.json.cluster.clusterId, 'hex'),
      clusterEncryptionKey: Buffer.from(att.json.cluster.clusterEncryptionKey, 'hex'),
      receiptKey: Buffer.from(att.json.cluster.receiptKey, 'hex'),
    };
    const reg = operator.registerTenant(cluster, tenant);
    if (reg.type !== 'registerTenant') throw new Error('unreachable');
    // posted to a follower: redirected (307) to the leader, answered after commit + apply there
    const follower = first.find((n) => n.role !== 'leader')!;
    const r = await post(`${follower.url}/v1/tenants`, tenantRegistrationToJson(reg.registration));
    expect(r.status).toBe(201);

    const acked: string[] = [];
    const claims: string[] = [];
    let stop = false;
    let live = first.map((n) => n.url as string);
    const writer = async (k: number) => {
      for (let i = 0; !stop; i++) {
        const w = tenant.newWallet();
        const cmd = tenant.deposit(cluster, w, { group: 'rsa2048', iterations: 64 });
        if (cmd.type !== 'deposit') throw new Error('unreachable');
        const url = live[(k + i) % live.length]!;
        try {
          const d = await post(`${url}/v1/deposits`, depositToJson(cmd.deposit));
          if (d.status !== 201) continue;
          const id = Buffer.from(w.walletId).toString('hex');
          acked.push(id);
          if (i % 5 !== 0) continue;
          const nonce = await post(`${url}/v1/wallets/${id}/claim-nonce`, {});
          if (nonce.status !== 200) continue;
          const claimant = new Claimant(w);
          const c = claimant.claim(cluster, Buffer.from(nonce.json.nonce, 'hex'));
          if (c.type !== 'claim') throw new Error('unreachable');
          const res = await post(`${url}/v1/claims`, claimToJson(c.claim));
          if (res.status === 201) claims.push(res.json.claim.claimId);
        } catch {
          await sleep(50); // a node died under us: try another
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.length < 20) await sleep(20);

    // SIGKILL the leader: the others elect a new one; the supervisor restarts it as a new member
    const leader = first.find((n) => n.role === 'leader')!;
    process.kill(leader.pid, 'SIGKILL');
    live = first.filter((n) => n !== leader).map((n) => n.url as string);
    const before = acked.length;
    await until('writes after the leader was killed', async () => acked.length >= before + 20);

    // SIGSTOP a follower (after the rejoin converged), keep writing on the majority, resume it
    const mid = await until('the rejoin of the killed slot', () => converged(dataDir));
    const paused = mid.find((n) => n.role !== 'leader')!;
    live = mid.filter((n) => n !== paused).map((n) => n.url as string);
    process.kill(paused.pid, 'SIGSTOP');
    const beforeStop = acked.length;
    await until('writes with a follower stopped', async () => acked.length >= beforeStop + 20);
    process.kill(paused.pid, 'SIGCONT');
    stop = true;
    await Promise.all(writers);

    const end = await until('the final convergence', () => converged(dataDir));
    expect(end.map((n) => n.id)).not.toContain(leader.id); // the killed identity is gone
    for (const n of end) {
      for (const id of acked) {
        const got = await fetchJson(`${n.url}/v1/wallets/${id}`);
        expect({ node: n.id, id, status: got.status }).toEqual({ node: n.id, id, status: 200 });
      }
      for (const claimId of claims) {
        expect((await fetchJson(`${n.url}/v1/claims/${claimId}`)).status).toBe(200);
      }
    }
    expect(acked.length).toBeGreaterThanOrEqual(60);

    sup.child.kill('SIGTERM');
    expect(await sup.exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(); // nothing left behind
  }, 240_000);
});
