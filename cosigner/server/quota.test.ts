import { describe, expect, it } from 'vitest';
import { Quota } from './quota.ts';

describe('Quota', () => {
  it('allows the hourly allowance at once, then one per 3600/perHour seconds', () => {
    const q = new Quota({ perHour: 3 });
    for (let i = 0; i < 3; i++) {
      expect(q.waitMs('a', 0)).toBe(0);
      q.spend('a', 0);
    }
    expect(q.waitMs('a', 0)).toBe(1_200_000);
    expect(q.waitMs('a', 1_199_999)).toBeGreaterThan(0);
    expect(q.waitMs('a', 1_200_000)).toBe(0);
    // Other principals are untouched.
    expect(q.waitMs('b', 0)).toBe(0);
  });

  it('forgets full buckets and keeps at most maxKeys', () => {
    const q = new Quota({ perHour: 1, maxKeys: 2 });
    q.spend('a', 0);
    q.spend('b', 0);
    q.spend('c', 0); // over the cap: the oldest (a) is dropped
    expect(q.size).toBe(2);
    expect(q.waitMs('a', 0)).toBe(0);
    expect(q.waitMs('c', 0)).toBeGreaterThan(0);
    q.spend('d', 3_600_000); // b and c have refilled: forgotten, not evicted by age
    expect(q.size).toBe(1);
  });
});
