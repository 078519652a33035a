/**
 * The SDK's wait for a clock-gated release (`submitUntilReleased`, client-lib/release-wait.ts),
 * through the SDK's own face: against a real vault node on loopback (LevelDB, its quorum clock,
 * real HTTP) the solution is kept, the wait reported with the vault's number, and sent again
 * until the release; a ping during the wait ends it; an AbortSignal stops it at once. Against a
 * protocol-level fake on a real socket: a CLOCK_NOT_REACHED without a usable retryAfterSeconds is
 * a clear VAULT_RESPONSE error (never a guessed "1 s"), and a claim that expires during the wait
 * ends it with its status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRandom } from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import {
  ClientError,
  type CommittedClaim,
  newClaimState,
  recoverKey,
  secondsToWait,
  sendClaim,
  submitUntilReleased,
  VaultClient,
  type Wallet,
} from '../client-lib/sdk.ts';
import { encodePoint, Point } from '../vault/index.ts';
import { solve } from '../vdf/index.ts';
import { failure } from './support/client-failure.ts';

let vault: LocalVault;
beforeAll(async () => {
  vault = await startLocalVault();
});
afterAll(async () => {
  await vault.close();
});

/** A clock-gated wallet, its claim committed, and the claim's solution (T = 64). */
async function solvedClaim(delaySeconds: number) {
  const { wallet } = await vault.deposit('musig2', {
    group: 'rsa2048',
    iterations: 64,
    kind: 'clock-gated',
    delaySeconds,
  });
  const client = new VaultClient(wallet.vaultUrls);
  const sent = await sendClaim({
    wallet,
    vault: client,
    state: newClaimState(wallet, systemRandom),
    random: systemRandom,
  });
  const claim = sent.state.claim as CommittedClaim;
  const solution = await solve({ ...claim, workers: 'never' });
  return { wallet, client, state: sent.state, claim, solution };
}

const keyMatches = (wallet: Wallet, secretKey: Uint8Array) =>
  Buffer.from(
    encodePoint(Point.BASE.multiply(BigInt(`0x${Buffer.from(secretKey).toString('hex')}`))),
  ).equals(Buffer.from(wallet.q));

describe('submitUntilReleased against a real vault node', () => {
  it('keeps the solution, reports the wait in the vault’s seconds, and submits again until the release', async () => {
    const delaySeconds = 3;
    const { wallet, client, state, claim, solution } = await solvedClaim(delaySeconds);
    const before = await client.getClaim(claim.claimId);
    expect(before.releasableInSeconds).toBeGreaterThan(0);
    expect(before.releasableInSeconds).toBeLessThanOrEqual(delaySeconds);
    const waits: number[] = [];
    const started = Date.now();
    const release = await submitUntilReleased({
      vault: client,
      claim,
      solution,
      // far longer than the delay: the release on time shows the vault's number was followed
      intervalMs: 60_000,
      events: { onWaiting: (s) => waits.push(s) },
    });
    const took = Date.now() - started;
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(delaySeconds);
    expect(took).toBeGreaterThanOrEqual((waits[0]! - 1) * 1000);
    expect(took).toBeLessThan(40_000);
    expect(keyMatches(wallet, recoverKey(wallet, { ...state, release }))).toBe(true);
    const after = await client.getClaim(claim.claimId);
    expect([after.status, after.releasableInSeconds]).toEqual(['released', null]);
  }, 60_000);

  it('ends the wait with CLAIM_CANCELLED when the provider pings meanwhile (P2)', async () => {
    const { client, claim, solution } = await solvedClaim(600);
    let pinged: Promise<string[]> | undefined;
    const started = Date.now();
    const err = await failure(
      submitUntilReleased({
        vault: client,
        claim,
        solution,
        intervalMs: 200,
        events: {
          onWaiting: () => {
            pinged ??= vault.ping();
          },
        },
      }),
    );
    expect([err.code, err.claimStatus]).toEqual(['CLAIM_CANCELLED', 'cancelled']);
    expect(await pinged).toContain(Buffer.from(claim.claimId).toString('hex'));
    expect(Date.now() - started).toBeLessThan(30_000); // not the 600 s delay
  }, 60_000);

  it('stops at once on the AbortSignal with SOLVE_ABORTED; the claim stays live', async () => {
    const { client, claim, solution } = await solvedClaim(600);
    const controller = new AbortController();
    let abortedAt = 0;
    const err = await failure(
      submitUntilReleased({
        vault: client,
        claim,
        solution,
        signal: controller.signal,
        events: {
          onWaiting: () => {
            abortedAt = Date.now();
            controller.abort();
          },
        },
      }),
    );
    expect(err.code).toBe('SOLVE_ABORTED');
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    const info = await client.getClaim(claim.claimId);
    expect(info.status).toBe('live');
    expect(info.releasableInSeconds).toBeGreaterThan(500);
  }, 60_000);
});

/** A vault stand-in on a real socket, answering each request from a script. */
async function fakeVault(
  script: Array<(req: IncomingMessage, res: ServerResponse) => void>,
): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    const next = script.shift();
    if (next) next(req, res);
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const reply = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const clockNotReached = (extra: Record<string, unknown>) =>
  reply(409, {
    error: {
      code: 'CLOCK_NOT_REACHED',
      message: "the policy's delay has not elapsed on the cluster's quorum clock (5 s to go)",
      ...extra,
    },
  });

const claim: CommittedClaim = {
  claimId: new Uint8Array(32).fill(0xcc),
  seed: new Uint8Array(32).fill(0xee),
  group: 'rsa2048',
  iterations: 64,
  logIndex: 7,
};
const solution = { output: new Uint8Array(256).fill(1), proof: new Uint8Array(256).fill(2) };
const claimJson = (status: string) => ({
  claimId: 'cc'.repeat(32),
  walletId: 'aa'.repeat(32),
  ephemeralKey: 'dd'.repeat(32),
  group: 'rsa2048',
  iterations: 64,
  seed: 'ee'.repeat(32),
  logIndex: 7,
  expiresAt: 604_800_000,
  releaseAfter: 10_000,
  quorumTime: 9_000,
  releasableInSeconds: null,
  status,
  release: null,
});

describe('submitUntilReleased against a protocol-level fake', () => {
  it('refuses a CLOCK_NOT_REACHED without a usable retryAfterSeconds, instead of guessing a wait', async () => {
    // the message still says "(5 s to go)": the text is never read
    for (const extra of [
      {},
      { retryAfterSeconds: '5' },
      { retryAfterSeconds: 0 },
      { retryAfterSeconds: 1.5 },
    ]) {
      const fake = await fakeVault([clockNotReached(extra)]);
      try {
        const waits: number[] = [];
        const err = await failure(
          submitUntilReleased({
            vault: new VaultClient([fake.url]),
            claim,
            solution,
            intervalMs: 10,
            events: { onWaiting: (s) => waits.push(s) },
          }),
        );
        expect(err.code).toBe('VAULT_RESPONSE');
        expect(err.message).toContain('retryAfterSeconds');
        expect(waits).toEqual([]);
        expect(fake.seen).toEqual([`POST /v1/claims/${'cc'.repeat(32)}/solution`]);
      } finally {
        await fake.close();
      }
    }
    // the same rule where recoverWallet reads it
    const bare = new ClientError('VAULT_ERROR', 'CLOCK_NOT_REACHED', {
      vaultCode: 'CLOCK_NOT_REACHED',
      status: 409,
    });
    expect(() => secondsToWait(bare)).toThrow(/retryAfterSeconds/);
    const told = new ClientError('VAULT_ERROR', 'CLOCK_NOT_REACHED', {
      vaultCode: 'CLOCK_NOT_REACHED',
      status: 409,
      retryAfterSeconds: 7,
    });
    expect(secondsToWait(told)).toBe(7);
  });

  it('waits the seconds the vault gave, then ends with the claim’s status when it expired meanwhile', async () => {
    const fake = await fakeVault([
      clockNotReached({ retryAfterSeconds: 1 }),
      reply(409, { error: { code: 'CLAIM_NOT_LIVE', message: 'the claim outlived its lifetime' } }),
      reply(200, claimJson('expired')),
    ]);
    try {
      const waits: number[] = [];
      const started = Date.now();
      const err = await failure(
        submitUntilReleased({
          vault: new VaultClient([fake.url]),
          claim,
          solution,
          events: { onWaiting: (s) => waits.push(s) },
        }),
      );
      expect([err.code, err.claimStatus]).toEqual(['CLAIM_CANCELLED', 'expired']);
      expect(waits).toEqual([1]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(fake.seen.map((s) => s.split(' ')[0])).toEqual(['POST', 'POST', 'GET']);
    } finally {
      await fake.close();
    }
  });

  it('keeps submitting through an outage and reports it', async () => {
    const release = {
      claimId: 'cc'.repeat(32),
      walletId: 'aa'.repeat(32),
      share: { enc: '11'.repeat(32), ciphertext: '22'.repeat(48) },
    };
    const unavailable = reply(503, { error: { code: 'NOT_LEADER', message: 'no leader' } });
    const fake = await fakeVault([unavailable, reply(200, { release })]);
    try {
      const events: string[] = [];
      const got = await submitUntilReleased({
        vault: new VaultClient([fake.url], { retryDelaysMs: [] }),
        claim,
        solution,
        intervalMs: 20,
        events: {
          onUnreachable: () => events.push('unreachable'),
          onReachable: () => events.push('reachable'),
        },
      });
      expect(Buffer.from(got.claimId).toString('hex')).toBe('cc'.repeat(32));
      expect(events).toEqual(['unreachable', 'reachable']);
    } finally {
      await fake.close();
    }
  });
});
