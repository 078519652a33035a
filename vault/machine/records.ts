import { VaultError } from '../errors.ts';
import {
  bytesEqual,
  concatBytes,
  open,
  type SealedShare,
  u64,
  type X25519KeyPair,
} from '../protocol/index.ts';
import {
  decodeRecord,
  encodeRecord,
  keys,
  type RecordReader,
  type RecordWrite,
  readRecord,
} from './store.ts';
import type {
  ApplyContext,
  ClaimRecord,
  ClaimStatus,
  ClaimView,
  ClockRecord,
  Effect,
  EpochRecord,
  MachineConfig,
  OpenClaims,
  TenantRecord,
  UsedNonce,
  WalletRecord,
} from './types.ts';
import type { VdfVerify } from './vdf.ts';

/**
 * The records one command reads and writes: reads are decoded once and cached, writes stay here
 * until the command succeeds (`writes`), so a rejected command changes nothing.
 */
export class View {
  readonly #reader: RecordReader;
  readonly #cache = new Map<string, object | null>();
  readonly #dirty = new Set<string>();

  constructor(reader: RecordReader) {
    this.#reader = reader;
  }

  read<T extends object>(key: string): T | null {
    if (this.#cache.has(key)) return this.#cache.get(key) as T | null;
    const bytes = readRecord(this.#reader, key);
    const value = bytes === undefined ? null : decodeRecord<T>(key, bytes);
    this.#cache.set(key, value);
    return value;
  }

  put(key: string, value: object): void {
    this.#cache.set(key, value);
    this.#dirty.add(key);
  }

  delete(key: string): void {
    this.#cache.set(key, null);
    this.#dirty.add(key);
  }

  /** The command's writes, in key order (the same bytes on every replica). */
  writes(): RecordWrite[] {
    return [...this.#dirty].sort().map((key) => {
      const v = this.#cache.get(key);
      return { key, value: v === null || v === undefined ? null : encodeRecord(v) };
    });
  }

  config(): MachineConfig {
    const c = this.read<MachineConfig>(keys.config);
    if (c === null)
      throw new VaultError('CLUSTER_NOT_READY', 'the vault has no configuration', 503);
    return c;
  }

  clock(): ClockRecord {
    return this.read<ClockRecord>(keys.clock) ?? { lastIndex: 0, clock: 0 };
  }

  epoch(): EpochRecord {
    return this.read<EpochRecord>(keys.epoch) ?? { epochId: null, startIndex: 0 };
  }

  tenantNames(): string[] {
    return this.read<{ names: string[] }>(keys.tenantNames)?.names ?? [];
  }
}

/**
 * One command's application: its records, the context, machine time, the effects being
 * collected and the two keys (checked against the configured public keys on first use).
 */
export interface Step {
  view: View;
  config: MachineConfig;
  epoch: EpochRecord;
  ctx: ApplyContext;
  /** Machine time: the proposer's timestamp, never earlier than one already applied. */
  now: number;
  effects: Effect[];
  keys: { clusterKey(): X25519KeyPair };
  verifyVdf: VdfVerify;
}

export function tenantOf(view: View, name: string): TenantRecord {
  const t = view.read<TenantRecord>(keys.tenant(name));
  if (!t) throw new VaultError('TENANT_UNKNOWN', `tenant ${name} is not registered`, 404);
  return t;
}

export function walletOf(view: View, walletId: Uint8Array): WalletRecord {
  const w = view.read<WalletRecord>(keys.wallet(walletId));
  if (!w) throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);
  return w;
}

/** A wallet a claim (or a claim nonce) may still be made on: its share is not yet released. */
export function unreleasedWalletOf(view: View, walletId: Uint8Array): WalletRecord {
  const w = walletOf(view, walletId);
  if (w.released) throw new VaultError('WALLET_RELEASED', 'the share was already released', 409);
  return w;
}

export function checkSeq(t: TenantRecord, seq: number): void {
  if (seq <= t.lastSeq) {
    throw new VaultError('STALE_SEQUENCE', `seq must be greater than ${t.lastSeq}`, 409);
  }
}

/** Whether `epochId` names the vault's current epoch (none before the first `beginEpoch`). */
export function isCurrentEpoch(epoch: EpochRecord, epochId: Uint8Array | null): boolean {
  return epoch.epochId !== null && epochId !== null && bytesEqual(epochId, epoch.epochId);
}

export function requireEpoch(epoch: EpochRecord, epochId: Uint8Array): Uint8Array {
  if (!isCurrentEpoch(epoch, epochId)) {
    throw new VaultError('EPOCH_MISMATCH', 'the cluster epoch is not current; retry later', 503);
  }
  return epoch.epochId!;
}

/**
 * Where a stored claim stands at machine time `now`. A claim ends without being written: a ping
 * of its tenant applied after it cancels it (P2), a new epoch voids it (P4), its lifetime ends
 * it (issue 11 item 3). For a claim of an ended epoch, the pings before the current epoch began
 * say which came first.
 */
export function claimStatus(
  epoch: EpochRecord,
  t: TenantRecord,
  c: ClaimRecord,
  now: number,
): ClaimStatus {
  if (c.status !== 'live') return c.status;
  if (!isCurrentEpoch(epoch, c.epochId)) {
    return lastPingBeforeEpoch(epoch, t) > c.logIndex ? 'cancelled' : 'voided';
  }
  if (t.lastPingIndex > c.logIndex) return 'cancelled';
  return now >= c.expiresAt ? 'expired' : 'live';
}

function lastPingBeforeEpoch(epoch: EpochRecord, t: TenantRecord): number {
  return isCurrentEpoch(epoch, t.lastPingEpoch) ? t.earlierEpochPingIndex : t.lastPingIndex;
}

export function liveClaimOf(
  view: View,
  epoch: EpochRecord,
  w: WalletRecord,
  now: number,
): ClaimRecord | null {
  if (w.claimId === null) return null;
  const c = view.read<ClaimRecord>(keys.claim(w.claimId));
  if (c === null) return null;
  return claimStatus(epoch, tenantOf(view, c.tenant), c, now) === 'live' ? c : null;
}

/** The tenant's open claims as they stand now: none once its last ping or the epoch moved on. */
export function openClaims(epoch: EpochRecord, t: TenantRecord): OpenClaims {
  const o = t.open;
  const valid = isCurrentEpoch(epoch, o.epochId) && o.sincePing === t.lastPingIndex;
  return valid ? o : { epochId: epoch.epochId, sincePing: t.lastPingIndex, count: 0, recent: [] };
}

/** A live claim ended by a release or a deletion: it no longer counts against the tenant. */
export function closeClaim(epoch: EpochRecord, t: TenantRecord, claimId: Uint8Array): void {
  const o = openClaims(epoch, t);
  t.open = {
    ...o,
    count: Math.max(0, o.count - 1),
    recent: o.recent.filter((id) => !bytesEqual(id, claimId)),
  };
}

export function claimView(
  epoch: EpochRecord,
  t: TenantRecord,
  c: ClaimRecord,
  now: number,
): ClaimView {
  const status = claimStatus(epoch, t, c, now);
  const quorumTime = epoch.quorumTime ?? 0;
  return {
    claimId: c.claimId,
    walletId: c.walletId,
    ephemeralKey: c.ephemeralKey,
    group: c.group,
    iterations: c.iterations,
    seed: c.seed,
    logIndex: c.logIndex,
    expiresAt: c.expiresAt,
    releaseAfter: c.releaseAfter ?? null,
    quorumTime,
    releasableInSeconds:
      status === 'live' && c.releaseAfter !== null
        ? secondsUntilReleasable(c.releaseAfter, quorumTime)
        : null,
    status,
    release: c.release ? { claimId: c.claimId, walletId: c.walletId, share: c.release } : null,
  };
}

/**
 * Clock-gated: whole seconds until the committed quorum time reaches a claim's `releaseAfter`
 * (rounded up, so a client that waits this long and submits again is not refused again for the
 * rounding); 0 once it has. The claim view and the CLOCK_NOT_REACHED refusal both say this.
 */
export function secondsUntilReleasable(releaseAfter: number, quorumTime: number): number {
  return Math.max(0, Math.ceil((releaseAfter - quorumTime) / 1000));
}

/** A live clock-gated claim's solution, sent `seconds` (≥ 1) before the delay has elapsed. */
export function clockNotReached(seconds: number): VaultError {
  return new VaultError(
    'CLOCK_NOT_REACHED',
    `the policy's delay has not elapsed on the cluster's quorum clock (${seconds} s to go)`,
    409,
    { retryAfterSeconds: seconds },
  );
}

/**
 * Remembers a consumed nonce until it expires, forgetting those already expired; false when
 * `max` unexpired nonces are already remembered (the caller refuses the command).
 */
export function consumeNonce(
  used: UsedNonce[],
  nonce: Uint8Array,
  expiresAt: number,
  now: number,
  max: number,
): UsedNonce[] | null {
  const kept = used.filter(([, exp]) => now < exp);
  if (kept.length >= max) return null;
  kept.push([nonce, expiresAt]);
  return kept;
}

export function nonceUsed(used: readonly UsedNonce[], nonce: Uint8Array): boolean {
  return used.some(([n]) => bytesEqual(n, nonce));
}

/** Opens a deposit's sealed x2. The caller zeroes the result as soon as it is done with it. */
export function openShare(
  clusterKey: X25519KeyPair,
  share: SealedShare,
  aad: Uint8Array,
): Uint8Array {
  return open({
    purpose: 'deposit',
    recipient: clusterKey,
    enc: share.enc,
    aad,
    ciphertext: share.ciphertext,
  });
}

/**
 * What a claim nonce is bound to: the wallet and the log position of its current deposit. A
 * nonce minted before a deletion and a new deposit under the same wallet id is thereby dead,
 * although the consumed-nonce set went away with the deleted wallet.
 */
export function claimNonceSubject(w: WalletRecord): Uint8Array {
  return concatBytes(w.walletId, u64(w.logIndex));
}
