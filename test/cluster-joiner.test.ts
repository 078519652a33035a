/**
 * Issue 11 item 11 with real processes (`vigil cluster start --nodes 3`): a replacement member
 * admitted by a leader that is itself a replacement replays a log whose early memberships never
 * list that leader. Before the fix it dropped the leader's link once its replay reached the
 * genesis membership and stopped for good (2 of 4 fault runs). The log is made longer than one
 * 1 MiB Raft append before any replacement exists, so the joiner's replay has to cross an old
 * membership while it still needs entries from the leader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tenant } from '../vault/node/actors.test-support.ts';
import { cleanupClusters, depositMany, ProcessCluster } from './support/cluster.ts';
import type { Json } from './support/http.ts';

afterAll(cleanupClusters);

// ~970 bytes per deposit entry: 1,360 of them are ~1.3 MiB, more than one append (1 MiB)
const TENANTS = 8;
const PER_TENANT = 170;

describe('a replacement member admitted by a replacement leader (issue 11 item 11)', () => {
  it('catches up with the leader whatever membership its replay passes through', async () => {
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (what: string) =>
      phases.push(`${what} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const { cluster, nodes: first } = await ProcessCluster.start(3);
    phase('founded');
    const founders = new Set(first.map((n) => n.id as string));
    const leaderUrl = first.find((n) => n.role === 'leader')!.url as string;
    const tenants = Array.from({ length: TENANTS }, (_, i) => new Tenant(`t${i}`));
    for (const t of tenants) expect(await cluster.registerTenant(leaderUrl, t)).toBe(201);
    expect(await depositMany(leaderUrl, cluster.keys, tenants, PER_TENANT)).toBe(
      TENANTS * PER_TENANT,
    );

    // SIGKILL leaders (each restarted as a new member, which must be admitted and promoted
    // before the next kill) until a replacement, which the genesis never listed, leads
    let nodes = await cluster.until('the deposits everywhere', () => cluster.converged());
    phase(`${TENANTS * PER_TENANT} deposits`);
    let leader = nodes.find((n) => n.role === 'leader')!;
    for (let kills = 0; founders.has(leader.id); kills++) {
      if (kills === 4) throw new Error('4 leaders killed and a founder still leads');
      process.kill(leader.pid, 'SIGKILL');
      const killed = leader.id;
      nodes = await cluster.until(
        `the rejoin after killing leader ${killed}`,
        async () => {
          const s = await cluster.converged();
          return s && !s.some((n) => n.id === killed) ? s : undefined;
        },
        120_000,
      );
      leader = nodes.find((n) => n.role === 'leader')!;
      phase(`leader ${kills + 1} killed, its slot rejoined`);
    }

    // replace a follower: the replacement leader admits it, and it replays from index 1
    const victim = nodes.find((n) => n.role !== 'leader')!;
    process.kill(victim.pid, 'SIGKILL');
    const replaced = await cluster.until(
      'the replaced follower to catch up with the leader',
      async () => {
        const s = await cluster.converged();
        return s && !s.some((n) => n.id === victim.id) ? s : undefined;
      },
      120_000,
    );
    phase('the follower replaced and caught up');
    console.log(`cluster-joiner: ${phases.join(', ')}`);
    const joiner = replaced.find((n) => !nodes.some((m: Json) => m.id === n.id))!;
    const now = replaced.find((n) => n.role === 'leader')!;
    expect(joiner.appliedIndex).toBe(now.appliedIndex);
    expect(joiner.snapshotIndex).toBe(0); // it replayed the log, not a snapshot
    expect(now.commitIndex).toBeGreaterThan(TENANTS * PER_TENANT);
    const { code, alive } = await cluster.stop();
    expect(code).toBe(0);
    expect(alive).toEqual([]);
  }, 360_000);
});
