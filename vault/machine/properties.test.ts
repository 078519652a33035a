import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import {
  parseClaim,
  parseDeletion,
  parseDeposit,
  parsePing,
  parseRelease,
  parseSolution,
  parseTenantRegistration,
  type Solution,
  scalarToBytes,
  signPing,
  toHex,
} from '../protocol/index.ts';
import { decodeCommand } from './commands.ts';
import {
  clusterId,
  containsBytes,
  Harness,
  secrets,
  seedBytes,
  solveClaim,
  testConfig,
  type WalletKeys,
  walletKeys,
} from './harness.test-support.ts';
import { type ApplyOutcome, VaultMachine } from './machine.ts';
import { mintNonce } from './nonces.ts';
import { openClaims, View } from './records.ts';
import { decodeRecord, VAULT_PREFIX } from './store.ts';
import type { ClaimRecord, ClaimView, Command, TenantRecord } from './types.ts';

/**
 * Random interleavings of deposits, deletions, pings, claims, solutions, epochs, replays and
 * garbage, on two replicas at once, checking P1, P2, P5, P7, P8 and determinism after every step.
 */
type Action =
  | { kind: 'deposit'; w: number }
  | { kind: 'depositWrongShare'; w: number }
  | { kind: 'delete'; w: number }
  | { kind: 'ping'; tenant: number }
  | { kind: 'claimThenPing'; w: number }
  | { kind: 'claim'; w: number; eph: number }
  | { kind: 'solve'; w: number; proof: 'own' | 'other' | 'garbage' }
  | { kind: 'replay'; which: number }
  | { kind: 'epoch' }
  | { kind: 'restoreTwin' }
  | { kind: 'wait'; ms: number }
  | { kind: 'garbage'; bytes: Uint8Array };

const TENANTS = ['acme', 'beta'];
const W = 3;
const tenantOf = (w: number) => (w === 2 ? 'beta' : 'acme');
const wallets: WalletKeys[] = [
  walletKeys(0, 'ecdsa-2p-mult'),
  walletKeys(1, 'additive'),
  walletKeys(2, 'musig2'),
];

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deposit' as const), w: fc.nat(W - 1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('depositWrongShare' as const), w: fc.nat(W - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), w: fc.nat(W - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ping' as const), tenant: fc.nat(1) }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('claim' as const), w: fc.nat(W - 1), eph: fc.nat(2) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('solve' as const),
      w: fc.nat(W - 1),
      proof: fc.constantFrom('own' as const, 'own' as const, 'other' as const, 'garbage' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('claimThenPing' as const), w: fc.nat(W - 1) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replay' as const), which: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('epoch' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restoreTwin' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.integer({ min: 0, max: 90_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      bytes: fc.uint8Array({ maxLength: 64 }),
    }),
  },
);

interface ClaimModel {
  claim: ClaimView;
  tenant: string;
  epoch: number;
  w: number;
}

/** All byte arrays inside a value, for the "x2 never appears" check. */
function byteArrays(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(v);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) byteArrays(x, out);
  return out;
}

const x2Bytes = wallets.map((w) => scalarToBytes(w.x2));
const x2Hex = x2Bytes.map(toHex);

function openCount(h: Harness, t: TenantRecord): number {
  return openClaims(new View(h.records()).epoch(), t).count;
}

function assertNoPlaintextShare(outcome: ApplyOutcome, snapshot: Uint8Array): void {
  for (const [i, x2] of x2Bytes.entries()) {
    expect(containsBytes(snapshot, x2)).toBe(false);
    expect(Buffer.from(snapshot).includes(x2Hex[i] as string)).toBe(false);
    for (const b of byteArrays(outcome)) expect(containsBytes(b, x2)).toBe(false);
    if (!outcome.ok) expect(outcome.error.message.includes(x2Hex[i] as string)).toBe(false);
  }
}

const stats = { releases: 0, replaysRejected: 0, cancelledByPing: 0, runs: 0 };

async function run(actions: Action[]): Promise<void> {
  stats.runs += 1;
  const h = new Harness();
  h.twin = VaultMachine.create(testConfig());
  for (const t of TENANTS) expect(h.apply(h.registerCommand(t)).ok).toBe(true);
  expect(h.apply({ type: 'beginEpoch' }).ok).toBe(true);
  for (const [i, w] of wallets.entries()) {
    expect(
      h.apply({ type: 'deposit', deposit: h.depositCommand(w, { tenant: tenantOf(i) }) }).ok,
    ).toBe(true);
  }

  const claims = new Map<string, ClaimModel>();
  const lastPing = new Map<string, number>();
  const accepted: Command[] = []; // signed or single-use commands that succeeded: replay targets
  const solutions = new Map<string, Awaited<ReturnType<typeof solveClaim>>>();
  const released = new Set<string>();

  const solutionFor = async (c: ClaimView) => {
    const key = toHex(c.claimId);
    let s = solutions.get(key);
    if (!s) {
      s = await solveClaim(c);
      solutions.set(key, s);
    }
    return s;
  };

  const step = (command: Command, replay: boolean, proof?: 'own' | 'other' | 'garbage') => {
    const before = h.snapshot();
    const out = h.apply(command);
    const after = h.snapshot();
    if (replay) {
      expect(out.ok, `replayed ${command.type} was accepted`).toBe(false);
      stats.replaysRejected += 1;
    }
    if (!out.ok) {
      expect(out.error).toBeInstanceOf(VaultError);
      expect(out.error.status).toBeGreaterThanOrEqual(400);
      expect(out.error.status).toBeLessThan(600);
      expect(
        Buffer.from(after).equals(Buffer.from(before)),
        `rejected ${out.error.code} changed state`,
      ).toBe(true);
    } else {
      const r = out.result;
      if (['deposit', 'delete', 'ping', 'claim', 'solve'].includes(command.type))
        accepted.push(command);
      if (r.type === 'pinged') {
        lastPing.set(r.tenant, r.logIndex);
        stats.cancelledByPing += r.cancelledClaims.length;
      }
      if (r.type === 'claim' && !r.existing) {
        const w = wallets.findIndex((x) => toHex(x.walletId) === toHex(r.claim.walletId));
        claims.set(toHex(r.claim.claimId), {
          claim: r.claim,
          tenant: tenantOf(w),
          epoch: h.epoch,
          w,
        });
      }
      if (r.type === 'released') {
        const id = toHex(r.release.claimId);
        const m = claims.get(id);
        expect(m, 'release of an unknown claim').toBeDefined();
        if (!m) return out;
        // P2: no ping of that tenant between the claim's and the release's log positions.
        expect(lastPing.get(m.tenant) ?? 0).toBeLessThan(m.claim.logIndex);
        // P4: the claim's epoch is the current one.
        expect(m.epoch).toBe(h.epoch);
        // P7: only a proof for this claim's own challenge releases.
        expect(proof).toBe('own');
        expect(released.has(id)).toBe(false);
        released.add(id);
        stats.releases += 1;
      }
    }
    expect(Buffer.from(after).equals(Buffer.from(h.twinSnapshot() ?? new Uint8Array()))).toBe(true);
    assertNoPlaintextShare(out, after);
    // At most one live claim per wallet, and each tenant's open-claim count is its live claims.
    const livePerWallet = new Map<string, number>();
    const livePerTenant = new Map<string, number>();
    for (const [key, value] of h.records().entries()) {
      if (!key.startsWith(`${VAULT_PREFIX}c/`)) continue;
      const c = decodeRecord<ClaimRecord>(key, value);
      if (h.machine.claim(c.claimId)?.status !== 'live') continue;
      const id = toHex(c.walletId);
      livePerWallet.set(id, (livePerWallet.get(id) ?? 0) + 1);
      livePerTenant.set(c.tenant, (livePerTenant.get(c.tenant) ?? 0) + 1);
    }
    for (const [key, value] of h.records().entries()) {
      if (!key.startsWith(`${VAULT_PREFIX}t/`)) continue;
      const t = decodeRecord<TenantRecord>(key, value);
      expect(openCount(h, t)).toBe(livePerTenant.get(t.name) ?? 0);
    }
    for (const n of livePerWallet.values()) expect(n).toBe(1);
    return out;
  };

  const expanded = actions.flatMap((a): Action[] =>
    a.kind === 'claimThenPing'
      ? [
          { kind: 'claim', w: a.w, eph: 0 },
          { kind: 'solve', w: a.w, proof: 'garbage' },
          { kind: 'ping', tenant: a.w === 2 ? 1 : 0 },
          { kind: 'solve', w: a.w, proof: 'own' },
        ]
      : [a],
  );
  for (const a of expanded) {
    switch (a.kind) {
      case 'deposit': {
        const deposit = h.depositCommand(wallets[a.w] as WalletKeys, { tenant: tenantOf(a.w) });
        step({ type: 'deposit', deposit }, false);
        break;
      }
      case 'depositWrongShare': {
        const w = wallets[a.w] as WalletKeys;
        const x2 = scalarToBytes(w.x2 + 1n);
        const out = step(
          { type: 'deposit', deposit: h.depositCommand(w, { tenant: tenantOf(a.w), x2 }) },
          false,
        );
        expect(out.ok).toBe(false);
        break;
      }
      case 'delete':
        step(h.deleteCommand(wallets[a.w] as WalletKeys, tenantOf(a.w)), false);
        break;
      case 'ping': {
        const tenant = TENANTS[a.tenant] as string;
        const { nonce } = h.machine.mintPingNonce(tenant, h.nonceContext());
        const ping = signPing(clusterId, { tenant, nonce }, secrets.ping(tenant), seedBytes('aux'));
        step({ type: 'ping', ping }, false);
        break;
      }
      case 'claim': {
        const w = wallets[a.w] as WalletKeys;
        let nonce: Uint8Array;
        try {
          nonce = h.machine.mintClaimNonce(w.walletId, h.nonceContext()).nonce;
        } catch (e) {
          expect(e).toBeInstanceOf(VaultError);
          // The vault would not mint one; a claim with a self-made nonce must fail anyway.
          const random = seedBytes(`self-made/${h.index}`);
          nonce = mintNonce({
            kind: 'claim',
            subject: w.walletId,
            epochSecret: seedBytes('guess'),
            issuedAt: h.now,
            random,
          });
        }
        const claim = h.claimWithNonce(w, nonce, seedBytes(`eph/${a.eph}`));
        step({ type: 'claim', claim }, false);
        break;
      }
      case 'solve': {
        const w = wallets[a.w] as WalletKeys;
        const anyLive = wallets.map((x) => h.machine.wallet(x.walletId)?.liveClaim).find((c) => c);
        const live = h.machine.wallet(w.walletId)?.liveClaim ?? anyLive;
        const latest = [...claims.values()].filter((m) => m.w === a.w).at(-1)?.claim;
        const target = live ?? latest;
        if (!target) break;
        let solution: Solution;
        if (a.proof === 'own') solution = await solutionFor(target);
        else if (a.proof === 'other') {
          const other = [...solutions.entries()].find(([id]) => id !== toHex(target.claimId));
          const fallback = await solutionFor({
            ...target,
            seed: seedBytes('someone else'),
            claimId: seedBytes('x'),
          });
          solution = { ...(other?.[1] ?? fallback), claimId: target.claimId };
        } else {
          solution = {
            claimId: target.claimId,
            y: new Uint8Array(256).fill(5),
            proof: new Uint8Array(256).fill(6),
          };
        }
        step({ type: 'solve', solution }, false, a.proof);
        break;
      }
      case 'replay': {
        if (accepted.length === 0) break;
        step(accepted[a.which % accepted.length] as Command, true);
        break;
      }
      case 'epoch':
        h.epoch += 1;
        step({ type: 'beginEpoch' }, false);
        break;
      case 'wait':
        h.now += a.ms;
        break;
      case 'claimThenPing':
        break;
      case 'restoreTwin':
        // The twin continues from its own snapshot: a snapshot must carry everything that
        // decides later results, or the replicas diverge from here on.
        h.twin = VaultMachine.restore(h.twinSnapshot());
        break;
      case 'garbage': {
        const before = h.snapshot();
        expect(() => decodeCommand(a.bytes)).toThrow(VaultError);
        expect(Buffer.from(h.snapshot()).equals(Buffer.from(before))).toBe(true);
        break;
      }
    }
  }
  expect(h.disagreements).toEqual([]);
}

describe('state machine properties', () => {
  it('holds P1, P2, P4, P5, P7, P8 and determinism over random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 25 }), async (actions) => {
        await run(actions);
      }),
      { numRuns: 20 },
    );
    // The generator must reach the interesting paths, or the properties above say nothing.
    console.log('state machine property stats', stats);
    expect(stats.releases, 'no run reached a release').toBeGreaterThan(0);
    expect(stats.cancelledByPing, 'no run cancelled a claim by a ping').toBeGreaterThan(0);
    expect(stats.replaysRejected, 'no run replayed a command').toBeGreaterThan(0);
  }, 120_000);

  it('a scripted claim-solve-release path passes the same checks (the generator can reach release)', async () => {
    await run([
      { kind: 'deposit', w: 0 },
      { kind: 'claim', w: 0, eph: 0 },
      { kind: 'solve', w: 0, proof: 'garbage' },
      { kind: 'solve', w: 0, proof: 'own' },
      { kind: 'replay', which: 1 },
      { kind: 'replay', which: 2 },
      { kind: 'deposit', w: 1 },
      { kind: 'claim', w: 1, eph: 1 },
      { kind: 'ping', tenant: 0 },
      { kind: 'solve', w: 1, proof: 'own' },
      { kind: 'replay', which: 4 },
    ]);
  });
});

describe('strict parsers on arbitrary JSON', () => {
  const parsers = [
    parseTenantRegistration,
    parseDeposit,
    parseDeletion,
    parsePing,
    parseClaim,
    parseSolution,
    parseRelease,
  ];
  it('either parse or throw a 400 VaultError, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(parsers.length - 1), (value, i) => {
        try {
          (parsers[i] as (v: unknown) => unknown)(value);
        } catch (e) {
          expect(e).toBeInstanceOf(VaultError);
          expect((e as VaultError).status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
  });
  it('decodeCommand rejects arbitrary objects with a VaultError', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('deposit', 'ping', 'claim', 'solve', 'x'),
          body: fc.jsonValue(),
        }),
        (o) => {
          expect(() => decodeCommand(new TextEncoder().encode(JSON.stringify(o)))).toThrow(
            VaultError,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
