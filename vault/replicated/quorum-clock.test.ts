import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { until } from '../../test/support/until.ts';
import type { VaultError } from '../errors.ts';
import { buildVaultApp } from '../http/app.ts';
import type { Answer } from '../machine/index.ts';
import { Claimant, Operator, Tenant, testLimits } from '../node/actors.test-support.ts';
import { toHex } from '../protocol/index.ts';
import { clusterApi, RaftMetrics } from './api.ts';
import { startLocalCluster } from './local.ts';
import type { ClusterMember } from './member.ts';
import { ClockReading, nextQuorumTime, TIME_STEP_MS, UNANIMITY_SLACK_MS } from './quorum-clock.ts';

/**
 * The quorum clock on real members (loopback links, LevelDB): each slot's monotonic clock is
 * skewed, fast (×50) or frozen, and the committed quorum time must follow the majority's.
 */
let members: ClusterMember[] = [];

type Rate = number; // 0 frozen, 1 real, 50 fast
function clocks(rates: Rate[], offsets: number[] = []) {
  const start = performance.now();
  return (slot: string) => {
    const i = Number(slot.split('-')[1]) - 1;
    return () => (offsets[i] ?? 0) + (performance.now() - start) * rates[i]!;
  };
}

const quorumTime = (m: ClusterMember) => m.state.machine?.quorumTime ?? 0;

/** A cluster for this test only: closed and its directory removed when the test ends. */
async function cluster(rates: Rate[], offsets: number[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-quorum-clock-'));
  onTestFinished(async () => {
    await Promise.all(members.map((m) => m.close()));
    members = [];
    await rm(dir, { recursive: true, force: true });
  });
  const operator = new Operator();
  const started = performance.now(); // the clocks' zero: the honest ones read time since this
  const c = await startLocalCluster({
    n: rates.length,
    dir,
    operatorKey: operator.publicKey,
    limits: { claimIntervalMs: 0 },
    clocks: clocks(rates, offsets),
  });
  members = c.members;
  const leader = await until(
    () => members.find((m) => m.isLeader && m.epochReady),
    20_000,
    'a leader holding the epoch',
  );
  return { operator, leader, started, attestation: c.attestation.provider };
}

function kind<T extends Answer['type']>(r: Answer, type: T) {
  expect(r.type).toBe(type);
  return r as Extract<Answer, { type: T }>;
}

describe('quorum clock: pure parts', () => {
  it('a reading never goes back and adopts committed times', () => {
    let t = 100;
    const r = new ClockReading(() => t);
    expect(r.now()).toBe(100);
    r.adopt(5_000);
    expect(r.now()).toBe(5_000);
    r.adopt(10); // never back
    t = 150;
    expect(r.now()).toBe(5_050);
  });

  it('the leader proposes only a step past the committed time', () => {
    expect(nextQuorumTime(TIME_STEP_MS - 1, 0)).toBeNull();
    expect(nextQuorumTime(4_000, 3_500)).toBeNull();
    expect(nextQuorumTime(4_600, 3_500)).toBe(4_600);
  });

  it('the leader proposes the lowest reading when every voter is within the slack of the majority', () => {
    expect(nextQuorumTime(4_600, 3_500, 4_590)).toBe(4_590); // every voter admits it at once
    expect(nextQuorumTime(4_600, 3_500, 4_600 - UNANIMITY_SLACK_MS)).toBe(
      4_600 - UNANIMITY_SLACK_MS,
    );
    // a voter further behind (slow or frozen) neither holds the clock back nor drags it
    expect(nextQuorumTime(4_600, 3_500, 4_600 - UNANIMITY_SLACK_MS - 1)).toBe(4_600);
    expect(nextQuorumTime(4_600, 3_500, 0)).toBe(4_600);
    // never at or below the committed time, and never before a step has passed
    expect(nextQuorumTime(3_600, 3_500, 3_500)).toBeNull();
    expect(nextQuorumTime(4_500, 4_400, 4_400)).toBeNull();
    expect(nextQuorumTime(5_400, 4_400, 4_400)).toBe(5_400);
  });
});

describe('quorum clock on a 3-member cluster with skewed clocks', () => {
  it('a fast and a frozen clock on a minority leave the quorum time at the honest pace', async () => {
    // one fast (×50, and 1 h ahead), one frozen, one real: the majority's reading is the real one
    for (const rates of [
      [50, 1, 1],
      [0, 1, 1],
    ]) {
      const { started } = await cluster(rates, [3_600_000, 0, 0]);
      await until(() => members.every((m) => quorumTime(m) >= 2 * TIME_STEP_MS), 20_000);
      const elapsed = performance.now() - started;
      for (const m of members) {
        expect(quorumTime(m)).toBeLessThanOrEqual(elapsed + 500);
        expect(m.clockReading()).toBeGreaterThanOrEqual(quorumTime(m)); // frozen ones adopt it
      }
      await Promise.all(members.map((m) => m.close()));
      members = [];
    }
  }, 90_000);

  it('a fast majority runs the quorum clock fast (the case the VDF bounds)', async () => {
    const { started, leader } = await cluster([50, 50, 1]);
    // nobody outside the cluster proposes a reading
    await expect(leader.submit({ type: 'time', quorumTime: 10 ** 9 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await until(() => quorumTime(members[0]!) > 60_000, 20_000);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 60_000);

  it('a frozen majority stops the quorum clock, and every other command still commits', async () => {
    const { operator, leader } = await cluster([0, 0, 1]);
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    kind(await leader.submit(operator.registerTenant(keys, tenant)), 'tenantRegistered');
    const w = tenant.newWallet();
    kind(
      await leader.submit(tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 })),
      'deposited',
    );
    // time passes on the one running clock, well past the steps a time entry would take
    const running = members.find((m) => m.slot === 'node-3')!;
    await until(() => running.clockReading() >= 3 * TIME_STEP_MS, 20_000);
    for (const m of members) expect(quorumTime(m)).toBe(0);
  }, 60_000);

  it('a clock-gated release waits for the delay on the quorum clock, then releases', async () => {
    const { operator, leader, attestation } = await cluster([1, 1, 1]);
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    const limits = { ...testLimits, kinds: ['clock-gated' as const, 'strict' as const] };
    kind(await leader.submit(operator.registerTenant(keys, tenant, limits)), 'tenantRegistered');
    const w = tenant.newWallet();
    const policy = {
      group: 'rsa2048' as const,
      iterations: 64,
      kind: 'clock-gated' as const,
      delaySeconds: 3,
    };
    kind(await leader.submit(tenant.deposit(keys, w, policy)), 'deposited');
    // both nodes' HTTP APIs, ready before the claim so the delay does not run out meanwhile
    const appOf = (m: ClusterMember) =>
      buildVaultApp({
        backend: m,
        attestation,
        cluster: clusterApi(m, new RaftMetrics(), () => `http://${m.slot}.invalid`),
      });
    const follower = members.find((m) => m !== leader)!;
    const [leaderApp, followerApp] = [await appOf(leader), await appOf(follower)];
    onTestFinished(() => Promise.all([leaderApp.close(), followerApp.close()]).then(() => {}));
    // and the follower caught up (it answers 503 NOT_READY until then; under load it lags)
    const walletUrl = `/v1/wallets/${toHex(w.walletId)}`;
    const caughtUpBy = Date.now() + 20_000;
    while ((await followerApp.inject({ method: 'GET', url: walletUrl })).statusCode !== 200) {
      if (Date.now() > caughtUpBy) throw new Error('the follower never caught up');
      await new Promise((r) => setTimeout(r, 50));
    }
    const claimant = new Claimant(w);
    const nonce = leader.mintClaimNonce(w.walletId);
    const claim = kind(await leader.submit(claimant.claim(keys, nonce.nonce)), 'claim').claim;
    expect(claim.releaseAfter).toBe(claim.quorumTime + 3_000);
    const solveCmd = await claimant.solve(claim);
    // the proof alone is not enough yet
    const early = await leader.submit(solveCmd).then(
      () => null,
      (e: VaultError) => e,
    );
    expect(early?.code).toBe('CLOCK_NOT_REACHED');
    // how long to go, as a number the vault computed from the claim and its quorum time
    expect(early?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(early?.retryAfterSeconds).toBeLessThanOrEqual(3);
    // over HTTP: a follower redirects the solution to the leader, whose answer carries the wait
    if (solveCmd.type !== 'solve') throw new Error('unreachable');
    const url = `/v1/claims/${toHex(claim.claimId)}/solution`;
    const payload = { y: toHex(solveCmd.solution.y), proof: toHex(solveCmd.solution.proof) };
    // it can fall behind again for a moment (503, retry)
    let redirected = await followerApp.inject({ method: 'POST', url, payload });
    const deadline = Date.now() + 20_000;
    while (redirected.statusCode === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      redirected = await followerApp.inject({ method: 'POST', url, payload });
    }
    expect(redirected.statusCode).toBe(307);
    expect(redirected.headers.location).toBe(`http://${leader.slot}.invalid${url}`);
    const answered = await leaderApp.inject({ method: 'POST', url, payload });
    expect(answered.statusCode).toBe(409);
    const body = answered.json().error;
    expect(body.code).toBe('CLOCK_NOT_REACHED');
    expect(body.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(body.retryAfterSeconds).toBeLessThanOrEqual(3);
    expect(answered.headers['retry-after']).toBe(String(body.retryAfterSeconds));
    await until(() => quorumTime(leader) >= claim.releaseAfter!, 20_000);
    kind(await leader.submit(solveCmd), 'released');
  }, 60_000);
});
