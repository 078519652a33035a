import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from './commands.ts';
import {
  defaultLimits,
  Harness,
  seedBytes,
  solveClaim,
  type WalletKeys,
  walletKeys,
} from './harness.test-support.ts';
import type { ApplyOutcome } from './machine.ts';
import { VaultMachine } from './machine.ts';
import type { ClaimView, Command } from './types.ts';

/**
 * The clock-gated policy in the pure machine: a release needs the VDF proof AND the policy's
 * delay elapsed on the committed quorum time since the claim committed, with no ping between;
 * quorum time is epoch-relative and a new epoch voids the claim like a strict one (P4).
 */
const DELAY_S = 60;
const gated = { kind: 'clock-gated' as const, delaySeconds: DELAY_S };
const bothKinds = { ...defaultLimits, kinds: ['clock-gated' as const, 'strict' as const] };

function ok(out: ApplyOutcome) {
  if (!out.ok) throw new Error(`expected success, got ${out.error.code}: ${out.error.message}`);
  return out.result;
}

function code(out: ApplyOutcome): string {
  return out.ok ? 'accepted' : out.error.code;
}

/** A rejected command changes nothing. */
function refused(h: Harness, c: Command): string {
  const before = Buffer.from(h.snapshot());
  const out = h.apply(c);
  if (!out.ok) expect(Buffer.from(h.snapshot()).equals(before)).toBe(true);
  return code(out);
}

const time = (quorumTime: number): Command => ({ type: 'time', quorumTime });

/** The seconds a CLOCK_NOT_REACHED refusal says are left (retryAfterSeconds). */
function waitOf(out: ApplyOutcome): number | undefined {
  if (out.ok || out.error.code !== 'CLOCK_NOT_REACHED') throw new Error(`got ${code(out)}`);
  return out.error.retryAfterSeconds;
}

function setup(limits = bothKinds) {
  const h = new Harness();
  ok(h.apply(h.registerCommand('acme', limits)));
  ok(h.apply({ type: 'beginEpoch' }));
  const w = walletKeys(1);
  ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w, { gate: gated }) }));
  return { h, w };
}

function startClaim(h: Harness, w: WalletKeys): ClaimView {
  const r = ok(h.apply(h.claimCommand(w, seedBytes('eph'))));
  if (r.type !== 'claim') throw new Error('not a claim');
  return r.claim;
}

describe('clock-gated policy (vault machine)', () => {
  it('a release waits for both the VDF proof and the delay on the quorum clock', async () => {
    const { h, w } = setup();
    ok(h.apply(time(5_000)));
    const claim = startClaim(h, w);
    expect(claim.releaseAfter).toBe(5_000 + DELAY_S * 1000);
    expect(claim.releasableInSeconds).toBe(DELAY_S);
    const solution = await solveClaim(claim);
    // machine time (the proposer's wall clock) racing ahead is not the quorum clock
    h.now += 10 * DELAY_S * 1000;
    expect(refused(h, { type: 'solve', solution })).toBe('CLOCK_NOT_REACHED');
    expect(waitOf(h.apply({ type: 'solve', solution }))).toBe(DELAY_S);
    ok(h.apply(time(5_000 + DELAY_S * 1000 - 1)));
    expect(refused(h, { type: 'solve', solution })).toBe('CLOCK_NOT_REACHED');
    // 1 ms to go is a whole second to wait: waiting what the vault says never meets a refusal
    expect(waitOf(h.apply({ type: 'solve', solution }))).toBe(1);
    expect(h.machine.claim(claim.claimId)?.releasableInSeconds).toBe(1);
    ok(h.apply(time(5_000 + DELAY_S * 1000)));
    expect(h.machine.claim(claim.claimId)?.releasableInSeconds).toBe(0);
    // the clock alone is not enough: a wrong proof still fails
    const wrong = { ...solution, y: solution.y.map((b, i) => (i === 5 ? b ^ 1 : b)) };
    expect(refused(h, { type: 'solve', solution: wrong })).toBe('VDF_PROOF_INVALID');
    expect(ok(h.apply({ type: 'solve', solution })).type).toBe('released');
    // nothing to wait for once the claim is not live
    expect(h.machine.claim(claim.claimId)?.releasableInSeconds).toBeNull();
  });

  it('negative control: a strict wallet releases on the proof alone, quorum time never moved', async () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand('acme', bothKinds)));
    ok(h.apply({ type: 'beginEpoch' }));
    const w = walletKeys(2);
    ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w) }));
    const claim = startClaim(h, w);
    expect(claim.releaseAfter).toBeNull();
    expect(claim.releasableInSeconds).toBeNull();
    expect(ok(h.apply({ type: 'solve', solution: await solveClaim(claim) })).type).toBe('released');
  });

  it('a ping after the claim cancels it even once the delay has passed (P2)', async () => {
    const { h, w } = setup();
    const claim = startClaim(h, w);
    const solution = await solveClaim(claim);
    ok(h.apply(h.pingCommand()));
    ok(h.apply(time(DELAY_S * 1000)));
    expect(refused(h, { type: 'solve', solution })).toBe('CLAIM_NOT_LIVE');
  });

  it('a new epoch voids a clock-gated claim, and its quorum time restarts at zero (P4)', async () => {
    const { h, w } = setup();
    ok(h.apply(time(1_000)));
    const claim = startClaim(h, w);
    const solution = await solveClaim(claim);
    ok(h.apply(time(1_000 + DELAY_S * 1000)));
    // whole-cluster restart from this disk state: a new volatile epoch
    const restored = new Harness(VaultMachine.restore(h.snapshot()));
    restored.index = h.index;
    restored.now = h.now;
    restored.epoch = 1;
    expect(refused(restored, time(999_999))).toBe('EPOCH_MISMATCH'); // the old epoch's reading
    ok(restored.apply({ type: 'beginEpoch' }));
    expect(refused(restored, { type: 'solve', solution })).toBe('CLAIM_NOT_LIVE');
    // the new epoch's clock starts at 0: a fresh claim needs the full delay again
    restored.now += 60_000;
    ok(restored.apply(time(10)));
    const again = startClaim(restored, w);
    expect(again.releaseAfter).toBe(10 + DELAY_S * 1000);
    expect(refused(restored, { type: 'solve', solution: await solveClaim(again) })).toBe(
      'CLOCK_NOT_REACHED',
    );
  });

  it('quorum time only moves forward; bad time commands are refused with stable codes', () => {
    const { h } = setup();
    ok(h.apply(time(100)));
    expect(refused(h, time(100))).toBe('TIME_STALE');
    expect(refused(h, time(50))).toBe('TIME_STALE');
    const raw = (body: unknown) => new TextEncoder().encode(JSON.stringify({ type: 'time', body }));
    const decodeCode = (body: unknown) => {
      try {
        decodeCommand(raw(body));
        return 'decoded';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(decodeCode({ quorumTime: 0 })).toBe('OUT_OF_RANGE');
    expect(decodeCode({ quorumTime: 1.5 })).toBe('OUT_OF_RANGE');
    expect(decodeCode({ quorumTime: 2 ** 60 })).toBe('OUT_OF_RANGE');
    expect(decodeCode({ quorumTime: '7' })).toBe('MALFORMED');
    expect(decodeCode({ quorumTime: 7, extra: 1 })).toBe('MALFORMED');
    expect(decodeCode({ quorumTime: 7 })).toBe('decoded');
  });

  it('a tenant that does not offer clock-gated policies refuses such a deposit', () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand('acme', defaultLimits)));
    const w = walletKeys(3);
    expect(refused(h, { type: 'deposit', deposit: h.depositCommand(w, { gate: gated }) })).toBe(
      'POLICY_REJECTED',
    );
  });

  it('property: a gated claim is released iff proof ok, no ping since, and quorum time ≥ claim time + delay', async () => {
    // one VDF solution is reused: the property is over the order of time, ping and solve commands
    const base = setup();
    const claimAt = 1_000;
    ok(base.h.apply(time(claimAt)));
    const claim = startClaim(base.h, base.w);
    const solution = await solveClaim(claim);
    const snapshot = base.h.snapshot();
    type Op = { t: 'time'; dt: number } | { t: 'ping' } | { t: 'solve' };
    const op = fc.oneof(
      fc.record({ t: fc.constant('time' as const), dt: fc.integer({ min: 1, max: 40_000 }) }),
      fc.constant({ t: 'ping' as const }),
      fc.constant({ t: 'solve' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops: Op[]) => {
        const h = new Harness(VaultMachine.restore(snapshot));
        h.index = base.h.index;
        h.now = base.h.now;
        h.seq = new Map(base.h.seq);
        let quorumTime = claimAt;
        let pinged = false;
        for (const o of ops) {
          if (o.t === 'time') {
            quorumTime += o.dt;
            ok(h.apply(time(quorumTime)));
          } else if (o.t === 'ping') {
            ok(h.apply(h.pingCommand()));
            pinged = true;
          } else {
            const out = h.apply({ type: 'solve', solution });
            const expected = pinged
              ? 'CLAIM_NOT_LIVE'
              : quorumTime < claimAt + DELAY_S * 1000
                ? 'CLOCK_NOT_REACHED'
                : 'accepted';
            expect(code(out)).toBe(expected);
            if (expected === 'CLOCK_NOT_REACHED') {
              // the refusal and the claim view give the same whole seconds, rounded up
              const wait = Math.ceil((claimAt + DELAY_S * 1000 - quorumTime) / 1000);
              expect(waitOf(out)).toBe(wait);
              expect(h.machine.claim(claim.claimId)?.releasableInSeconds).toBe(wait);
            }
            if (out.ok) return;
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('commands round-trip through the log codec', () => {
    expect(decodeCommand(encodeCommand(time(42)))).toEqual(time(42));
  });
});
