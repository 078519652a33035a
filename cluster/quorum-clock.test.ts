import { describe, expect, it } from 'vitest';
import { quorum } from './conf.ts';
import { seededRandom, TestNet } from './testnet.ts';
import type { Entry, NodeId } from './types.ts';

/**
 * The core's half of the quorum clock (docs/raft.md §Admission): responses carry each node's
 * clock, the leader reads the majority's reading, and an entry a node's `admit` refuses is neither
 * stored by that follower nor counted by that leader, so it commits only once a majority admits it.
 * Here a "time" entry is the text `time:N`, admitted by a node whose clock has reached N.
 */
const dec = (e: Entry) => new TextDecoder().decode(e.data);
const timeOf = (e: Entry): number | null =>
  e.type === 'normal' && dec(e).startsWith('time:') ? Number(dec(e).slice(5)) : null;

function clockNet(ids: NodeId[], seed = 1, admitPatienceTicks = 10_000) {
  const clocks = new Map<NodeId, number>(ids.map((id) => [id, 0]));
  const net = new TestNet(ids, { admitPatienceTicks }, seed);
  net.admit = (id, e) => (timeOf(e) ?? 0) <= clocks.get(id)!;
  const set = (id: NodeId, now: number) => {
    clocks.set(id, now);
    net.node(id).setClock(now);
    net.process(id);
  };
  const committed = (id: NodeId) => net.node(id).status().commitIndex;
  return { net, set, committed };
}

describe('quorum clock (cluster core)', () => {
  it('the leader reads the highest clock a majority has reported', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const { net, set } = clockNet(ids);
    net.elect('a');
    const readings = [500, 10, 300, 40, 200];
    for (const [i, id] of ids.entries()) set(id, readings[i]!);
    net.tickAll(2); // heartbeats carry the readings back
    expect(net.node('a').quorumClock()).toBe(200);
    expect(net.node('b').quorumClock()).toBe(0); // followers have no view
    expect(net.node('a').lowestClock()).toBe(10); // every voter reached it
    expect(net.node('b').lowestClock()).toBe(0);
  });

  it('an entry at the lowest reading is admitted by every voter: none refuses it', () => {
    const { net, set } = clockNet(['a', 'b', 'c']);
    const refused: NodeId[] = [];
    const admit = net.admit;
    net.admit = (id, e) => {
      if (admit(id, e)) return true;
      refused.push(id);
      return false;
    };
    net.elect('a');
    set('a', 1_000);
    set('b', 990);
    set('c', 980); // a few ms behind the majority
    net.tickAll(2);
    net.propose(`time:${net.node('a').quorumClock()}`); // 990: beyond c's clock
    expect(refused).toContain('c'); // c cut its append there
    refused.length = 0;
    set('a', 2_000);
    set('b', 1_990);
    set('c', 1_980);
    net.tickAll(2);
    const lowest = net.propose(`time:${net.node('a').lowestClock()}`);
    net.propose('after it');
    expect(refused).toEqual([]);
    for (const id of ['a', 'b', 'c'])
      expect(net.node(id).status().lastIndex).toBe(lowest.index + 1);
  });

  it('a time entry commits only once a majority has reached it, and holds what follows', () => {
    const { net, set, committed } = clockNet(['a', 'b', 'c']);
    net.elect('a');
    set('a', 1_000); // a fast leader alone
    set('b', 10);
    set('c', 10);
    const t = net.propose('time:500');
    net.propose('after');
    net.tickAll(5);
    expect(committed('a')).toBeLessThan(t.index);
    expect(net.appliedData('b')).not.toContain('time:500');
    set('b', 500); // a second clock reaches it: a majority
    net.tickAll(5);
    expect(committed('a')).toBeGreaterThanOrEqual(t.index + 1);
    expect(net.appliedData('b')).toEqual(['time:500', 'after']);
  });

  it('a frozen leader does not hold the clock back: two followers make the majority', () => {
    const { net, set, committed } = clockNet(['a', 'b', 'c']);
    net.elect('a');
    set('b', 100);
    set('c', 100);
    const t = net.propose('time:100');
    net.tickAll(3);
    expect(committed('a')).toBeGreaterThanOrEqual(t.index);
  });

  it('a follower with a frozen clock still stores and applies a committed time entry', () => {
    const { net, set } = clockNet(['a', 'b', 'c']);
    net.elect('a');
    set('a', 100);
    set('b', 100);
    net.propose('time:100');
    net.tickAll(6);
    expect(net.appliedData('c')).toEqual(['time:100']);
  });

  it('a refusal is patient, not endless: a frozen clock beside a crashed node delays, then commits', () => {
    const { net, set, committed } = clockNet(['a', 'b', 'c'], 1, 20);
    net.elect('a');
    set('a', 100);
    set('b', 0); // frozen
    set('c', 100);
    net.filter = (m) => m.to !== 'c' && m.from !== 'c'; // c is gone before the entry reaches it
    const t = net.propose('time:100');
    net.propose('after');
    net.tickAll(10);
    expect(committed('a')).toBeLessThan(t.index); // b still refuses
    net.tickAll(30);
    expect(committed('a')).toBeGreaterThanOrEqual(t.index + 1); // patience ran out: b admits
    expect(net.appliedData('b')).toEqual(['time:100', 'after']);
  });

  it('negative control: with no admission hook the fast leader commits alone with one follower', () => {
    const net = new TestNet(['a', 'b', 'c']);
    net.elect('a');
    const t = net.propose('time:500');
    expect(net.node('a').status().commitIndex).toBeGreaterThanOrEqual(t.index);
  });

  it('property: a committed time entry was reached by a majority of clocks (random skew)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = seededRandom(seed);
      const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, 3 + 2 * rnd(2));
      const { net, set } = clockNet(ids, seed);
      // per node: a rate in {0 (frozen), 0.5, 1, 3 (fast)} and an offset
      const rates = ids.map(() => [0, 0.5, 1, 3][rnd(4)]!);
      const offsets = ids.map(() => rnd(50));
      const readingAt = (i: number, step: number) => offsets[i]! + Math.floor(rates[i]! * step);
      net.elect(ids[0]!);
      net.filter = () => rnd(10) > 0; // 10% loss
      for (let step = 1; step <= 60; step++) {
        for (const [i, id] of ids.entries()) set(id, readingAt(i, step));
        const leader = net.leader();
        if (leader !== undefined && step % 3 === 0) {
          const at = leader.quorumClock() + rnd(20); // sometimes beyond the majority's reading
          try {
            leader.propose({ data: new TextEncoder().encode(`time:${at}`) });
          } catch {}
        }
        net.tickAll(1);
        for (const id of ids) {
          for (const e of net.applied.get(id)!) {
            const t = timeOf(e);
            if (t === null) continue;
            const reached = ids.filter((_, i) => readingAt(i, step) >= t).length;
            expect(reached, `seed ${seed}, node ${id}, time ${t}`).toBeGreaterThanOrEqual(
              quorum(ids.length),
            );
          }
        }
      }
    }
  });
});
