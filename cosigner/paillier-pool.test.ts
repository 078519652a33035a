import { describe, expect, it } from 'vitest';
import { SERVER_PAILLIER_OWNER } from './ecdsa2p/setup.ts';
import { PaillierKeyPool } from './paillier-pool.ts';
import { verifyModulus } from './zk/modulus.ts';

describe('Paillier key pool', () => {
  it('refills in the background, hands out distinct proven keys, and never makes one on take()', async () => {
    const pool = new PaillierKeyPool({ target: 2 });
    pool.start();
    for (let i = 0; i < 200 && pool.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.size).toBe(2);
    pool.stop();
    const a = pool.take()!;
    const b = pool.take()!;
    const t = performance.now();
    // Empty: nothing is generated on the caller's path (issue 11: junk keygens stalled the loop).
    expect(pool.take()).toBeUndefined();
    expect(performance.now() - t).toBeLessThan(50);
    expect(pool.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(a.sk.n).not.toBe(b.sk.n);
    verifyModulus(a.sk.n, SERVER_PAILLIER_OWNER, a.modulusProof, 2048);
    expect(a.sk.n.toString(2)).toHaveLength(2048);
  });

  it('refills from a worker thread without blocking the event loop', async () => {
    const pool = new PaillierKeyPool({ target: 1, worker: true });
    pool.start();
    let ticks = 0;
    for (let i = 0; i < 600 && pool.size < 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
      ticks++;
    }
    pool.stop();
    expect(pool.size).toBe(1);
    // The main thread kept its timers running while the worker searched for primes.
    expect(ticks).toBeGreaterThan(3);
    const key = pool.take()!;
    verifyModulus(key.sk.n, SERVER_PAILLIER_OWNER, key.modulusProof, 2048);
    expect(typeof key.sk.p).toBe('bigint');
  }, 20_000);

  it('waits for a quiet period before refilling, unless it runs low', async () => {
    const pool = new PaillierKeyPool({ target: 2, worker: true, idleMs: 1000, now: () => 0 });
    pool.fill();
    pool.start();
    pool.take(); // 1 of 2 left: at half target, so the refill waits for quiet
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.size).toBe(1);
    pool.take(); // empty: below half, refills at once despite the recent take
    for (let i = 0; i < 600 && pool.size < 1; i++) await new Promise((r) => setTimeout(r, 10));
    pool.stop();
    // The clock never advanced: only the low-water rule can have refilled.
    expect(pool.size).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
