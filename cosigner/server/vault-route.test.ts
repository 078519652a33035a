import { describe, expect, it } from 'vitest';
import { VaultRoute } from './vault-route.ts';

const A = 'http://10.0.0.1:7400';
const B = 'http://10.0.0.2:7400';
const C = 'http://10.0.0.3:7400';

describe('VaultRoute', () => {
  it('tries the node that last answered first, and moves on from one that failed', () => {
    const r = new VaultRoute([`${A}/`, B]);
    expect(r.order()).toEqual([A, B]);
    r.succeeded(B);
    expect(r.order()).toEqual([B, A]);
    r.failed(B);
    expect(r.order()).toEqual([A, B]);
  });

  it('learns the membership (seeds kept, junk dropped) and prefers the named leader', () => {
    const r = new VaultRoute([A]);
    const answer = {
      members: [{ url: B }, { url: C }, { url: 'ftp://x' }, { url: 7 }, null],
      leaderUrl: C,
    };
    expect(r.learn(answer)).toBe(true);
    expect(r.urls).toEqual([B, C, A]);
    expect(r.order()[0]).toBe(C);
    expect(r.learn(answer)).toBe(false);
    // A malformed or empty answer changes nothing.
    expect(r.learn({ members: 'x' })).toBe(false);
    expect(r.learn({ members: [] })).toBe(false);
    expect(r.urls).toEqual([B, C, A]);
  });

  it('refuses to start without one http(s) URL', () => {
    expect(() => new VaultRoute(['not a url'])).toThrow();
  });
});
