/**
 * Nodes whose storage is kept by `vigil host` (issue 12 item 1), as real processes: three
 * `vigil cluster node --storage host:unix:<socket>`, each with its own host agent. Deposits are
 * acknowledged with nothing of the Raft state on the nodes' own disks; the host agent of one
 * node is SIGKILLed under load: that node stops (its store is gone: it never answers from a
 * state it cannot vouch for), the other two keep acknowledging deposits, and the node restarted
 * with a fresh host agent joins as a new member and holds every acknowledged deposit.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHello } from '../vault/index.ts';
import { Tenant } from '../vault/node/actors.test-support.ts';
import { runCli } from './support/cli.ts';
import { missingWrites, urlsOf, WriteStream } from './support/cluster.ts';
import { HostedCluster } from './support/hosted-cluster.ts';

let cluster: HostedCluster | undefined;
afterAll(async () => {
  await cluster?.destroy();
});

describe('vigil host and --storage host: at start', () => {
  it('refuses to listen beyond this machine, and a node refuses to start without its host agent', async () => {
    const where = await mkdtemp(join(tmpdir(), 'vigil-hosted-start-'));
    try {
      const open = await runCli('host', '--data-dir', join(where, 'h'), '--listen', '0.0.0.0:7599');
      expect(open.code).toBe(2);
      expect(open.stderr).toContain('Unix socket or loopback TCP only');
      const bad = await runCli('host', '--listen', 'nowhere');
      expect([bad.code, bad.stderr.includes('neither unix:<path> nor <host>:<port>')]).toEqual([
        2,
        true,
      ]);
      const node = await runCli(
        'cluster',
        'node',
        '--data-dir',
        join(where, 'd'),
        '--slot',
        'node-1',
        '--cluster-id',
        'c',
        '--insecure-dev-attestation',
        '--storage',
        `host:unix:${join(where, 'absent.sock')}`,
      );
      expect(node.code).toBe(2);
      expect(node.stderr).toContain('cannot reach the host agent');
    } finally {
      await rm(where, { recursive: true, force: true });
    }
  });
});

describe('vigil cluster node --storage host: nodes whose disk is a host agent', () => {
  it('acknowledges deposits, survives a host agent killed under load, and loses nothing', async () => {
    cluster = await HostedCluster.start({ tls: false });
    const c = cluster;
    const first = await c.founded();
    const tenant = new Tenant('acme');
    expect(await c.registerTenant(first[0]!.url, tenant)).toBe(201);
    // deposits (every fifth claimed) at every node, round robin; only acknowledged ones count
    const stream = new WriteStream(c, tenant, urlsOf(first));
    await stream.more(5, '5 deposits');

    // nothing of the Raft state is on the nodes' own disk; it is all with the host agents
    const raftDirs = async (dir: string) =>
      (await readdir(dir)).filter((f) => f.startsWith('raft-'));
    for (const [i, slot] of c.slots.entries()) {
      expect(await raftDirs(join(c.dataDir, slot))).toEqual([]);
      expect(await raftDirs(join(c.hostDir(i), slot))).toHaveLength(1);
    }

    // the host agent of a follower dies: that node exits rather than go on without its store
    const victim = first.find((n) => n.role !== 'leader')!;
    const i = c.slots.indexOf(victim.slot as string);
    stream.live = urlsOf(first.filter((n) => n !== victim));
    await c.killHost(i);
    expect(c.nodes[i]!.output()).toMatch(/storage failed, exiting/);
    await stream.more(5, '5 more deposits on the two others');

    // a fresh host agent on the same disk and the node restarted: a new member, caught up
    const members = await c.rejoin(i);
    expect(members.find((n) => n.slot === victim.slot)!.id).not.toBe(victim.id);
    // its generation came from the host agent (an enclave keeps nothing of its own)
    expect((await readHello(c.dataDir, victim.slot as string))!.generation).toBe(2);
    await expect(readdir(join(c.dataDir, victim.slot as string))).resolves.not.toContain(
      'generation',
    );
    stream.live = urlsOf(members);
    await stream.more(5, '5 more deposits');
    await stream.stop();

    const end = await c.until('convergence after the writes', () => c.converged());
    expect(await missingWrites(end, stream)).toEqual([]);
    // the old identity's store is still on the host's disk; the new one has its own namespace
    expect(await raftDirs(join(c.hostDir(i), victim.slot as string))).toHaveLength(2);

    // a whole-cluster stop of host-stored nodes: recover says it cannot read them, plainly
    for (const p of [...c.nodes, ...c.hosts]) p!.child.kill('SIGKILL');
    await Promise.all(c.nodes.map((p) => p!.exited));
    const recover = await runCli('cluster', 'recover', '--data-dir', c.dataDir);
    expect([recover.code, recover.stderr]).toEqual([1, expect.stringMatching(/host agent/)]);
  }, 240_000);
});
