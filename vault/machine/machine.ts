import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import {
  bytesEqual,
  type Claim,
  challengeSeed,
  checkSchemeCombination,
  checkX25519PublicKey,
  claimIdFor,
  type Deletion,
  type Deposit,
  type DepositReceipt,
  decodePoint,
  decodeScalar,
  deletionBytes,
  depositAad,
  depositBytes,
  depositReceiptBytes,
  ELEMENT_BYTES,
  encodePoint,
  open,
  type Ping,
  Point,
  pingBytes,
  type Release,
  releaseAad,
  requireSignature,
  type Solution,
  seal,
  shareDigest,
  signMessage,
  type TenantRegistration,
  tenantRegistrationBytes,
  toHex,
  utf8,
  verifyClaimProof,
  x25519PublicKey,
} from '../protocol/index.ts';
import { deriveRandom } from './derive.ts';
import { checkNonce, mintNonce, type NonceKind } from './nonces.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import type {
  ApplyContext,
  ClaimRecord,
  ClaimView,
  Command,
  CommandResult,
  Effect,
  IssuedNonce,
  MachineConfig,
  NonceContext,
  TenantRecord,
  VaultState,
  WalletRecord,
  WalletView,
} from './types.ts';
import { type VdfVerify, verifyVdf } from './vdf.ts';

export type ApplyOutcome =
  | { ok: true; result: CommandResult; effects: Effect[] }
  | { ok: false; error: VaultError; effects: [] };

export interface MachineOptions {
  verifyVdf: VdfVerify;
}

/**
 * The vault's deterministic state machine (docs/protocol.md "State machine"). `apply` is a
 * function of (state, command, context): no clock, randomness or I/O inside. Every handler
 * first checks everything that can fail, then mutates; so a rejected command leaves the state
 * byte-for-byte unchanged, and the same command sequence gives the same state on every replica.
 */
export class VaultMachine {
  readonly #state: VaultState;
  readonly #verifyVdf: VdfVerify;
  readonly #checkedKeys = new WeakSet<Uint8Array>();

  private constructor(state: VaultState, options: MachineOptions) {
    this.#state = state;
    this.#verifyVdf = options.verifyVdf;
  }

  static create(config: MachineConfig, options: MachineOptions = { verifyVdf }): VaultMachine {
    const state: VaultState = {
      config: { ...config },
      epochId: null,
      lastIndex: 0,
      clock: 0,
      tenants: new Map(),
      wallets: new Map(),
      claims: new Map(),
    };
    return new VaultMachine(state, options);
  }

  static restore(snapshot: Uint8Array, options: MachineOptions = { verifyVdf }): VaultMachine {
    return new VaultMachine(decodeSnapshot(snapshot), options);
  }

  /** Deterministic serialisation of the whole state (no plaintext secret is in it). */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.#state);
  }

  get lastIndex(): number {
    return this.#state.lastIndex;
  }

  get epochId(): Uint8Array | null {
    return this.#state.epochId;
  }

  apply(command: Command, ctx: ApplyContext): ApplyOutcome {
    if (!Number.isSafeInteger(ctx.logIndex) || ctx.logIndex <= this.#state.lastIndex) {
      throw new Error(`log index ${ctx.logIndex} is not after ${this.#state.lastIndex}`);
    }
    try {
      const effects: Effect[] = [];
      const result = this.#dispatch(command, ctx, effects);
      this.#state.lastIndex = ctx.logIndex;
      this.#state.clock = this.#now(ctx);
      return { ok: true, result, effects };
    } catch (e) {
      if (e instanceof VaultError) return { ok: false, error: e, effects: [] };
      throw e;
    }
  }

  #dispatch(command: Command, ctx: ApplyContext, effects: Effect[]): CommandResult {
    switch (command.type) {
      case 'registerTenant':
        return this.#registerTenant(command.registration, effects);
      case 'deposit':
        return this.#deposit(command.deposit, ctx, effects);
      case 'delete':
        return this.#delete(command.deletion, effects);
      case 'ping':
        return this.#ping(command.ping, ctx, effects);
      case 'claim':
        return this.#claim(command.claim, ctx, effects);
      case 'solve':
        return this.#solve(command.solution, ctx, effects);
      case 'beginEpoch':
        return this.#beginEpoch(ctx, effects);
      default:
        throw new VaultError('MALFORMED', 'unknown command type');
    }
  }

  // ── tenants ──────────────────────────────────────────────────────────────

  #registerTenant(r: TenantRegistration, effects: Effect[]): CommandResult {
    const s = this.#state;
    if (s.tenants.has(r.tenant)) {
      throw new VaultError('TENANT_EXISTS', `tenant ${r.tenant} is already registered`, 409);
    }
    if (s.tenants.size >= s.config.maxTenants) {
      throw new VaultError('TENANT_LIMIT', 'the cluster serves its maximum number of tenants', 403);
    }
    const { signature, ...unsigned } = r;
    requireSignature(
      'registration',
      signature,
      tenantRegistrationBytes(s.config.clusterId, unsigned),
      s.config.operatorKey,
    );
    s.tenants.set(r.tenant, {
      name: r.tenant,
      tenantKey: r.tenantKey,
      pingKey: r.pingKey,
      limits: { ...r.limits, groups: [...r.limits.groups] },
      lastSeq: 0,
      lastPingIndex: 0,
      walletCount: 0,
      liveClaims: [],
      usedPingNonces: new Map(),
    });
    effects.push({ type: 'tenantRegistered', tenant: r.tenant });
    return { type: 'tenantRegistered', tenant: r.tenant };
  }

  #tenant(name: string): TenantRecord {
    const t = this.#state.tenants.get(name);
    if (!t) throw new VaultError('TENANT_UNKNOWN', `tenant ${name} is not registered`, 404);
    return t;
  }

  #checkSeq(t: TenantRecord, seq: number): void {
    if (seq <= t.lastSeq) {
      throw new VaultError('STALE_SEQUENCE', `seq must be greater than ${t.lastSeq}`, 409);
    }
  }

  // ── deposits ─────────────────────────────────────────────────────────────

  #deposit(d: Deposit, ctx: ApplyContext, effects: Effect[]): CommandResult {
    const s = this.#state;
    const t = this.#tenant(d.tenant);
    this.#checkSeq(t, d.seq);
    const { signature, ...unsigned } = d;
    requireSignature('deposit', signature, depositBytes(s.config.clusterId, unsigned), t.tenantKey);
    const id = toHex(d.walletId);
    if (s.wallets.has(id))
      throw new VaultError('WALLET_EXISTS', 'wallet id already holds a deposit', 409);
    if (t.walletCount >= t.limits.maxWallets) {
      throw new VaultError('WALLET_LIMIT', 'tenant holds its maximum number of wallets', 403);
    }
    const { group, iterations } = d.policy;
    if (!t.limits.groups.includes(group)) {
      throw new VaultError('POLICY_REJECTED', `group ${group} is not allowed for this tenant`);
    }
    if (iterations < t.limits.minIterations || iterations > t.limits.maxIterations) {
      throw new VaultError(
        'POLICY_REJECTED',
        `iterations must be in [${t.limits.minIterations}, ${t.limits.maxIterations}]`,
      );
    }
    this.#checkShare(d, ctx);

    const logIndex = ctx.logIndex;
    const receiptUnsigned = {
      tenant: d.tenant,
      walletId: d.walletId,
      scheme: d.scheme,
      q: d.q,
      q1: d.q1,
      q2: d.q2,
      policy: { ...d.policy },
      logIndex,
      shareDigest: shareDigest(d.share),
    };
    const receiptSignature = signMessage(
      depositReceiptBytes(s.config.clusterId, receiptUnsigned),
      this.#receiptSecret(ctx),
      deriveRandom(ctx, 'receipt-aux'),
    );

    t.lastSeq = d.seq;
    t.walletCount += 1;
    s.wallets.set(id, {
      walletId: d.walletId,
      tenant: d.tenant,
      scheme: d.scheme,
      q: d.q,
      q1: d.q1,
      q2: d.q2,
      policy: { ...d.policy },
      share: { enc: d.share.enc, ciphertext: d.share.ciphertext },
      logIndex,
      receiptSignature,
      released: false,
      claimId: null,
      lastClaimAt: null,
      usedClaimNonces: new Map(),
    });
    effects.push({ type: 'deposited', tenant: d.tenant, walletId: d.walletId });
    return { type: 'deposited', receipt: { ...receiptUnsigned, signature: receiptSignature } };
  }

  /** Item 3: decrypt; 1 <= x2 < n; x2·G == Q2; the scheme's combination. x2 dies here. */
  #checkShare(d: Deposit, ctx: ApplyContext): void {
    const x2Bytes = this.#openShare(d.share, depositAad(this.#state.config.clusterId, d), ctx);
    try {
      const x2 = decodeScalar('share', x2Bytes);
      decodePoint('q2', d.q2);
      if (!bytesEqual(encodePoint(Point.BASE.multiply(x2)), d.q2)) {
        throw new VaultError('SHARE_MISMATCH', 'the sealed share does not match Q2');
      }
      checkSchemeCombination({ scheme: d.scheme, q: d.q, q1: d.q1, q2: d.q2, x2 });
    } finally {
      x2Bytes.fill(0);
    }
  }

  #openShare(
    share: { enc: Uint8Array; ciphertext: Uint8Array },
    aad: Uint8Array,
    ctx: ApplyContext,
  ): Uint8Array {
    return open({
      purpose: 'deposit',
      recipientSecretKey: this.#clusterSecret(ctx),
      enc: share.enc,
      aad,
      ciphertext: share.ciphertext,
    });
  }

  #delete(d: Deletion, effects: Effect[]): CommandResult {
    const s = this.#state;
    const t = this.#tenant(d.tenant);
    this.#checkSeq(t, d.seq);
    const { signature, ...unsigned } = d;
    requireSignature(
      'deletion',
      signature,
      deletionBytes(s.config.clusterId, unsigned),
      t.tenantKey,
    );
    const id = toHex(d.walletId);
    const w = s.wallets.get(id);
    if (!w || w.tenant !== d.tenant)
      throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);

    t.lastSeq = d.seq;
    t.walletCount -= 1;
    if (w.claimId !== null) {
      const c = s.claims.get(w.claimId);
      if (c?.status === 'live') this.#endClaim(c, 'deletion', effects);
      s.claims.delete(w.claimId);
    }
    s.wallets.delete(id);
    effects.push({ type: 'deleted', tenant: d.tenant, walletId: d.walletId });
    return { type: 'deleted', walletId: d.walletId };
  }

  // ── pings ────────────────────────────────────────────────────────────────

  #ping(p: Ping, ctx: ApplyContext, effects: Effect[]): CommandResult {
    const s = this.#state;
    const t = this.#tenant(p.tenant);
    const now = this.#now(ctx);
    const key = toHex(p.nonce);
    const expiresAt = checkNonce({
      kind: 'ping',
      subject: utf8(p.tenant),
      epochSecret: ctx.epochSecret,
      nonce: p.nonce,
      now,
      ttlMs: s.config.pingNonceTtlMs,
    });
    if (expiresAt === null || t.usedPingNonces.has(key)) {
      throw new VaultError('PING_NONCE_INVALID', 'ping nonce unknown, used or expired', 409);
    }
    const { signature, ...unsigned } = p;
    requireSignature('ping', signature, pingBytes(s.config.clusterId, unsigned), t.pingKey);

    consumeNonce(t.usedPingNonces, key, expiresAt, now);
    t.lastPingIndex = ctx.logIndex;
    const cancelledClaims: Uint8Array[] = [];
    for (const claimId of [...t.liveClaims]) {
      const c = s.claims.get(claimId);
      if (!c) continue;
      this.#endClaim(c, 'ping', effects);
      cancelledClaims.push(c.claimId);
    }
    effects.push({ type: 'pinged', tenant: p.tenant });
    return { type: 'pinged', tenant: p.tenant, logIndex: ctx.logIndex, cancelledClaims };
  }

  // ── claims ───────────────────────────────────────────────────────────────

  #wallet(walletId: Uint8Array): WalletRecord {
    const w = this.#state.wallets.get(toHex(walletId));
    if (!w) throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);
    return w;
  }

  #requireEpoch(ctx: ApplyContext): Uint8Array {
    const epoch = this.#state.epochId;
    if (epoch === null || !bytesEqual(epoch, ctx.epochId)) {
      throw new VaultError('EPOCH_MISMATCH', 'the cluster epoch is not current; retry later', 503);
    }
    return epoch;
  }

  #claim(c: Claim, ctx: ApplyContext, effects: Effect[]): CommandResult {
    const s = this.#state;
    const w = this.#wallet(c.walletId);
    if (w.released) throw new VaultError('WALLET_RELEASED', 'the share was already released', 409);
    const epochId = this.#requireEpoch(ctx);
    checkX25519PublicKey('ephemeralKey', c.ephemeralKey);
    const now = this.#now(ctx);
    const nonceKey = toHex(c.claimNonce);
    const expiresAt = checkNonce({
      kind: 'claim',
      subject: c.walletId,
      epochSecret: ctx.epochSecret,
      nonce: c.claimNonce,
      now,
      ttlMs: s.config.claimNonceTtlMs,
    });
    if (expiresAt === null || w.usedClaimNonces.has(nonceKey)) {
      throw new VaultError('CLAIM_NONCE_INVALID', 'claim nonce unknown, used or expired', 409);
    }
    verifyClaimProof(
      w.q1,
      {
        clusterId: s.config.clusterId,
        walletId: c.walletId,
        ephemeralKey: c.ephemeralKey,
        claimNonce: c.claimNonce,
      },
      c.proof,
    );
    const live = this.#liveClaim(w);
    if (live) {
      consumeNonce(w.usedClaimNonces, nonceKey, expiresAt, now);
      return { type: 'claim', claim: claimView(live), existing: true };
    }
    const t = this.#tenant(w.tenant);
    if (t.liveClaims.length >= t.limits.maxClaims) {
      throw new VaultError(
        'CLAIM_LIMIT',
        'too many live claims for this provider; retry later',
        429,
      );
    }
    if (w.lastClaimAt !== null && now - w.lastClaimAt < s.config.claimIntervalMs) {
      throw new VaultError(
        'CLAIM_RATE',
        'claims on this wallet are rate limited; retry later',
        429,
      );
    }
    const claimId = claimIdFor({
      clusterId: s.config.clusterId,
      epochId,
      logIndex: ctx.logIndex,
      walletId: c.walletId,
    });
    const seed = challengeSeed({
      epochSecret: ctx.epochSecret,
      epochId,
      logIndex: ctx.logIndex,
      clusterId: s.config.clusterId,
      walletId: c.walletId,
      claimId,
      ephemeralKey: c.ephemeralKey,
      claimNonce: c.claimNonce,
      q1: w.q1,
      group: w.policy.group,
      iterations: w.policy.iterations,
    });
    const record: ClaimRecord = {
      claimId,
      walletId: c.walletId,
      tenant: w.tenant,
      ephemeralKey: c.ephemeralKey,
      group: w.policy.group,
      iterations: w.policy.iterations,
      seed,
      logIndex: ctx.logIndex,
      epochId,
      status: 'live',
      release: null,
    };
    const id = toHex(claimId);
    consumeNonce(w.usedClaimNonces, nonceKey, expiresAt, now);
    if (w.claimId !== null) s.claims.delete(w.claimId);
    w.claimId = id;
    w.lastClaimAt = now;
    s.claims.set(id, record);
    t.liveClaims = [...t.liveClaims, id].sort();
    effects.push({ type: 'claimStarted', tenant: w.tenant, walletId: c.walletId, claimId });
    return { type: 'claim', claim: claimView(record), existing: false };
  }

  #liveClaim(w: WalletRecord): ClaimRecord | null {
    if (w.claimId === null) return null;
    const c = this.#state.claims.get(w.claimId);
    return c?.status === 'live' ? c : null;
  }

  #endClaim(c: ClaimRecord, reason: 'ping' | 'epoch' | 'deletion', effects: Effect[]): void {
    c.status = reason === 'epoch' ? 'voided' : 'cancelled';
    const t = this.#state.tenants.get(c.tenant);
    const id = toHex(c.claimId);
    if (t) t.liveClaims = t.liveClaims.filter((x) => x !== id);
    effects.push({
      type: 'claimEnded',
      tenant: c.tenant,
      walletId: c.walletId,
      claimId: c.claimId,
      reason,
    });
  }

  // ── solutions and releases ───────────────────────────────────────────────

  #solve(sol: Solution, ctx: ApplyContext, effects: Effect[]): CommandResult {
    const s = this.#state;
    const id = toHex(sol.claimId);
    const c = s.claims.get(id);
    if (!c) throw new VaultError('CLAIM_NOT_FOUND', 'no such claim', 404);
    if (c.status !== 'live')
      throw new VaultError('CLAIM_NOT_LIVE', `the claim is ${c.status}`, 409);
    const epochId = this.#requireEpoch(ctx);
    if (!bytesEqual(c.epochId, epochId)) {
      throw new VaultError('CLAIM_NOT_LIVE', 'the claim belongs to an earlier epoch', 409);
    }
    const t = this.#tenant(c.tenant);
    // P2, checked on the log positions themselves, not only on the claim's status.
    if (t.lastPingIndex >= c.logIndex) {
      throw new VaultError('CLAIM_NOT_LIVE', 'the provider pinged after the claim began', 409);
    }
    const w = this.#wallet(c.walletId);
    const size = ELEMENT_BYTES[c.group];
    if (sol.y.length !== size) {
      throw new VaultError('BAD_LENGTH', `y must be ${size} bytes for ${c.group}`);
    }
    const verdict = this.#verifyVdf(
      { group: c.group, seed: c.seed, iterations: c.iterations, output: sol.y, proof: sol.proof },
      { maxIterations: t.limits.maxIterations },
    );
    if (!verdict.valid) {
      throw new VaultError('VDF_PROOF_INVALID', `VDF proof rejected: ${verdict.reason}`);
    }

    const x2 = this.#openShare(w.share, depositAad(s.config.clusterId, w), ctx);
    let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
    try {
      const aad = releaseAad({
        clusterId: s.config.clusterId,
        walletId: c.walletId,
        claimId: c.claimId,
        seed: c.seed,
        ephemeralKey: c.ephemeralKey,
        q2: w.q2,
      });
      sealed = seal({
        purpose: 'release',
        recipientPublicKey: c.ephemeralKey,
        senderSecret: deriveRandom(ctx, 'release-key'),
        aad,
        plaintext: x2,
      });
    } finally {
      x2.fill(0);
    }

    c.status = 'released';
    c.release = sealed;
    w.released = true;
    t.liveClaims = t.liveClaims.filter((x) => x !== id);
    const release: Release = { claimId: c.claimId, walletId: c.walletId, share: sealed };
    effects.push({ type: 'released', tenant: c.tenant, walletId: c.walletId, claimId: c.claimId });
    return { type: 'released', release };
  }

  // ── epochs ───────────────────────────────────────────────────────────────

  #beginEpoch(ctx: ApplyContext, effects: Effect[]): CommandResult {
    const s = this.#state;
    if (s.epochId !== null && bytesEqual(s.epochId, ctx.epochId)) {
      throw new VaultError('EPOCH_CURRENT', 'this epoch has already begun', 409);
    }
    let voidedClaims = 0;
    for (const id of [...s.claims.keys()].sort()) {
      const c = s.claims.get(id) as ClaimRecord;
      if (c.status !== 'live') continue;
      this.#endClaim(c, 'epoch', effects);
      voidedClaims += 1;
    }
    // Nonces are keyed to the epoch secret: the old epoch's are invalid now, so forget them.
    for (const w of s.wallets.values()) w.usedClaimNonces.clear();
    for (const t of s.tenants.values()) t.usedPingNonces.clear();
    s.epochId = ctx.epochId;
    effects.push({ type: 'epochStarted' });
    return { type: 'epochStarted', voidedClaims };
  }

  /** Machine time: the proposer's timestamp, but never earlier than one already applied. */
  #now(ctx: ApplyContext): number {
    return Math.max(this.#state.clock, ctx.timestamp);
  }

  // ── nonces (minted without a log entry; see nonces.ts) ───────────────────

  mintPingNonce(tenant: string, nc: NonceContext): IssuedNonce {
    this.#tenant(tenant);
    return this.#mint('ping', utf8(tenant), nc, this.#state.config.pingNonceTtlMs);
  }

  mintClaimNonce(walletId: Uint8Array, nc: NonceContext): IssuedNonce {
    const w = this.#wallet(walletId);
    if (w.released) throw new VaultError('WALLET_RELEASED', 'the share was already released', 409);
    const epoch = this.#state.epochId;
    if (epoch === null || !bytesEqual(epoch, nc.epochId)) {
      throw new VaultError('EPOCH_MISMATCH', 'the cluster epoch is not current; retry later', 503);
    }
    return this.#mint('claim', walletId, nc, this.#state.config.claimNonceTtlMs);
  }

  #mint(kind: NonceKind, subject: Uint8Array, nc: NonceContext, ttlMs: number): IssuedNonce {
    const issuedAt = Math.max(this.#state.clock, nc.timestamp);
    const nonce = mintNonce({
      kind,
      subject,
      epochSecret: nc.epochSecret,
      issuedAt,
      random: nc.random,
    });
    return { nonce, expiresAt: issuedAt + ttlMs };
  }

  // ── keys ─────────────────────────────────────────────────────────────────

  #clusterSecret(ctx: ApplyContext): Uint8Array {
    const k = ctx.keys.clusterSecretKey;
    if (!this.#checkedKeys.has(k)) {
      if (!bytesEqual(x25519PublicKey(k), this.#state.config.clusterEncryptionKey)) {
        throw new Error('context cluster key does not match the configured cluster key');
      }
      this.#checkedKeys.add(k);
    }
    return k;
  }

  #receiptSecret(ctx: ApplyContext): Uint8Array {
    const k = ctx.keys.receiptSecretKey;
    if (!this.#checkedKeys.has(k)) {
      if (!bytesEqual(schnorr.getPublicKey(k), this.#state.config.receiptKey)) {
        throw new Error('context receipt key does not match the configured receipt key');
      }
      this.#checkedKeys.add(k);
    }
    return k;
  }

  // ── read-only queries (served from a replica's applied state) ────────────

  wallet(walletId: Uint8Array): WalletView | null {
    const w = this.#state.wallets.get(toHex(walletId));
    if (!w) return null;
    const live = this.#liveClaim(w);
    return {
      walletId: w.walletId,
      tenant: w.tenant,
      scheme: w.scheme,
      q: w.q,
      q1: w.q1,
      q2: w.q2,
      policy: { ...w.policy },
      logIndex: w.logIndex,
      released: w.released,
      liveClaim: live ? claimView(live) : null,
    };
  }

  receipt(walletId: Uint8Array): DepositReceipt | null {
    const w = this.#state.wallets.get(toHex(walletId));
    if (!w) return null;
    return {
      tenant: w.tenant,
      walletId: w.walletId,
      scheme: w.scheme,
      q: w.q,
      q1: w.q1,
      q2: w.q2,
      policy: { ...w.policy },
      logIndex: w.logIndex,
      shareDigest: shareDigest(w.share),
      signature: w.receiptSignature,
    };
  }

  claim(claimId: Uint8Array): ClaimView | null {
    const c = this.#state.claims.get(toHex(claimId));
    return c ? claimView(c) : null;
  }

  tenantNames(): string[] {
    return [...this.#state.tenants.keys()].sort();
  }
}

function claimView(c: ClaimRecord): ClaimView {
  return {
    claimId: c.claimId,
    walletId: c.walletId,
    ephemeralKey: c.ephemeralKey,
    group: c.group,
    iterations: c.iterations,
    seed: c.seed,
    logIndex: c.logIndex,
    status: c.status,
    release: c.release ? { claimId: c.claimId, walletId: c.walletId, share: c.release } : null,
  };
}

/** Remembers a consumed nonce until it expires, forgetting those already expired. */
function consumeNonce(
  used: Map<string, number>,
  key: string,
  expiresAt: number,
  now: number,
): void {
  for (const [k, exp] of [...used]) if (now >= exp) used.delete(k);
  used.set(key, expiresAt);
}
