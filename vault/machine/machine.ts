import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import {
  bytesEqual,
  type DepositReceipt,
  shareDigest,
  toHex,
  utf8,
  x25519PublicKey,
} from '../protocol/index.ts';
import { claim } from './claims.ts';
import { deleteWallet, deposit } from './deposits.ts';
import { beginEpoch } from './epochs.ts';
import { mintNonce, type NonceKind } from './nonces.ts';
import { ping } from './pings.ts';
import {
  claimNonceSubject,
  claimView,
  liveClaimOf,
  requireEpoch,
  type Step,
  tenantOf,
  unreleasedWalletOf,
} from './records.ts';
import { solve } from './releases.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { registerTenant } from './tenants.ts';
import type {
  ApplyContext,
  ClaimView,
  Command,
  CommandResult,
  Effect,
  IssuedNonce,
  MachineConfig,
  NonceContext,
  VaultState,
  WalletView,
} from './types.ts';
import { type VdfVerify, verifyVdf } from './vdf.ts';

export type ApplyOutcome =
  | { ok: true; result: CommandResult; effects: Effect[] }
  | { ok: false; error: VaultError; effects: [] };

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
 * The vault's deterministic state machine (docs/protocol.md §7). `apply` is a function of
 * (state, command, context): no clock, randomness or I/O inside. Every handler first checks
 * everything that can fail, then mutates; so a rejected command leaves the state byte-for-byte
 * unchanged, and the same command sequence gives the same state on every replica.
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
    checkConfig(config);
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
    const s = this.#state;
    if (!Number.isSafeInteger(ctx.logIndex) || ctx.logIndex <= s.lastIndex) {
      throw new MachineMisuse(`log index ${ctx.logIndex} is not after ${s.lastIndex}`);
    }
    const step: Step = {
      s,
      ctx,
      now: Math.max(s.clock, ctx.timestamp),
      effects: [],
      keys: {
        clusterSecret: () => this.#clusterSecret(ctx),
        receiptSecret: () => this.#receiptSecret(ctx),
      },
      verifyVdf: this.#verifyVdf,
    };
    try {
      const result = dispatch(step, command);
      s.lastIndex = ctx.logIndex;
      s.clock = step.now;
      return { ok: true, result, effects: step.effects };
    } catch (e) {
      if (e instanceof VaultError) return { ok: false, error: e, effects: [] };
      if (e instanceof MachineMisuse) throw e;
      // Anything else is a bug met on this input. Handlers mutate only after their last check,
      // so the state is untouched; rejecting (the same way on every replica) keeps the cluster
      // alive, where a throw would stop every replica on this committed entry, forever.
      const error = new VaultError('INTERNAL', 'internal error while applying the command', 500);
      return { ok: false, error, effects: [] };
    }
  }

  // ── nonces: minted without a log entry (nonces.ts), read-only ───────────

  mintPingNonce(tenant: string, nc: NonceContext): IssuedNonce {
    tenantOf(this.#state, tenant);
    return this.#mint('ping', utf8(tenant), nc, this.#state.config.pingNonceTtlMs);
  }

  mintClaimNonce(walletId: Uint8Array, nc: NonceContext): IssuedNonce {
    const w = unreleasedWalletOf(this.#state, walletId);
    requireEpoch(this.#state, nc.epochId);
    return this.#mint('claim', claimNonceSubject(w), nc, this.#state.config.claimNonceTtlMs);
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

  // ── keys: the context's secrets must match the configured public keys ────

  #clusterSecret(ctx: ApplyContext): Uint8Array {
    const k = ctx.keys.clusterSecretKey;
    if (!this.#checkedKeys.has(k)) {
      if (!bytesEqual(x25519PublicKey(k), this.#state.config.clusterEncryptionKey)) {
        throw new MachineMisuse('context cluster key does not match the configured cluster key');
      }
      this.#checkedKeys.add(k);
    }
    return k;
  }

  #receiptSecret(ctx: ApplyContext): Uint8Array {
    const k = ctx.keys.receiptSecretKey;
    if (!this.#checkedKeys.has(k)) {
      if (!bytesEqual(schnorr.getPublicKey(k), this.#state.config.receiptKey)) {
        throw new MachineMisuse('context receipt key does not match the configured receipt key');
      }
      this.#checkedKeys.add(k);
    }
    return k;
  }

  // ── read-only queries (served from a replica's applied state) ────────────

  wallet(walletId: Uint8Array): WalletView | null {
    const w = this.#state.wallets.get(toHex(walletId));
    if (!w) return null;
    const live = liveClaimOf(this.#state, w);
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
    default:
      throw new VaultError('MALFORMED', 'unknown command type');
  }
}
