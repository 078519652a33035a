import { describe, expect, it } from 'vitest';
import { ClusterError } from './errors.ts';
import { Raft } from './raft.ts';
import { Applier, SESSION_CONFLICT, type StateMachine } from './sessions.ts';
import { MemStore, seededRandom, TestNet } from './testnet.ts';
import type { Message } from './types.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const ABC = ['a', 'b', 'c'];

function leaderOf(net: TestNet, id: string): Raft {
  net.elect(id);
  const r = net.node(id);
  expect(r.role).toBe('leader');
  return r;
}

describe('election (Raft §5.2, thesis §9.6)', () => {
  it('elects one leader and every node learns it', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    for (const id of ABC) expect(net.node(id).leader).toBe('a');
    expect(net.node('b').term).toBe(net.node('a').term);
  });

  it('a node votes at most once per term and persists the vote before replying', () => {
    const store = new MemStore();
    const r = new Raft({
      id: 'b',
      random: seededRandom(1),
      hardState: store.hardState,
      snapshot: null,
      entries: [],
      applied: 0,
      bootstrap: { voters: ABC, learners: [] },
      config: { checkQuorum: false },
    });
    store.save(r.ready());
    const vote = (from: string): Message => ({
      type: 'vote',
      term: 5,
      from,
      to: 'b',
      lastIndex: 10,
      lastTerm: 4,
      transfer: false,
    });
    r.step(vote('a'));
    const rd = r.ready();
    // the vote is in the same Ready as the grant: the shell persists it before sending
    expect(rd.hardState).toMatchObject({ term: 5, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([
      expect.objectContaining({ type: 'voteResp', to: 'a', reject: false }),
    ]);
    store.save(rd);
    r.advance(rd);
    r.step(vote('c'));
    expect(r.ready().messages).toEqual([
      expect.objectContaining({ type: 'voteResp', to: 'c', reject: true }),
    ]);
    // after a restart the vote is still there
    const again = new Raft({
      id: 'b',
      random: seededRandom(2),
      hardState: store.hardState,
      snapshot: store.snapshot,
      entries: store.entries,
      applied: 0,
      config: { checkQuorum: false },
    });
    again.step(vote('c'));
    expect(again.ready().messages).toEqual([expect.objectContaining({ reject: true })]);
  });

  it('a candidate with a less up-to-date log does not get the vote', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    net.filter = (m) => m.to !== 'c';
    net.propose('x'); // c misses it
    net.filter = () => true;
    net.node('c').campaignNow();
    net.deliver();
    expect(net.node('c').role).not.toBe('leader');
  });

  it('pre-vote: a node returning from a partition does not disrupt the term', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    const term = net.node('a').term;
    net.filter = (m) => m.to !== 'c' && m.from !== 'c';
    for (let i = 0; i < 60; i++) net.tickAll();
    expect(net.node('c').term).toBe(term); // pre-votes never succeeded, no term bump
    net.filter = () => true;
    net.tickAll(5);
    expect(net.node('a').role).toBe('leader');
    expect(net.node('a').term).toBe(term);
  });

  it('check-quorum: a leader that hears from no majority steps down', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    net.filter = (m) => m.to !== 'a';
    for (let i = 0; i < 25; i++) net.tickAll();
    expect(net.node('a').role).not.toBe('leader');
  });

  it('a learner never campaigns', () => {
    const net = new TestNet(['a']);
    const a = leaderOf(net, 'a');
    net.deliver();
    a.proposeConfChange({ op: 'addLearner', node: 'l' });
    net.add('l', { voters: [], learners: [] });
    net.deliver();
    net.filter = (m) => m.from !== 'a';
    for (let i = 0; i < 50; i++) net.tick('l');
    expect(net.node('l').role).toBe('follower');
    expect(net.node('l').term).toBe(a.term);
  });
});

describe('replication (Raft §5.3, §5.4)', () => {
  it('log matching: a follower rejects a mismatching prevTerm and truncates a conflict', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    net.propose('x');
    // b gets entries from a stale leader of an old term that never committed
    const b = net.node('b');
    const last = b.log.lastIndex();
    b.step({
      type: 'append',
      term: b.term,
      from: 'a',
      to: 'b',
      prevIndex: last,
      prevTerm: 99,
      entries: [],
      commit: 0,
    });
    expect(b.ready().messages).toEqual([
      expect.objectContaining({ type: 'appendResp', reject: true, index: last }),
    ]);
  });

  it('a leader never commits an entry of an older term by counting replicas (Figure 8)', () => {
    const net = new TestNet(ABC, { maxMsgBytes: 1, checkQuorum: false, preVote: false });
    leaderOf(net, 'a');
    // x is appended in term T but reaches nobody; a restarts and leads again in term T+1
    net.filter = () => false;
    net.node('a').propose({ data: enc('x') });
    net.processAll();
    const x = net.node('a').log.lastIndex();
    const a = net.restart('a');
    // followers store x, but their acks of a's own-term no-op are lost
    net.filter = (m) => !(m.type === 'appendResp' && !m.reject && m.index > x);
    net.elect('a');
    expect(a.role).toBe('leader');
    expect(a.status().peers.map((p) => p.match)).toEqual([x, x]);
    expect(a.log.committed).toBeLessThan(x); // a majority holds x, yet it is not committed
    net.filter = () => true;
    net.tickAll(10);
    expect(a.log.committed).toBe(x + 1); // committed together with the no-op of term T+1
    expect(net.appliedData('b')).toEqual(['x']);
  });

  it('commits only after the leader itself persisted (single voter)', () => {
    const r = new Raft({
      id: 'a',
      random: seededRandom(1),
      hardState: { term: 0, vote: '', commit: 0 },
      snapshot: null,
      entries: [],
      applied: 0,
      bootstrap: { voters: ['a'], learners: [] },
    });
    r.campaignNow();
    expect(r.role).toBe('leader');
    const rd = r.ready();
    const noop = rd.entries.at(-1)!;
    expect(rd.hardState!.commit).toBeLessThan(noop.index); // not yet durable, not committed
    r.advance(rd);
    expect(r.log.committed).toBe(noop.index);
  });

  it('a Ready must be synced for entries, a term or a vote, never for a commit index alone', () => {
    const net = new TestNet(ABC);
    const a = leaderOf(net, 'a');
    const b = net.node('b');
    net.propose('x');
    const step = (r: Raft, from: readonly Message[]) => {
      for (const m of from) if (m.to === r.id) r.step(m);
      const rd = r.ready();
      r.advance(rd);
      return rd;
    };
    const { index } = a.propose({ data: enc('y') });
    const appendY = step(a, []);
    expect(appendY.mustSync).toBe(true);
    const ackY = step(b, appendY.messages);
    expect(ackY.mustSync).toBe(true);
    expect(ackY.messages).toEqual([expect.objectContaining({ type: 'appendResp', index })]);
    const commitY = step(a, ackY.messages);
    expect(commitY.hardState).toMatchObject({ commit: index });
    expect(commitY.committed.map((e) => e.index)).toEqual([index]);
    expect(commitY.mustSync).toBe(false);
    const learnY = step(b, commitY.messages);
    expect(learnY.hardState).toMatchObject({ commit: index });
    expect(learnY.committed.map((e) => e.index)).toEqual([index]);
    expect(learnY.mustSync).toBe(false);
  });

  it('a new commit index rides with the next proposals: one append per follower, not two', () => {
    const net = new TestNet(ABC);
    const a = leaderOf(net, 'a');
    const b = net.node('b');
    net.propose('x');
    const { index: y } = a.propose({ data: enc('y') });
    const rdA = a.ready();
    a.advance(rdA);
    for (const m of rdA.messages) if (m.to === 'b') b.step(m);
    const rdB = b.ready();
    b.advance(rdB);
    for (const m of rdB.messages) a.step(m); // y is committed (a and b hold it)
    expect(a.log.committed).toBe(y);
    const { index: z } = a.propose({ data: enc('z') });
    const toB = a.ready().messages.filter((m) => m.to === 'b');
    expect(toB).toEqual([expect.objectContaining({ type: 'append', commit: y })]);
    expect(toB[0]!.type === 'append' && toB[0]!.entries.map((e) => e.index)).toEqual([z]);
  });

  it('flow control: at most maxInflightMessages appends per follower without acks', () => {
    const net = new TestNet(ABC, { maxInflightMessages: 2, maxMsgBytes: 1 });
    const a = leaderOf(net, 'a');
    net.propose('warm-up'); // b and c in replicate state
    net.filter = (m) => !(m.type === 'appendResp' && m.from === 'b');
    const before = net.queue.length;
    for (let i = 0; i < 10; i++) a.propose({ data: enc(`p${i}`) });
    net.process('a');
    const toB = net.queue.slice(before).filter((m) => m.to === 'b' && m.type === 'append');
    expect(toB.length).toBe(2);
    expect(a.status().peers.find((p) => p.id === 'b')!.inflightMessages).toBe(2);
  });

  it('bounds uncommitted bytes at the leader', () => {
    const net = new TestNet(ABC, { maxUncommittedBytes: 200 });
    const a = leaderOf(net, 'a');
    net.filter = () => false;
    a.propose({ data: new Uint8Array(100) });
    expect(() => a.propose({ data: new Uint8Array(100) })).toThrow(ClusterError);
    try {
      a.propose({ data: new Uint8Array(100) });
      expect.unreachable();
    } catch (e) {
      expect((e as ClusterError).code).toBe('CLUSTER_OVERLOADED');
    }
  });

  it('a follower refuses proposals and names the leader', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    try {
      net.node('b').propose({ data: enc('x') });
      expect.unreachable();
    } catch (e) {
      expect((e as ClusterError).code).toBe('CLUSTER_NOT_LEADER');
      expect((e as ClusterError).leaderHint).toBe('a');
    }
  });
});

describe('membership, transfer, snapshots, sessions', () => {
  it('learner catches up before promotion; single-server rules enforced', () => {
    const net = new TestNet(ABC);
    const a = leaderOf(net, 'a');
    for (let i = 0; i < 20; i++) net.propose(`e${i}`);
    a.proposeConfChange({ op: 'addLearner', node: 'd' });
    expect(() => a.proposeConfChange({ op: 'addLearner', node: 'e' })).toThrow(/still uncommitted/);
    net.filter = (m) => m.to !== 'd';
    net.deliver();
    net.add('d', { voters: [], learners: [] });
    expect(() => a.proposeConfChange({ op: 'promote', node: 'd' })).toThrow(/not caught up/);
    expect(() => a.proposeConfChange({ op: 'remove', node: 'a' })).toThrow(/transfer leadership/);
    net.filter = () => true;
    net.tickAll(5);
    expect(net.appliedData('d')).toEqual(net.appliedData('a'));
    a.proposeConfChange({ op: 'promote', node: 'd' });
    net.tickAll(2);
    for (const id of [...ABC, 'd'])
      expect(net.node(id).conf().voters).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leadership transfer hands over to an up-to-date voter (TimeoutNow)', () => {
    const net = new TestNet(ABC);
    const a = leaderOf(net, 'a');
    net.propose('x');
    const term = a.term;
    a.transferLeadership('c');
    net.deliver();
    expect(net.node('c').role).toBe('leader');
    expect(net.node('c').term).toBe(term + 1);
    expect(a.role).toBe('follower');
  });

  it('a lagging follower installs a chunked snapshot after compaction', () => {
    const net = new TestNet(ABC, { snapshotChunkBytes: 3 });
    const a = leaderOf(net, 'a');
    net.filter = (m) => m.to !== 'c';
    for (let i = 0; i < 10; i++) net.propose(`e${i}`);
    net.compact('a', a.log.applied, enc('state-at-applied'));
    net.filter = () => true;
    net.tickAll(20);
    const c = net.node('c');
    expect(c.log.snapIndex).toBe(a.log.snapIndex);
    expect(new TextDecoder().decode(net.stores.get('c')!.installed!)).toBe('state-at-applied');
    net.propose('after');
    expect(net.appliedData('c')).toEqual(['after']);
  });

  it('stages snapshot chunks in order only, and installs on the last one', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    const b = net.node('b');
    const meta = { index: 100, term: b.term, conf: b.conf() };
    const chunk = (seq: number, last = false) =>
      b.step({
        type: 'snapshot',
        term: b.term,
        from: 'a',
        to: 'b',
        meta,
        seq,
        last,
        chunk: Uint8Array.of(seq),
      });
    chunk(1); // no transfer under way: start over
    let rd = b.ready();
    expect(rd.snapshotChunks).toEqual([]);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'snapshotResp', nextSeq: 0 })]);
    chunk(0);
    chunk(2); // a gap: ask again for 1
    rd = b.ready();
    expect(rd.snapshotChunks.map((c) => c.seq)).toEqual([0]);
    expect(rd.messages.map((m) => m.type === 'snapshotResp' && m.nextSeq)).toEqual([1, 1]);
    b.advance(rd);
    chunk(1, true);
    rd = b.ready();
    expect(rd.snapshotChunks.map((c) => c.seq)).toEqual([1]);
    expect(rd.snapshot).toEqual({ snapshot: { meta }, install: true });
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResp', index: 100 })]);
  });

  it('a retried command (same client id and seq) is applied once; the retry gets the cached reply', () => {
    let counter = 0;
    const machine: StateMachine = { apply: () => enc(String(++counter)) };
    const applier = new Applier(machine);
    const net = new TestNet(ABC);
    const a = leaderOf(net, 'a');
    a.propose({ clientId: 'k', seq: 1, data: enc('inc') });
    a.propose({ clientId: 'k', seq: 1, data: enc('inc') }); // the retry
    a.propose({ clientId: 'k', seq: 2, data: enc('inc') });
    net.deliver();
    const results = net.applied
      .get('a')!
      .map((e) => applier.apply(e))
      .filter((r) => r.reply !== null);
    expect(counter).toBe(2);
    expect(results.map((r) => [new TextDecoder().decode(r.reply!), r.duplicate])).toEqual([
      ['1', false],
      ['1', true],
      ['2', false],
    ]);
    // sessions travel as records with the state: a replica loaded from them dedups the same way
    const copy = new Applier(machine);
    const records = applier.dumpSessionWrites().map((w) => [w.key, w.value!] as const);
    copy.loadSessions(records, applier.applied);
    expect(
      copy.apply({ index: 99, term: 1, type: 'normal', clientId: 'k', seq: 2, data: enc('inc') })
        .duplicate,
    ).toBe(true);
  });

  it('a session caches a reply for the same command only, and only accepted commands advance it', () => {
    const machine: StateMachine = {
      apply: (data) => enc(new TextDecoder().decode(data) === 'bad' ? 'rejected' : 'ok'),
      accepted: (reply) => new TextDecoder().decode(reply) === 'ok',
    };
    const applier = new Applier(machine);
    const entry = (index: number, seq: number, data: string) =>
      applier.apply({ index, term: 1, type: 'normal', clientId: 'k', seq, data: enc(data) });
    // a rejected command with a huge sequence number does not move the session
    expect(new TextDecoder().decode(entry(1, 1_000_000, 'bad').reply!)).toBe('rejected');
    expect(entry(2, 1, 'a').duplicate).toBe(false);
    // the same sequence number: the cached reply for the same command, a conflict for another
    expect(entry(3, 1, 'a')).toMatchObject({ duplicate: true, reply: enc('ok') });
    expect(entry(4, 1, 'b').reply).toEqual(SESSION_CONFLICT);
  });

  it('exposes status for observability', () => {
    const net = new TestNet(ABC);
    leaderOf(net, 'a');
    net.propose('x');
    const s = net.node('a').status();
    expect(s).toMatchObject({ role: 'leader', leader: 'a', id: 'a' });
    expect(s.commitIndex).toBe(s.lastIndex);
    expect(s.peers.map((p) => [p.id, p.match === s.lastIndex])).toEqual([
      ['b', true],
      ['c', true],
    ]);
  });
});
