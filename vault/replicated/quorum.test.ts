import { describe, expect, it } from 'vitest';
import { QUORUM_LOST_AFTER_MS, quorumView } from './quorum.ts';

const voters = ['a', 'b', 'c'];
const view = (o: { leader?: string; up?: string[]; since?: number }) =>
  quorumView({
    self: 'c',
    voters,
    leader: o.leader ?? '',
    connected: (id) => (o.up ?? []).includes(id),
    leaderSeenAt: 0,
    now: o.since ?? QUORUM_LOST_AFTER_MS,
  });

describe('quorum view', () => {
  it('ok with a leader, electing for a while, lost only without a reachable majority', () => {
    expect(view({ leader: 'a' }).state).toBe('ok');
    expect(view({ since: QUORUM_LOST_AFTER_MS - 1 }).state).toBe('electing');
    // the double crash: a and b are gone, c alone cannot elect
    const lost = view({});
    expect(lost.state).toBe('lost');
    expect(lost.reachable).toEqual(['c']);
    expect(lost.advice).toMatch(/vigil cluster recover --data-dir D/);
    // one voter still linked: a majority is reachable, an election can still succeed
    expect(view({ up: ['b'] }).state).toBe('electing');
    expect(view({ up: ['b'] }).advice).toBeNull();
  });
});
