import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../protocol/code-of.test-support.ts';
import {
  CURVE_ORDER,
  canonicalHash,
  depositBytes,
  makeDeposit,
  messageDigest,
  openRelease,
  parseSolution,
  type Scheme,
  scalarToBytes,
  signPing,
  toHex,
  u64,
  utf8,
  verifyDepositReceipt,
  x25519PublicKey,
} from '../protocol/index.ts';
import { CLAIM_LIFETIME_FLOOR_MS, claimLifetimeMs, TENANT_SILENT_AFTER_MS } from './claims.ts';
import {
  clusterId,
  containsBytes,
  defaultLimits,
  Harness,
  ITERATIONS,
  secrets,
  seedBytes,
  solveClaim,
  testConfig,
  type WalletKeys,
  walletKeys,
} from './harness.test-support.ts';
import type { ApplyOutcome } from './machine.ts';
import { MachineMisuse, VaultMachine } from './machine.ts';
import { mintNonce } from './nonces.ts';
import { MAX_USED_PING_NONCES } from './pings.ts';
import type { MemoryRecords } from './store.ts';
import { StoreFailure } from './store.ts';
import type { ClaimView, Command } from './types.ts';

function ok(out: ApplyOutcome) {
  if (!out.ok) throw new Error(`expected success, got ${out.error.code}: ${out.error.message}`);
  return out.result;
}

/** Applies a command expected to fail and checks it changed nothing. */
function rejected(h: Harness, command: Command, code: string, overrides = {}) {
  const before = h.snapshot();
  const out = h.apply(command, overrides);
  expect(out.ok ? 'accepted' : out.error.code).toBe(code);
  expect(Buffer.from(h.snapshot()).equals(Buffer.from(before))).toBe(true);
  return out;
}

function setup(schemes: Scheme[] = ['ecdsa-2p-mult']) {
  const h = new Harness();
  ok(h.apply(h.registerCommand()));
  ok(h.apply({ type: 'beginEpoch' }));
  const wallets = schemes.map((s, i) => walletKeys(i, s));
  for (const w of wallets) ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w) }));
  return { h, wallets };
}

function startClaim(h: Harness, w: WalletKeys, eph = seedBytes('eph')): ClaimView {
  const r = ok(h.apply(h.claimCommand(w, eph)));
  if (r.type !== 'claim') throw new Error('not a claim');
  return r.claim;
}

describe('deposits', () => {
  it.each(['ecdsa-2p-mult', 'additive', 'musig2'] as const)(
    'accepts a %s deposit and signs a receipt the client can check (P6)',
    (scheme) => {
      const h = new Harness();
      ok(h.apply(h.registerCommand()));
      const w = walletKeys(1, scheme);
      const r = ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w) }));
      if (r.type !== 'deposited') throw new Error('not deposited');
      const expected = {
        walletId: w.walletId,
        scheme,
        q: w.q,
        q1: w.q1,
        q2: w.q2,
        policy: { group: 'rsa2048' as const, iterations: ITERATIONS },
      };
      const receiptKey = testConfig().receiptKey;
      const receipt = h.machine.receiptSigner(secrets.receipt).sign(r.receipt);
      expect(verifyDepositReceipt({ clusterId, receiptKey, receipt, expected })).toBe(true);
      expect(h.machine.receipt(w.walletId)).toEqual(r.receipt);
      expect(
        verifyDepositReceipt({
          clusterId,
          receiptKey,
          receipt,
          expected: { ...expected, q2: w.q1 },
        }),
      ).toBe(false);
    },
  );

  it('rejects a share that does not match Q2, out-of-range shares, and broken combinations; stores nothing', () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand()));
    const w = walletKeys(1);
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(w, { x2: scalarToBytes(w.x2 + 1n) }) },
      'SHARE_MISMATCH',
    );
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(w, { x2: new Uint8Array(32) }) },
      'BAD_SCALAR',
    );
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(w, { x2: scalarToBytes(CURVE_ORDER) }) },
      'BAD_SCALAR',
    );
    const wrongQ = { ...w, q: walletKeys(2).q };
    rejected(h, { type: 'deposit', deposit: h.depositCommand(wrongQ) }, 'SCHEME_MISMATCH');
    const additiveClaimed = { ...w, scheme: 'additive' as const };
    rejected(h, { type: 'deposit', deposit: h.depositCommand(additiveClaimed) }, 'SCHEME_MISMATCH');
    expect(h.machine.wallet(w.walletId)).toBeNull();
  });

  it('rejects a ciphertext sealed for another transcript, a bad signature, policy outside the caps, replays', () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand()));
    const w = walletKeys(1);
    // Sealed with iterations 64 in the AAD but presented (and signed) as 128.
    const sealedFor64 = h.depositCommand(w);
    const other = h.depositCommand(w, { iterations: 128 });
    const swapped = makeDeposit({
      clusterId,
      clusterKey: x25519PublicKey(secrets.cluster),
      deposit: { ...other },
      x2: scalarToBytes(w.x2),
      tenantSecretKey: secrets.tenant('acme'),
      senderSecret: seedBytes('s'),
      aux: seedBytes('aux'),
    });
    const resigned = { ...swapped, share: sealedFor64.share };
    const { signature: _, ...unsigned } = resigned;
    resigned.signature = schnorr.sign(
      messageDigest(depositBytes(clusterId, unsigned)),
      secrets.tenant('acme'),
      seedBytes('aux'),
    );
    rejected(h, { type: 'deposit', deposit: resigned }, 'DECRYPT_FAILED');
    rejected(
      h,
      {
        type: 'deposit',
        deposit: { ...h.depositCommand(w), signature: new Uint8Array(64).fill(1) },
      },
      'BAD_SIGNATURE',
    );
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(w, { iterations: 1001 }) },
      'POLICY_REJECTED',
    );
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(w, { iterations: 15 }) },
      'POLICY_REJECTED',
    );
    const good = h.depositCommand(w);
    ok(h.apply({ type: 'deposit', deposit: good }));
    rejected(h, { type: 'deposit', deposit: good }, 'STALE_SEQUENCE');
    rejected(h, { type: 'deposit', deposit: h.depositCommand(w) }, 'WALLET_EXISTS');
    rejected(
      h,
      { type: 'deposit', deposit: h.depositCommand(walletKeys(2), { tenant: 'nobody' }) },
      'TENANT_UNKNOWN',
    );
  });

  it('enforces the tenant wallet limit and lets a deletion free a slot; deletion replays fail', () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand('acme', { ...defaultLimits, maxWallets: 1 })));
    ok(h.apply({ type: 'deposit', deposit: h.depositCommand(walletKeys(1)) }));
    rejected(h, { type: 'deposit', deposit: h.depositCommand(walletKeys(2)) }, 'WALLET_LIMIT');
    const del = h.deleteCommand(walletKeys(1));
    ok(h.apply(del));
    rejected(h, del, 'STALE_SEQUENCE');
    ok(h.apply({ type: 'deposit', deposit: h.depositCommand(walletKeys(2)) }));
  });

  it('registration replays and forged registrations fail', () => {
    const h = new Harness();
    const reg = h.registerCommand();
    ok(h.apply(reg));
    rejected(h, reg, 'TENANT_EXISTS');
    const forged = h.registerCommand('evil');
    if (forged.type !== 'registerTenant') throw new Error();
    forged.registration.signature = schnorr.sign(
      messageDigest(new Uint8Array(1)),
      secrets.tenant('evil'),
      seedBytes('aux'),
    );
    rejected(h, forged, 'BAD_SIGNATURE');
  });
});

describe('nonces', () => {
  it("minting keeps no state, so flooding cannot evict the provider's ping nonce (P2)", () => {
    const { h } = setup();
    const before = h.snapshot();
    const ping = h.pingCommand();
    for (let i = 0; i < 1000; i++) h.machine.mintPingNonce('acme', h.nonceContext());
    expect(Buffer.from(h.snapshot()).equals(Buffer.from(before))).toBe(true);
    ok(h.apply(ping));
    rejected(h, ping, 'PING_NONCE_INVALID');
  });

  it('a nonce is bound to its kind, subject and epoch, and expires; machine time never runs back', () => {
    const { h, wallets } = setup(['ecdsa-2p-mult', 'additive']);
    const [a, b] = wallets as [WalletKeys, WalletKeys];
    const forA = h.machine.mintClaimNonce(a.walletId, h.nonceContext()).nonce;
    rejected(
      h,
      { type: 'claim', claim: h.claimWithNonce(b, forA, seedBytes('e')) },
      'CLAIM_NONCE_INVALID',
    );
    const pingNonce = h.machine.mintPingNonce('acme', h.nonceContext()).nonce;
    rejected(
      h,
      { type: 'claim', claim: h.claimWithNonce(a, pingNonce, seedBytes('e')) },
      'CLAIM_NONCE_INVALID',
    );
    const forged = new Uint8Array(forA);
    forged[31] = (forged[31] as number) ^ 1;
    rejected(
      h,
      { type: 'claim', claim: h.claimWithNonce(a, forged, seedBytes('e')) },
      'CLAIM_NONCE_INVALID',
    );
    const oldEpoch = h.machine.mintClaimNonce(a.walletId, h.nonceContext()).nonce;
    h.epoch += 1;
    ok(h.apply({ type: 'beginEpoch' }));
    rejected(
      h,
      { type: 'claim', claim: h.claimWithNonce(a, oldEpoch, seedBytes('e')) },
      'CLAIM_NONCE_INVALID',
    );
    expect(
      codeOf(() =>
        h.machine.mintClaimNonce(a.walletId, { ...h.nonceContext(), epochId: seedBytes('old') }),
      ),
    ).toBe('EPOCH_MISMATCH');
    const ping = h.pingCommand();
    h.now += 60_000;
    rejected(h, ping, 'PING_NONCE_INVALID');
    ok(h.apply(h.pingCommand()));
    // A proposer whose clock lags cannot bring the expired nonce back.
    rejected(h, ping, 'PING_NONCE_INVALID', { timestamp: h.now - 120_000 });
  });
});

describe('nonces across a deletion', () => {
  it('a claim made before a deletion cannot be replayed against a new deposit under the same id', () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const first = h.claimCommand(w, seedBytes('eph-1'));
    const unused = h.claimCommand(w, seedBytes('eph-2'));
    ok(h.apply(first));
    ok(h.apply(h.deleteCommand(w)));
    ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w) }));
    rejected(h, first, 'CLAIM_NONCE_INVALID');
    rejected(h, unused, 'CLAIM_NONCE_INVALID');
  });
});

describe('claims and releases', () => {
  it('releases x2 encrypted to the ephemeral key after a valid VDF proof (P1, P7)', async () => {
    const { h, wallets } = setup(['ecdsa-2p-mult']);
    const w = wallets[0] as WalletKeys;
    const eph = seedBytes('eph');
    const claim = startClaim(h, w, eph);
    expect(claim.iterations).toBe(ITERATIONS);
    const r = ok(h.apply({ type: 'solve', solution: await solveClaim(claim) }));
    if (r.type !== 'released') throw new Error('not released');
    const x2 = openRelease({
      clusterId,
      release: r.release,
      seed: claim.seed,
      ephemeralSecretKey: eph,
      ephemeralKey: x25519PublicKey(eph),
      q2: w.q2,
    });
    expect(toHex(x2)).toBe(toHex(scalarToBytes(w.x2)));
    expect(h.machine.claim(claim.claimId)?.status).toBe('released');
    expect(h.machine.claim(claim.claimId)?.release).toEqual(r.release);
    // A second submission of the same solution is not a second release.
    rejected(h, { type: 'solve', solution: await solveClaim(claim) }, 'CLAIM_NOT_LIVE');
    expect(codeOf(() => h.machine.mintClaimNonce(w.walletId, h.nonceContext()))).toBe(
      'WALLET_RELEASED',
    );
    const nonce = mintNonce({
      kind: 'claim',
      subject: w.walletId,
      epochSecret: h.epochSecret,
      issuedAt: h.now,
      random: seedBytes('r'),
    });
    rejected(
      h,
      { type: 'claim', claim: h.claimWithNonce(w, nonce, seedBytes('e')) },
      'WALLET_RELEASED',
    );
  });

  it("the release's sender key depends on the volatile epoch secret, not only on logged bytes (P1)", async () => {
    const { h, wallets } = setup();
    const claim = startClaim(h, wallets[0] as WalletKeys);
    const solution = await solveClaim(claim);
    const r = ok(h.apply({ type: 'solve', solution }));
    if (r.type !== 'released') throw new Error();
    const logged = { random: seedBytes(`random/${h.index}`), logIndex: h.index };
    const fromLogOnly = canonicalHash('vigil/v1/derive', [
      utf8('release-key'),
      logged.random,
      u64(logged.logIndex),
    ]);
    expect(toHex(r.release.share.enc)).not.toBe(toHex(x25519PublicKey(fromLogOnly)));
    const withSecret = canonicalHash('vigil/v1/derive-secret', [
      utf8('release-key'),
      h.epochSecret,
      logged.random,
      u64(logged.logIndex),
    ]);
    expect(toHex(r.release.share.enc)).toBe(toHex(x25519PublicKey(withSecret)));
  });

  it('works the same in the class1024 group (n-Wesolowski proofs)', async () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand('acme', { ...defaultLimits, groups: ['class1024', 'rsa2048'] })));
    ok(h.apply({ type: 'beginEpoch' }));
    const w = walletKeys(7, 'additive');
    ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w, { group: 'class1024' }) }));
    const claim = startClaim(h, w);
    expect(claim.group).toBe('class1024');
    const solution = await solveClaim(claim);
    rejected(
      h,
      { type: 'solve', solution: { ...solution, y: solution.proof, proof: solution.y } },
      'VDF_PROOF_INVALID',
    );
    const r = ok(h.apply({ type: 'solve', solution }));
    expect(r.type).toBe('released');
  });

  it('accepts a depth-1 class1024 proof (the solver splits long solves), over the wire too', async () => {
    const h = new Harness();
    ok(h.apply(h.registerCommand('acme', { ...defaultLimits, groups: ['class1024', 'rsa2048'] })));
    ok(h.apply({ type: 'beginEpoch' }));
    const w = walletKeys(8, 'additive');
    ok(
      h.apply({
        type: 'deposit',
        deposit: h.depositCommand(w, { group: 'class1024', iterations: 1000 }),
      }),
    );
    const claim = startClaim(h, w);
    const solution = await solveClaim(claim, 600);
    expect(solution.proof).toHaveLength(100 + 141);
    const wire = parseSolution({
      claimId: toHex(solution.claimId),
      y: toHex(solution.y),
      proof: toHex(solution.proof),
    });
    // the segment's B altered: refused
    const badSegment = wire.proof.slice();
    badSegment[100 + 8 + 32]! ^= 1;
    rejected(h, { type: 'solve', solution: { ...wire, proof: badSegment } }, 'VDF_PROOF_INVALID');
    const r = ok(h.apply({ type: 'solve', solution: wire }));
    expect(r.type).toBe('released');
  });

  it('a ping applied after the claim began cancels it: no release even with a valid proof (P2)', async () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const claim = startClaim(h, w);
    const ping = h.pingCommand();
    const pinged = ok(h.apply(ping));
    expect(pinged.type === 'pinged' && pinged.cancelledClaims.map(toHex)).toEqual([
      toHex(claim.claimId),
    ]);
    rejected(h, { type: 'solve', solution: await solveClaim(claim) }, 'CLAIM_NOT_LIVE');
    rejected(h, ping, 'PING_NONCE_INVALID');
  });

  it('pings must answer a fresh nonce and be signed by the ping key', () => {
    const { h } = setup();
    const nonce = h.machine.mintPingNonce('acme', h.nonceContext());
    const byTenantKey = signPing(
      clusterId,
      { tenant: 'acme', nonce: nonce.nonce },
      secrets.tenant('acme'),
      seedBytes('a'),
    );
    rejected(h, { type: 'ping', ping: byTenantKey }, 'BAD_SIGNATURE');
    const made = signPing(
      clusterId,
      { tenant: 'acme', nonce: seedBytes('made-up') },
      secrets.ping('acme'),
      seedBytes('a'),
    );
    rejected(h, { type: 'ping', ping: made }, 'PING_NONCE_INVALID');
    const good = signPing(
      clusterId,
      { tenant: 'acme', nonce: nonce.nonce },
      secrets.ping('acme'),
      seedBytes('a'),
    );
    h.now += 61_000;
    rejected(h, { type: 'ping', ping: good }, 'PING_NONCE_INVALID');
  });

  it("a tenant's consumed ping nonces are a ring: MAX_USED_PING_NONCES per nonce lifetime, each refused until its slot comes round", () => {
    const { h } = setup();
    const usedRecords = () =>
      h
        .records()
        .entries()
        .filter(([key]) => key.startsWith('v/pn/acme/')).length;
    // every ping at one machine time, so none of their nonces expires in between
    const t0 = h.now;
    const pingAt = (t: number) => {
      h.now = t;
      return h.pingCommand();
    };
    const first = pingAt(t0);
    ok(h.apply(first, { timestamp: t0 }));
    for (let i = 1; i < MAX_USED_PING_NONCES; i++) ok(h.apply(pingAt(t0), { timestamp: t0 }));
    expect(usedRecords()).toBe(MAX_USED_PING_NONCES);
    rejected(h, pingAt(t0), 'PING_RATE', { timestamp: t0 });
    rejected(h, first, 'PING_NONCE_INVALID', { timestamp: t0 });
    // once the oldest nonce has expired its slot is free again: the ring never grows
    const later = t0 + 60_000;
    ok(h.apply(pingAt(later), { timestamp: later }));
    expect(usedRecords()).toBe(MAX_USED_PING_NONCES);
    const next = pingAt(later);
    ok(h.apply(next, { timestamp: later }));
    rejected(h, next, 'PING_NONCE_INVALID', { timestamp: later });
    expect(usedRecords()).toBe(MAX_USED_PING_NONCES);
  });

  it('asking again returns the live claim; replays, stale nonces and wrong proofs fail', () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const first = h.claimCommand(w, seedBytes('eph-1'));
    const live = ok(h.apply(first));
    const again = ok(h.apply(h.claimCommand(w, seedBytes('eph-2'))));
    if (live.type !== 'claim' || again.type !== 'claim') throw new Error();
    expect(again.existing).toBe(true);
    expect(toHex(again.claim.claimId)).toBe(toHex(live.claim.claimId));
    expect(toHex(again.claim.ephemeralKey)).toBe(toHex(x25519PublicKey(seedBytes('eph-1'))));
    rejected(h, first, 'CLAIM_NONCE_INVALID');
    const wrongProof = h.claimCommand(w);
    if (wrongProof.type !== 'claim') throw new Error();
    wrongProof.claim.walletId = walletKeys(5).walletId;
    rejected(h, wrongProof, 'WALLET_NOT_FOUND');
    const forged = h.claimCommand(w);
    if (forged.type !== 'claim') throw new Error();
    forged.claim.ephemeralKey = x25519PublicKey(seedBytes('attacker'));
    rejected(h, forged, 'BAD_CLAIM_PROOF');
  });

  it('bounds claims in number per tenant between pings while it pings, and in rate per wallet', () => {
    const { h, wallets } = setup(['ecdsa-2p-mult', 'additive', 'musig2']);
    const [a, b, c] = wallets as [WalletKeys, WalletKeys, WalletKeys];
    ok(h.apply(h.pingCommand()));
    startClaim(h, a);
    startClaim(h, b);
    rejected(h, h.claimCommand(c), 'CLAIM_LIMIT');
    ok(h.apply(h.pingCommand()));
    // Wallet a's previous claim started under 60 s ago.
    rejected(h, h.claimCommand(a), 'CLAIM_RATE');
    h.now += 60_000;
    startClaim(h, a);
  });

  it('claims that fill the cap as the provider falls silent lock no owner out (issue 11 item 3)', () => {
    // maxClaims = 2: an attacker claims its own wallets a and b right after the provider's last
    // ping; the owner of c is refused only until the provider has been silent for a while
    const { h, wallets } = setup(['ecdsa-2p-mult', 'additive', 'musig2']);
    const [a, b, c] = wallets as [WalletKeys, WalletKeys, WalletKeys];
    ok(h.apply(h.pingCommand()));
    startClaim(h, a);
    startClaim(h, b);
    rejected(h, h.claimCommand(c), 'CLAIM_LIMIT');
    h.now += TENANT_SILENT_AFTER_MS;
    const owners = startClaim(h, c);
    expect(owners.status).toBe('live');
    // and any number of owners after it: the cap no longer counts while the provider is silent
    expect(h.machine.claim(owners.claimId)?.status).toBe('live');
  });

  it('a claim expires after its lifetime: its solution is refused, its owner claims afresh', async () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const claim = startClaim(h, w);
    expect(claim.expiresAt).toBe(h.now + claimLifetimeMs('rsa2048', ITERATIONS));
    expect(claimLifetimeMs('rsa2048', ITERATIONS)).toBe(CLAIM_LIFETIME_FLOOR_MS);
    expect(claimLifetimeMs('class1024', 1e9)).toBe((8 * 1e9 * 1000) / 5_000);
    const solution = await solveClaim(claim);
    h.now = claim.expiresAt - 1000; // the next command applies at expiresAt
    rejected(h, { type: 'solve', solution }, 'CLAIM_NOT_LIVE');
    const again = startClaim(h, w, seedBytes('eph-2'));
    expect(again.status).toBe('live');
    expect(toHex(again.claimId)).not.toBe(toHex(claim.claimId));
    expect(h.machine.wallet(w.walletId)?.released).toBe(false);
  });

  it('a proof for another claim, or garbage, never releases (P7)', async () => {
    const { h, wallets } = setup(['ecdsa-2p-mult', 'additive']);
    const [a, b] = wallets as [WalletKeys, WalletKeys];
    const ca = startClaim(h, a);
    const cb = startClaim(h, b);
    const forB = await solveClaim(cb);
    rejected(h, { type: 'solve', solution: { ...forB, claimId: ca.claimId } }, 'VDF_PROOF_INVALID');
    const garbage = {
      claimId: ca.claimId,
      y: new Uint8Array(256).fill(7),
      proof: new Uint8Array(256).fill(9),
    };
    rejected(h, { type: 'solve', solution: garbage }, 'VDF_PROOF_INVALID');
    rejected(
      h,
      { type: 'solve', solution: { ...forB, claimId: seedBytes('nope') } },
      'CLAIM_NOT_FOUND',
    );
    ok(h.apply({ type: 'solve', solution: forB }));
  });

  it('a new epoch voids pending claims and keeps deposits; an old epoch cannot claim or release (P4)', async () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const claim = startClaim(h, w);
    const solution = await solveClaim(claim);
    // Rollback: restore the state as it was with the claim live, on a machine that restarted.
    const restored = new Harness(VaultMachine.restore(h.snapshot()));
    restored.index = h.index;
    restored.now = h.now;
    restored.epoch = 1;
    rejected(restored, { type: 'solve', solution }, 'EPOCH_MISMATCH');
    const e = ok(restored.apply({ type: 'beginEpoch' }));
    expect(e.type === 'epochStarted' && e.voidedClaims).toBe(1);
    rejected(restored, { type: 'solve', solution }, 'CLAIM_NOT_LIVE');
    rejected(restored, { type: 'beginEpoch' }, 'EPOCH_CURRENT');
    expect(restored.machine.wallet(w.walletId)?.q2).toEqual(w.q2);
    restored.now += 60_000;
    const again = startClaim(restored, w);
    expect(toHex(again.seed)).not.toBe(toHex(claim.seed));
    ok(restored.apply({ type: 'solve', solution: await solveClaim(again) }));
  });

  it('deleting a wallet ends its live claim', async () => {
    const { h, wallets } = setup();
    const w = wallets[0] as WalletKeys;
    const claim = startClaim(h, w);
    ok(h.apply(h.deleteCommand(w)));
    rejected(h, { type: 'solve', solution: await solveClaim(claim) }, 'CLAIM_NOT_FOUND');
  });
});

describe('failures of the shell and of the code', () => {
  it('wrong context keys throw MachineMisuse; an unexpected failure is a 500 rejection that changes nothing', async () => {
    const { h, wallets } = setup();
    const deposit = h.depositCommand(walletKeys(9));
    const wrongKeys = { keys: { clusterSecretKey: seedBytes('not it') } };
    expect(() => h.apply({ type: 'deposit', deposit }, wrongKeys)).toThrow(MachineMisuse);
    expect(() => h.machine.receiptSigner(seedBytes('not it'))).toThrow(MachineMisuse);
    const claim = startClaim(h, wallets[0] as WalletKeys);
    const solution = await solveClaim(claim);
    const broken = new Harness(
      VaultMachine.restore(h.snapshot(), { verifyVdf: () => undefined as never }),
    );
    Object.assign(broken, { index: h.index, now: h.now });
    rejected(broken, { type: 'solve', solution }, 'INTERNAL');
    const throwing = new Harness(
      VaultMachine.restore(h.snapshot(), {
        verifyVdf: () => {
          throw new TypeError('boom');
        },
      }),
    );
    Object.assign(throwing, { index: h.index, now: h.now });
    rejected(throwing, { type: 'solve', solution }, 'VDF_PROOF_INVALID');
    ok(h.apply({ type: 'solve', solution }));
  });
});

describe('snapshots', () => {
  it('restore(snapshot) round-trips byte for byte, and x2 is nowhere in it', async () => {
    const { h, wallets } = setup(['ecdsa-2p-mult', 'additive', 'musig2']);
    const claim = startClaim(h, wallets[0] as WalletKeys);
    ok(h.apply({ type: 'solve', solution: await solveClaim(claim) }));
    startClaim(h, wallets[1] as WalletKeys);
    ok(h.apply(h.pingCommand()));
    const snap = h.snapshot();
    expect(
      Buffer.from((VaultMachine.restore(snap).store as MemoryRecords).snapshot()).equals(
        Buffer.from(snap),
      ),
    ).toBe(true);
    for (const w of wallets) {
      expect(containsBytes(snap, scalarToBytes(w.x2))).toBe(false);
      expect(Buffer.from(snap).includes(toHex(scalarToBytes(w.x2)))).toBe(false);
    }
    expect(() => VaultMachine.restore(snap.slice(0, snap.length - 3))).toThrow(/snapshot/);
  });
});

describe('a record this replica cannot read', () => {
  it('stops the apply (never a rejection, which would diverge from the replicas that read theirs)', () => {
    const { h } = setup();
    const records = h.records();
    const broken = new VaultMachine({
      get: (key) => {
        if (key.startsWith('v/t/')) throw new Error('disk read failed');
        return records.get(key);
      },
      write: (w) => records.write(w),
    });
    const ctx = h.context();
    expect(() => broken.apply(h.pingCommand(), ctx)).toThrow(StoreFailure);
    records.write([{ key: 'v/t/acme', value: Uint8Array.of(0xff, 0x00) }]); // not CBOR
    expect(() => h.apply(h.pingCommand())).toThrow(StoreFailure);
  });
});
