import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage } from './codec.ts';
import type { KvWrite } from './kv.ts';
import { type DurableStateMachine, type NodeOptions, RaftNode, type Transport } from './node.ts';
import { RaftStorage, type StateReader } from './storage.ts';
import type { Message } from './types.ts';

/** A key/value machine: command "k=v" sets k and replies with the number of keys. */
class KvMachine implements DurableStateMachine {
  kv = new Map<string, string>();
  private writes: KvWrite[] = [];
  apply(command: Uint8Array): Uint8Array {
    const [k, v] = new TextDecoder().decode(command).split('=') as [string, string];
    this.kv.set(k, v);
    this.writes.push({ key: `kv/${k}`, value: new TextEncoder().encode(v) });
    return new TextEncoder().encode(String(this.kv.size));
  }
  drainWrites(): KvWrite[] {
    return this.writes.splice(0);
  }
  async load(state: StateReader): Promise<void> {
    this.kv = new Map();
    for await (const [k, v] of state.iterate('kv/'))
      this.kv.set(k.slice(3), new TextDecoder().decode(v));
  }
}

/** In-process transport hub: stands in for the authenticated network transport. */
class Hub {
  handlers = new Map<string, (from: string, m: Uint8Array) => void>();
  down = new Set<string>();
  transport(id: string): Transport {
    return {
      send: (to, m) => {
        if (this.down.has(id) || this.down.has(to)) return;
        setImmediate(() => this.handlers.get(to)?.(id, m));
      },
      onMessage: (h) => {
        this.handlers.set(id, h);
      },
    };
  }
}

/** A node on the hub with a key/value machine and a fast clock. */
function startNode(
  hub: Hub,
  id: string,
  storage: RaftStorage,
  voters: string[],
  extra: Partial<NodeOptions> = {},
): Promise<RaftNode> {
  return RaftNode.start({
    id,
    storage,
    transport: hub.transport(id),
    machine: new KvMachine(),
    tickMs: 10,
    bootstrap: { voters, learners: [] },
    ...extra,
  });
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RaftNode shell (real clock, LevelDB, abstract transport)', () => {
  it('replicates, replies after apply, and a restarted node recovers from disk', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const hub = new Hub();
    const paths = new Map<string, string>();
    const fsyncs: number[] = [];
    const start = async (id: string): Promise<RaftNode> => {
      const storage = await RaftStorage.open(paths.get(id)!);
      return startNode(hub, id, storage, ids, {
        snapshotEvery: 5,
        onFsync: (s) => fsyncs.push(s),
      });
    };
    for (const id of ids) {
      const d = await mkdtemp(join(tmpdir(), `vigil-node-${id}-`));
      dirs.push(d);
      paths.set(id, d);
    }
    const nodes = new Map<string, RaftNode>();
    for (const id of ids) nodes.set(id, await start(id));
    await until(() => [...nodes.values()].some((n) => n.status().role === 'leader'));
    const leader = [...nodes.values()].find((n) => n.status().role === 'leader')!;
    const replies: string[] = [];
    for (let i = 0; i < 8; i++) {
      replies.push(
        new TextDecoder().decode(
          await leader.propose(new TextEncoder().encode(`k${i}=v${i}`), {
            clientId: 'c',
            seq: i + 1,
          }),
        ),
      );
    }
    expect(replies).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    // a retry of the last command returns the cached reply and changes nothing
    const retry = await leader.propose(new TextEncoder().encode('k7=v7'), {
      clientId: 'c',
      seq: 8,
    });
    expect(new TextDecoder().decode(retry)).toBe('8');
    const follower = [...nodes.entries()].find(([, n]) => n !== leader)!;
    await until(() => follower[1].status().appliedIndex === leader.status().commitIndex);
    const before = follower[1].status();
    expect(before.snapshotIndex).toBeGreaterThan(0); // compacted
    const leaderStatus = leader.status();
    expect(leaderStatus.peers.length).toBe(2);
    expect(fsyncs.length).toBeGreaterThan(0);

    // stop the follower and start it again from its LevelDB
    await follower[1].stop();
    hub.down.add(follower[0]);
    const restarted = await start(follower[0]);
    const after = restarted.status();
    expect(after.term).toBe(before.term);
    expect(after.vote).toBe(before.vote);
    expect(after.appliedIndex).toBe(before.appliedIndex);
    expect(after.snapshotIndex).toBe(before.snapshotIndex);
    expect(after.lastIndex).toBe(before.lastIndex);
    hub.down.delete(follower[0]);
    nodes.set(follower[0], restarted);
    await leader.propose(new TextEncoder().encode('z=1'));
    await until(() => restarted.status().appliedIndex === leader.status().commitIndex);
    for (const n of nodes.values()) await n.stop();
  });

  it('one synced write per proposal: the applied state rides on the next one or is flushed on demand', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const hub = new Hub();
    const nodes: RaftNode[] = [];
    const saves = new Map<string, { entries: number; applied: number | undefined }[]>();
    for (const id of ids) {
      const d = await mkdtemp(join(tmpdir(), `vigil-node-${id}-`));
      dirs.push(d);
      const storage = await RaftStorage.open(d);
      const log: { entries: number; applied: number | undefined }[] = [];
      saves.set(id, log);
      const save = storage.save.bind(storage);
      storage.save = (rd, riders = []) => {
        const applied = Math.max(0, ...riders.map((r) => r.applied));
        log.push({ entries: rd.entries.length, applied: applied || undefined });
        return save(rd, riders);
      };
      nodes.push(await startNode(hub, id, storage, ids));
    }
    await until(() => nodes.some((n) => n.status().role === 'leader'));
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    await leader.propose(new TextEncoder().encode('warm=up'));
    const log = saves.get(leader.status().id)!;
    log.length = 0;
    for (let i = 0; i < 10; i++) await leader.propose(new TextEncoder().encode(`k${i}=${i}`));
    // before: entries, then the commit index, then the applied state: three synced writes each
    expect(log.length).toBe(10);
    expect(log.every((w) => w.entries === 1)).toBe(true);
    // each carries the applied state of the proposals before it
    expect(log.slice(1).every((w) => w.applied !== undefined)).toBe(true);
    await until(() => leader.status().appliedIndex === leader.status().lastIndex);
    const applied = leader.status().appliedIndex;
    expect(log.at(-1)!.applied).toBeLessThan(applied); // the last one is not on disk yet
    await leader.whenApplyDurable();
    expect(log.at(-1)).toEqual({ entries: 0, applied });
    await leader.whenApplyDurable(); // nothing left to write: resolves without a write
    expect(log.at(-1)).toEqual({ entries: 0, applied });
    expect(log.length).toBe(11);
    for (const n of nodes) await n.stop();
  });

  it('a leader answers what its followers committed while its own write is still in flight; the applied state waits for it', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const hub = new Hub();
    const nodes: RaftNode[] = [];
    const storages = new Map<string, RaftStorage>();
    for (const id of ids) {
      const d = await mkdtemp(join(tmpdir(), `vigil-node-${id}-`));
      dirs.push(d);
      const storage = await RaftStorage.open(d);
      storages.set(id, storage);
      nodes.push(await startNode(hub, id, storage, ids));
    }
    await until(() => nodes.some((n) => n.status().role === 'leader'));
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    await leader.propose(new TextEncoder().encode('warm=up'));
    await leader.whenApplyDurable();
    // the leader's disk stalls on its next write of entries
    const storage = storages.get(leader.status().id)!;
    const save = storage.save.bind(storage);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let stalled = 0;
    storage.save = async (rd, riders = []) => {
      if (rd.entries.length > 0) {
        stalled += 1;
        await gate;
      }
      return save(rd, riders);
    };
    const reply = await Promise.race([
      leader.propose(new TextEncoder().encode('k=v')),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer while the leader writes')), 10_000),
      ),
    ]);
    expect(new TextDecoder().decode(reply)).toBe('2');
    expect(stalled).toBe(1); // answered with the leader's own write still waiting
    let durable = false;
    const whenDurable = leader.whenApplyDurable().then(() => {
      durable = true;
    });
    // new proposals wait to share the leader's next write, and nothing applied is on its disk yet
    const next = leader.propose(new TextEncoder().encode('k2=v2'));
    await until(() => nodes.every((n) => n.status().commitIndex >= leader.status().lastIndex - 1));
    expect(durable).toBe(false);
    release();
    await whenDurable;
    expect(new TextDecoder().decode(await next)).toBe('3');
    await leader.whenApplyDurable();
    for (const n of nodes) await n.stop();
  });

  it('answers before telling the followers what committed; under steady writes the next append tells them', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const hub = new Hub();
    const sent: { from: string; m: Message }[] = [];
    const nodes: RaftNode[] = [];
    for (const id of ids) {
      const d = await mkdtemp(join(tmpdir(), `vigil-node-${id}-`));
      dirs.push(d);
      const transport = hub.transport(id);
      const send = transport.send;
      transport.send = (to, bytes) => {
        sent.push({ from: id, m: decodeMessage(bytes) });
        send(to, bytes);
      };
      const storage = await RaftStorage.open(d);
      nodes.push(await startNode(hub, id, storage, ids, { transport, commitNoticeMs: 200 }));
    }
    await until(() => nodes.some((n) => n.status().role === 'leader'));
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    const id = leader.status().id;
    await leader.propose(new TextEncoder().encode('warm=up'));
    const commitNotices = (index: number) =>
      sent.filter(
        ({ from, m }) =>
          from === id && m.type === 'append' && m.entries.length === 0 && m.commit >= index,
      ).length;
    for (let i = 0; i < 5; i++) {
      const at = leader.status().lastIndex + 1;
      await leader.propose(new TextEncoder().encode(`k${i}=${i}`));
      expect(commitNotices(at)).toBe(0); // answered first
      await until(() => commitNotices(at) === 2); // then each follower learns the commit
    }
    // back to back, each write's append carries the previous commit: no notice of its own
    const first = leader.status().lastIndex + 1;
    for (let i = 0; i < 10; i++) await leader.propose(new TextEncoder().encode(`b${i}=${i}`));
    await until(() => nodes.every((n) => n.status().appliedIndex === first + 9));
    expect(commitNotices(first)).toBeLessThanOrEqual(4); // the last write's, and slack
    for (const n of nodes) await n.stop();
  });

  it('a clock that cannot be read stops the node (fail-stop), not as an exception in its timer', async () => {
    const d = await mkdtemp(join(tmpdir(), 'vigil-node-clock-'));
    dirs.push(d);
    let readable = true;
    const clock = () => {
      if (!readable) throw new Error('the store behind this clock found its host lying');
      return Math.floor(performance.now());
    };
    const node = await startNode(new Hub(), 'n1', await RaftStorage.open(d), ['n1'], { clock });
    await until(() => node.status().role === 'leader');
    await node.propose(new TextEncoder().encode('a=1'));
    readable = false;
    // the next tick stops it: the pending write and every later one are refused
    const propose = () =>
      node.propose(new TextEncoder().encode('b=2')).then(
        () => 'committed',
        (e: { code?: string }) => e.code ?? 'error',
      );
    let outcome = await propose();
    for (const end = Date.now() + 30_000; outcome === 'committed' && Date.now() < end; ) {
      outcome = await propose();
    }
    expect(outcome).not.toBe('committed');
    expect(await propose()).toBe('CLUSTER_STOPPED');
    await node.stop();
  });

  it('adds a learner (streamed a snapshot in small chunks), promotes it, and transfers leadership to it', async () => {
    const hub = new Hub();
    const nodes = new Map<string, RaftNode>();
    const machines = new Map<string, KvMachine>();
    const start = async (id: string, voters: string[]): Promise<RaftNode> => {
      const d = await mkdtemp(join(tmpdir(), `vigil-node-${id}-`));
      dirs.push(d);
      const machine = new KvMachine();
      machines.set(id, machine);
      const n = await startNode(hub, id, await RaftStorage.open(d), voters, {
        machine,
        snapshotEvery: 3,
        config: { snapshotChunkBytes: 16 },
      });
      nodes.set(id, n);
      return n;
    };
    for (const id of ['n1', 'n2', 'n3']) await start(id, ['n1', 'n2', 'n3']);
    await until(() => [...nodes.values()].some((n) => n.status().role === 'leader'));
    const leader = [...nodes.values()].find((n) => n.status().role === 'leader')!;
    for (let i = 0; i < 5; i++) await leader.propose(new TextEncoder().encode(`a${i}=${i}`));
    const joiner = await start('n4', []); // joins with an empty configuration
    await leader.proposeConfChange({ op: 'addLearner', node: 'n4' });
    await until(() => joiner.status().appliedIndex === leader.status().commitIndex);
    expect(joiner.status().snapshotIndex).toBeGreaterThan(0); // it got the state by snapshot
    expect([...machines.get('n4')!.kv].sort()).toEqual([...machines.get('n1')!.kv].sort());
    await leader.proposeConfChange({ op: 'promote', node: 'n4' });
    await until(() => joiner.status().conf.voters.includes('n4'));
    leader.transferLeadership('n4');
    await until(() => joiner.status().role === 'leader');
    expect(new TextDecoder().decode(await joiner.propose(new TextEncoder().encode('b=1')))).toBe(
      '6',
    );
    for (const n of nodes.values()) await n.stop();
  });
});
