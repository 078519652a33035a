/**
 * A real 5-process cluster (`vigil cluster start --nodes 5`) under a stream of deposits and
 * claims: two nodes, the leader among them, are SIGKILLed at once (a minority of 5; the supervisor
 * restarts both as new members), then two others, the new leader among them, are SIGSTOPped and
 * resumed while a release goes through the three running nodes. Afterwards every acknowledged
 * deposit, claim and release is on every node, the membership converged back to 5 voters,
 * `vigil cluster status --json` lists the 5 nodes with the documented fields, and no process is
 * left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tenant, testLimits } from '../vault/node/actors.test-support.ts';
import {
  claimStatuses,
  cleanupClusters,
  depositClaimSolve,
  missingWrites,
  ProcessCluster,
  releaseWithRetries,
  urlsOf,
  WriteStream,
} from './support/cluster.ts';
import type { Json } from './support/http.ts';

afterAll(cleanupClusters);

// docs/cluster.md §5: the fields of `vigil cluster status --json`
const NODE_FIELDS = [
  'id',
  'slot',
  'url',
  'pid',
  'role',
  'term',
  'leader',
  'leaderUrl',
  'commitIndex',
  'appliedIndex',
  'lastIndex',
  'snapshotIndex',
  'voters',
  'learners',
  'epochReady',
  'peers',
];
const PEER_FIELDS = [
  'id',
  'voter',
  'match',
  'next',
  'state',
  'inflightMessages',
  'inflightBytes',
  'recentActive',
  'link',
];

describe('a real 5-process cluster under SIGKILL and SIGSTOP of a minority', () => {
  it('loses no acknowledged write and converges back to 5 voters', async () => {
    const { cluster, nodes: first } = await ProcessCluster.start(5);
    const tenant = new Tenant('acme');
    expect(await cluster.registerTenant(first[0]!.url, tenant)).toBe(201);
    const solved = await depositClaimSolve(
      first[0]!.url,
      cluster.keys,
      tenant,
      testLimits.minIterations,
    );
    const stream = new WriteStream(cluster, tenant, urlsOf(first));
    await stream.more(20, 'the first writes');

    // SIGKILL the leader and one follower at once: 3 of 5 remain, a majority
    const leader = first.find((n) => n.role === 'leader')!;
    const killed = [leader, first.find((n) => n.role !== 'leader')!];
    for (const n of killed) process.kill(n.pid, 'SIGKILL');
    stream.live = urlsOf(first.filter((n) => !killed.includes(n)));
    await stream.more(20, 'writes after two nodes were killed');

    // both slots rejoin as new members and the dead identities leave the voters
    const mid = await cluster.until('the rejoin of both killed slots', () => cluster.converged());
    const midIds = mid.map((n) => n.id);
    for (const n of killed) expect(midIds).not.toContain(n.id);

    // SIGSTOP the (new) leader and one follower: the other 3 elect a leader and keep writing
    const midLeader = mid.find((n) => n.role === 'leader')!;
    const paused = [midLeader, mid.find((n) => n.role !== 'leader')!];
    for (const n of paused) process.kill(n.pid, 'SIGSTOP');
    const running = urlsOf(mid.filter((n) => !paused.includes(n)));
    stream.live = running;
    try {
      // a release through the 3 running nodes (retried, same session, until a new leader answers)
      const x2 = await releaseWithRetries(cluster, running, solved, { client: 'five', seq: 1 });
      expect(x2).toBe(solved.wallet.x2);
      await stream.more(20, 'writes with the leader and a follower stopped');
    } finally {
      for (const n of paused) process.kill(n.pid, 'SIGCONT');
    }
    stream.live = urlsOf(mid);
    await stream.more(10, 'writes after the stopped nodes resumed');
    await stream.stop();

    const end = await cluster.until('the final convergence', () => cluster.converged());
    // a stopped node is not replaced: the same 5 identities, the stopped leader now a follower
    expect(end.map((n) => n.id).sort()).toEqual([...midIds].sort());
    expect(end.find((n) => n.role === 'leader')!.term).toBeGreaterThan(midLeader.term);
    expect(await missingWrites(end, stream)).toEqual([]);
    expect(await claimStatuses(end, solved.claimId)).toEqual(Array(5).fill('released'));
    expect(stream.acked.length).toBeGreaterThanOrEqual(70);

    const listed = await cluster.statusCli();
    expect(listed.map((n) => n.slot)).toEqual(cluster.slots);
    for (const n of listed) {
      expect(Object.keys(n)).toEqual(expect.arrayContaining(NODE_FIELDS));
      expect(n.voters).toHaveLength(5);
    }
    const leaders = listed.filter((n) => n.role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(leaders[0]!.peers).toHaveLength(4);
    for (const p of leaders[0]!.peers as Json[]) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(PEER_FIELDS));
      expect(p.voter).toBe(true);
    }
    for (const n of listed) expect(n.role === 'leader' || n.role === 'follower').toBe(true);

    const { code, alive } = await cluster.stop();
    expect(code).toBe(0);
    expect(alive).toEqual([]); // nothing left behind
  }, 240_000);
});
