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
import { depositToJson, readHello, tenantRegistrationToJson } from '../vault/index.ts';
import { Operator, Tenant } from '../vault/node/actors.test-support.ts';
import { runCli } from './support/cli.ts';
import type { ClusterKeys } from './support/cluster.ts';
import { fetchJson, type Json, postJson, sleep } from './support/http.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const procs: VigilProcess[] = [];
let root = '';
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  if (root) await rm(root, { recursive: true, force: true });
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const slots = ['node-1', 'node-2', 'node-3'];

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

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
    root = await mkdtemp(join(tmpdir(), 'vigil-hosted-'));
    const dataDir = join(root, 'nodes');
    const socket = (slot: string) => join(root, `${slot}.sock`);
    const hostDir = (slot: string) => join(root, `host-${slot}`);
    const host = async (slot: string) => {
      const p = startVigil([
        'host',
        '--data-dir',
        hostDir(slot),
        '--listen',
        `unix:${socket(slot)}`,
      ]);
      procs.push(p);
      await p.waitFor(/vigil host: serving/, 30_000);
      return p;
    };
    const operator = new Operator();
    const node = async (slot: string, found: boolean) => {
      const args = [
        'cluster',
        'node',
        '--data-dir',
        dataDir,
        '--slot',
        slot,
        '--cluster-id',
        'hosted',
      ];
      args.push('--insecure-dev-attestation', '--storage', `host:unix:${socket(slot)}`);
      if (found)
        args.push(
          '--found',
          slots.join(','),
          '--boot',
          'b1',
          '--operator-key',
          hex(operator.publicKey),
        );
      const p = startVigil(args);
      procs.push(p);
      return p;
    };
    const hosts = await Promise.all(slots.map(host));
    const nodes = await Promise.all(slots.map((s) => node(s, true)));
    await Promise.all(nodes.map((p, i) => p.waitFor(new RegExp(`ready ${slots[i]}`), 60_000)));

    const statuses = async () =>
      Promise.all(
        slots.map(async (slot) => {
          const h = await readHello(dataDir, slot);
          const s = (await fetchJson(`${h!.url}/v1/cluster/status`)).json as Json;
          return { ...s, url: h!.url, pid: h!.pid } as Json;
        }),
      );
    const converged = async () => {
      const s = await statuses();
      const leaders = s.filter((n) => n.role === 'leader');
      if (leaders.length !== 1 || s.some((n) => !n.epochReady)) return undefined;
      if (leaders[0]!.voters.length !== 3 || (leaders[0]!.learners?.length ?? 0) > 0)
        return undefined;
      const live = new Set(s.map((n) => n.id));
      if (!leaders[0]!.voters.every((v: string) => live.has(v))) return undefined;
      return new Set(s.map((n) => n.appliedIndex)).size === 1 ? s : undefined;
    };
    let members = await until('the founding cluster', converged);
    const att = (await fetchJson(`${members[0]!.url}/v1/attestation`)).json;
    const keys: ClusterKeys = {
      clusterId: Buffer.from(att.cluster.clusterId, 'hex'),
      clusterEncryptionKey: Buffer.from(att.cluster.clusterEncryptionKey, 'hex'),
      receiptKey: Buffer.from(att.cluster.receiptKey, 'hex'),
    };
    const tenant = new Tenant('acme');
    const reg = operator.registerTenant(keys, tenant);
    if (reg.type !== 'registerTenant') throw new Error('unreachable');
    const leaderUrl = members.find((n) => n.role === 'leader')!.url as string;
    expect(
      (await postJson(`${leaderUrl}/v1/tenants`, tenantRegistrationToJson(reg.registration)))
        .status,
    ).toBe(201);

    // deposits at every node, round robin, until stopped; only acknowledged ones are counted
    const acked: string[] = [];
    let stop = false;
    let live = members.map((n) => n.url as string);
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const w = tenant.newWallet();
        const cmd = tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 });
        if (cmd.type !== 'deposit') throw new Error('unreachable');
        try {
          const d = await postJson(
            `${live[i % live.length]}/v1/deposits`,
            depositToJson(cmd.deposit),
          );
          if (d.status === 201) acked.push(hex(w.walletId));
          else await sleep(50);
        } catch {
          await sleep(50);
        }
      }
    })();
    await until('5 deposits', async () => acked.length >= 5);

    // nothing of the Raft state is on the nodes' own disk; it is all with the host agents
    for (const slot of slots) {
      expect((await readdir(join(dataDir, slot))).filter((f) => f.startsWith('raft-'))).toEqual([]);
      expect(
        (await readdir(join(hostDir(slot), slot))).filter((f) => f.startsWith('raft-')),
      ).toHaveLength(1);
    }

    // the host agent of a follower dies: that node exits rather than go on without its store
    const victim = members.find((n) => n.role !== 'leader')!;
    const slotIndex = slots.indexOf(victim.slot as string);
    live = members.filter((n) => n !== victim).map((n) => n.url as string);
    hosts[slotIndex]!.child.kill('SIGKILL');
    await nodes[slotIndex]!.exited;
    expect(nodes[slotIndex]!.output()).toMatch(/storage failed, exiting/);
    const before = acked.length;
    await until('5 more deposits on the two others', async () => acked.length >= before + 5);

    // a fresh host agent on the same disk and the node restarted: a new member, caught up
    hosts[slotIndex] = await host(victim.slot as string);
    nodes[slotIndex] = await node(victim.slot as string, false);
    await nodes[slotIndex]!.waitFor(new RegExp(`ready ${victim.slot}`), 60_000);
    members = await until('the cluster with the new member', converged, 90_000);
    expect(members.find((n) => n.slot === victim.slot)!.id).not.toBe(victim.id);
    // its generation came from the host agent (an enclave keeps nothing of its own)
    expect((await readHello(dataDir, victim.slot as string))!.generation).toBe(2);
    await expect(readdir(join(dataDir, victim.slot as string))).resolves.not.toContain(
      'generation',
    );
    live = members.map((n) => n.url as string);
    await until('5 more deposits', async () => acked.length >= before + 10);
    stop = true;
    await writer;
    members = await until('convergence after the writes', converged);

    const missing: string[] = [];
    for (const n of members) {
      for (const id of acked) {
        const got = await fetchJson(`${n.url}/v1/wallets/${id}`);
        if (got.status !== 200) missing.push(`${n.slot} ${id}: ${got.status}`);
      }
    }
    expect(missing).toEqual([]);
    // the old identity's store is still on the host's disk; the new one has its own namespace
    expect(
      (await readdir(join(hostDir(victim.slot as string), victim.slot as string))).filter((f) =>
        f.startsWith('raft-'),
      ),
    ).toHaveLength(2);
  }, 240_000);
});
