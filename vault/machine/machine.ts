import { VaultError } from '../errors.ts';
import {
  bytesEqual,
  shareDigest,
  utf8,
  type X25519KeyPair,
  x25519KeyPair,
} from '../protocol/index.ts';
import { claim } from './claims.ts';
import { deleteWallet, deposit } from './deposits.ts';
import { advanceQuorumTime, beginEpoch } from './epochs.ts';
import { mintNonce, type NonceKind } from './nonces.ts';
import { ping } from './pings.ts';
import { ReceiptSigner } from './receipts.ts';
import {
  claimNonceSubject,
  claimView,
  liveClaimOf,
  requireEpoch,
  type Step,
  tenantOf,
  unreleasedWalletOf,
  View,
} from './records.ts';
import { solve } from './releases.ts';
import { keys, MemoryRecords, type RecordStore, type RecordWrite, StoreFailure } from './store.ts';
import { registerTenant } from './tenants.ts';
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
  UnsignedReceipt,
  WalletRecord,
  WalletView,
} from './types.ts';
import { type VdfVerify, verifyVdf } from './vdf.ts';

export type ApplyOutcome =
  | { ok: true; result: CommandResult; effects: Effect[]; writes: RecordWrite[] }
  | { ok: false; error: VaultError; effects: []; writes: [] };

/** A shell bug (wrong keys in the context, a non-increasing log index): stop, do not answer. */
export class MachineMisuse extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineMisuse';
  }
}

export interface MachineOptions {
  verifyVdf: VdfVerify;
}

/**
 * The vault's deterministic state machine (docs/protocol.md §7) over keyed records. `apply` is a
 * function of (the records it reads, command, context): no clock, randomness or I/O inside. It
 * reads what the command needs, and only an accepted command's writes reach the store, in one
 * call: a rejected command changes nothing, and the same command sequence gives the same
 * records on every replica. What a command costs does not depend on how many wallets there are.
 */
export class VaultMachine {
  readonly #store: RecordStore;
  readonly #verifyVdf: VdfVerify;
  /** The context's secret keys, prepared once and checked against the configured public keys. */
  readonly #clusterKeys = new WeakMap<Uint8Array, X25519KeyPair>();

  constructor(store: RecordStore, options: MachineOptions = { verifyVdf }) {
    this.#store = store;
    this.#verifyVdf = options.verifyVdf;
  }

  /** A new vault's first records, written to `store`. */
  static create(
    config: MachineConfig,
    options: MachineOptions = { verifyVdf },
    store: RecordStore = new MemoryRecords(),
  ): VaultMachine {
    checkConfig(config);
    const view = new View(store);
    if (view.read(keys.config) !== null) throw new Error('the store already holds a vault');
    view.put(keys.config, { ...config });
    store.write(view.writes());
    return new VaultMachine(store, options);
  }

  /** Tests and tools: a machine over a copy of `MemoryRecords.snapshot()` bytes. */
  static restore(snapshot: Uint8Array, options: MachineOptions = { verifyVdf }): VaultMachine {
    return new VaultMachine(MemoryRecords.restore(snapshot), options);
  }

  get store(): RecordStore {
    return this.#store;
  }

  get lastIndex(): number {
    return new View(this.#store).clock().lastIndex;
  }

  get epochId(): Uint8Array | null {
    return new View(this.#store).epoch().epochId;
  }

  /** The current epoch's committed quorum time (ms; 0 before its first reading). */
  get quorumTime(): number {
    return new View(this.#store).epoch().quorumTime ?? 0;
  }

  apply(command: Command, ctx: ApplyContext): ApplyOutcome {
    const view = new View(this.#store);
    const clock = view.clock();
    if (!Number.isSafeInteger(ctx.logIndex) || ctx.logIndex <= clock.lastIndex) {
      throw new MachineMisuse(`log index ${ctx.logIndex} is not after ${clock.lastIndex}`);
    }
    try {
      const step: Step = {
        view,
        config: view.config(),
        epoch: view.epoch(),
        ctx,
        now: Math.max(clock.clock, ctx.timestamp),
        effects: [],
        keys: {
          clusterKey: () => this.#clusterKey(step.config, ctx),
        },
        verifyVdf: this.#verifyVdf,
      };
      const result = dispatch(step, command);
      view.put(keys.clock, { lastIndex: ctx.logIndex, clock: step.now });
      const writes = view.writes();
      this.#store.write(writes);
      return { ok: true, result, effects: step.effects, writes };
    } catch (e) {
      // A record this replica cannot read stops it here (the others read theirs).
      if (e instanceof MachineMisuse || e instanceof StoreFailure) throw e;
      if (e instanceof VaultError) return { ok: false, error: e, effects: [], writes: [] };
      // Anything else is a bug met on this input. Nothing was written, so the records are
      // untouched; rejecting (the same way on every replica) keeps the cluster alive, where a
      // throw would stop every replica on this committed entry, forever.
      const error = new VaultError('INTERNAL', 'internal error while applying the command', 500);
      return { ok: false, error, effects: [], writes: [] };
    }
  }

  // ── nonces: minted without a log entry (nonces.ts), read-only ───────────

  mintPingNonce(tenant: string, nc: NonceContext): IssuedNonce {
    const view = new View(this.#store);
    tenantOf(view, tenant);
    return this.#mint(view, 'ping', utf8(tenant), nc, view.config().pingNonceTtlMs);
  }

  mintClaimNonce(walletId: Uint8Array, nc: NonceContext): IssuedNonce {
    const view = new View(this.#store);
    const w = unreleasedWalletOf(view, walletId);
    requireEpoch(view.epoch(), nc.epochId);
    return this.#mint(view, 'claim', claimNonceSubject(w), nc, view.config().claimNonceTtlMs);
  }

  #mint(
    view: View,
    kind: NonceKind,
    subject: Uint8Array,
    nc: NonceContext,
    ttlMs: number,
  ): IssuedNonce {
    const issuedAt = Math.max(view.clock().clock, nc.timestamp);
    const nonce = mintNonce({
      kind,
      subject,
      epochSecret: nc.epochSecret,
      issuedAt,
      random: nc.random,
    });
    return { nonce, expiresAt: issuedAt + ttlMs };
  }

  // ── keys: the context's secrets must match the configured public keys ────

  #clusterKey(config: MachineConfig, ctx: ApplyContext): X25519KeyPair {
    const k = ctx.keys.clusterSecretKey;
    let pair = this.#clusterKeys.get(k);
    if (pair === undefined) {
      pair = x25519KeyPair(k);
      if (!bytesEqual(pair.publicKey, config.clusterEncryptionKey)) {
        throw new MachineMisuse('context cluster key does not match the configured cluster key');
      }
      this.#clusterKeys.set(k, pair);
    }
    return pair;
  }

  // ── read-only queries (served from a replica's applied records) ──────────

  wallet(walletId: Uint8Array): WalletView | null {
    const view = new View(this.#store);
    const w = view.read<WalletRecord>(keys.wallet(walletId));
    if (!w) return null;
    const epoch = view.epoch();
    // reads see the claim as of the last applied command's machine time
    const now = view.clock().clock;
    const live = liveClaimOf(view, epoch, w, now);
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
      liveClaim: live ? claimView(epoch, tenantOf(view, live.tenant), live, now) : null,
    };
  }

  /** Signs this vault's receipts with `secretKey`, refused unless it is the configured one. */
  receiptSigner(secretKey: Uint8Array): ReceiptSigner {
    return new ReceiptSigner(new View(this.#store).config(), secretKey);
  }

  /** A wallet's receipt, unsigned: a `ReceiptSigner` signs it where it is answered. */
  receipt(walletId: Uint8Array): UnsignedReceipt | null {
    const w = new View(this.#store).read<WalletRecord>(keys.wallet(walletId));
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
      aux: w.receiptAux,
    };
  }

  claim(claimId: Uint8Array): ClaimView | null {
    const view = new View(this.#store);
    const c = view.read<ClaimRecord>(keys.claim(claimId));
    return c ? claimView(view.epoch(), tenantOf(view, c.tenant), c, view.clock().clock) : null;
  }

  /** A registered tenant's deposit-signing key (it never changes once registered). */
  tenantKey(name: string): Uint8Array | null {
    return new View(this.#store).read<TenantRecord>(keys.tenant(name))?.tenantKey ?? null;
  }

  tenantNames(): string[] {
    return new View(this.#store).tenantNames();
  }
}

function checkConfig(c: MachineConfig): void {
  const bytes = (name: string, v: Uint8Array, n: number) => {
    if (!(v instanceof Uint8Array) || v.length !== n) throw new Error(`config.${name}: ${n} bytes`);
  };
  bytes('clusterId', c.clusterId, 32);
  bytes('operatorKey', c.operatorKey, 32);
  bytes('clusterEncryptionKey', c.clusterEncryptionKey, 32);
  bytes('receiptKey', c.receiptKey, 32);
  for (const k of ['pingNonceTtlMs', 'claimNonceTtlMs', 'claimIntervalMs', 'maxTenants'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < (k === 'claimIntervalMs' ? 0 : 1)) {
      throw new Error(`config.${k}: a positive integer`);
    }
  }
}

function dispatch(step: Step, command: Command): CommandResult {
  switch (command.type) {
    case 'registerTenant':
      return registerTenant(step, command.registration);
    case 'deposit':
      return deposit(step, command.deposit);
    case 'delete':
      return deleteWallet(step, command.deletion);
    case 'ping':
      return ping(step, command.ping);
    case 'claim':
      return claim(step, command.claim);
    case 'solve':
      return solve(step, command.solution);
    case 'beginEpoch':
      return beginEpoch(step);
    case 'time':
      return advanceQuorumTime(step, command.quorumTime);
    default:
      throw new VaultError('MALFORMED', 'unknown command type');
  }
}
