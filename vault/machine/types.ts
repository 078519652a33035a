import type {
  Claim,
  Deletion,
  Deposit,
  DepositPolicy,
  DepositReceipt,
  Ping,
  Release,
  Scheme,
  SealedShare,
  Solution,
  TenantLimits,
  TenantRegistration,
  VdfGroupName,
} from '../protocol/index.ts';

/** A freshly minted nonce (not a command: minting keeps no state). */
export interface IssuedNonce {
  nonce: Uint8Array;
  expiresAt: number;
}

/** What minting a nonce needs: the volatile epoch, the node's clock and fresh randomness. */
export interface NonceContext {
  epochId: Uint8Array;
  epochSecret: Uint8Array;
  timestamp: number;
  random: Uint8Array;
}

/** Fixed at cluster creation; part of the state so every replica and snapshot agrees on it. */
export interface MachineConfig {
  clusterId: Uint8Array;
  /** Operator's BIP-340 x-only key: signs tenant registrations. */
  operatorKey: Uint8Array;
  /** The cluster's X25519 public key deposits are sealed to. */
  clusterEncryptionKey: Uint8Array;
  /** The cluster's BIP-340 x-only key that signs deposit receipts. */
  receiptKey: Uint8Array;
  pingNonceTtlMs: number;
  claimNonceTtlMs: number;
  /** Minimum time between two claim starts on one wallet (the rate bound). */
  claimIntervalMs: number;
  maxTenants: number;
}

/**
 * Everything a command may depend on besides the state, chosen by the proposer and committed
 * with the command so every replica computes the same result.
 */
export interface ApplyContext {
  /** The command's log position; strictly increasing across applied commands. */
  logIndex: number;
  /** The proposer's clock, ms since the Unix epoch. */
  timestamp: number;
  /** The volatile epoch: never written to disk, new after a whole-cluster restart (P4). */
  epochId: Uint8Array;
  epochSecret: Uint8Array;
  keys: { clusterSecretKey: Uint8Array };
  /** At least 32 random bytes chosen by the proposer. */
  random: Uint8Array;
  /** The proposer already ran the command's stateless checks (`verifyDeposit`). */
  prechecked?: boolean;
}

export type Command =
  | { type: 'registerTenant'; registration: TenantRegistration }
  | { type: 'deposit'; deposit: Deposit }
  | { type: 'delete'; deletion: Deletion }
  | { type: 'ping'; ping: Ping }
  | { type: 'claim'; claim: Claim }
  | { type: 'solve'; solution: Solution }
  | { type: 'beginEpoch' }
  /** A reading of the quorum clock (docs/cluster.md §Quorum clock), ms since the epoch began. */
  | { type: 'time'; quorumTime: number };

export type ClaimStatus = 'live' | 'cancelled' | 'voided' | 'expired' | 'released';

export interface ClaimView {
  claimId: Uint8Array;
  walletId: Uint8Array;
  ephemeralKey: Uint8Array;
  group: VdfGroupName;
  iterations: number;
  /** The VDF challenge seed: public once the claim is committed. */
  seed: Uint8Array;
  logIndex: number;
  /** Machine time (ms) after which the claim is expired (claims.ts `claimLifetimeMs`). */
  expiresAt: number;
  /** Clock-gated: the quorum time a release needs (ms of the claim's epoch); null if strict. */
  releaseAfter: number | null;
  /** The epoch's committed quorum time as of this answer. */
  quorumTime: number;
  /**
   * Clock-gated and live: whole seconds until the quorum time reaches `releaseAfter` (0 once it
   * has: a valid solution releases now); null under a strict policy or once the claim is not live.
   */
  releasableInSeconds: number | null;
  status: ClaimStatus;
  release: Release | null;
}

export interface WalletView {
  walletId: Uint8Array;
  tenant: string;
  scheme: Scheme;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
  policy: DepositPolicy;
  logIndex: number;
  released: boolean;
  liveClaim: ClaimView | null;
}

/**
 * A deposit receipt as the machine keeps it: everything but the signature, and the BIP-340
 * auxiliary randomness that makes every replica's signature the same (receipts.ts).
 */
export type UnsignedReceipt = Omit<DepositReceipt, 'signature'> & { aux: Uint8Array };

/** What a node answers a client: a machine result, with a deposit's receipt signed. */
export type Answer =
  | Exclude<CommandResult, { type: 'deposited' }>
  | { type: 'deposited'; receipt: DepositReceipt };

export type CommandResult =
  | { type: 'tenantRegistered'; tenant: string }
  | { type: 'deposited'; receipt: UnsignedReceipt }
  | { type: 'deleted'; walletId: Uint8Array }
  | {
      type: 'pinged';
      tenant: string;
      logIndex: number;
      /** The most recent of the claims this ping ended (at most 32 ids). */
      cancelledClaims: Uint8Array[];
      /** How many live claims this ping ended. */
      cancelledCount: number;
    }
  | { type: 'claim'; claim: ClaimView; existing: boolean }
  | { type: 'released'; release: Release }
  | { type: 'epochStarted'; voidedClaims: number }
  | { type: 'time'; quorumTime: number };

/** What happened, for audit logs, metrics and notifications. Never carries a secret. */
export type Effect =
  | { type: 'tenantRegistered'; tenant: string }
  | { type: 'deposited'; tenant: string; walletId: Uint8Array }
  | { type: 'deleted'; tenant: string; walletId: Uint8Array }
  | { type: 'pinged'; tenant: string }
  | { type: 'claimStarted'; tenant: string; walletId: Uint8Array; claimId: Uint8Array }
  | {
      type: 'claimEnded';
      tenant: string;
      walletId: Uint8Array;
      claimId: Uint8Array;
      reason: 'ping' | 'epoch' | 'deletion';
    }
  | { type: 'released'; tenant: string; walletId: Uint8Array; claimId: Uint8Array }
  | { type: 'epochStarted' };

/** A consumed nonce, remembered until it expires (single use). */
export type UsedNonce = [nonce: Uint8Array, expiresAt: number];

/**
 * The claims a tenant's next ping cancels: those started in `epochId` after the ping at
 * `sincePing`. When the epoch or the tenant's last ping moved on, they are all over (count 0):
 * so a ping or a new epoch ends every live claim by writing one record, not one per claim.
 */
export interface OpenClaims {
  epochId: Uint8Array | null;
  sincePing: number;
  count: number;
  /** The most recent of them (at most RECENT_CLAIMS ids), reported by the ping that ends them. */
  recent: Uint8Array[];
}

export interface TenantRecord {
  name: string;
  tenantKey: Uint8Array;
  pingKey: Uint8Array;
  limits: TenantLimits;
  lastSeq: number;
  /** Log index of the last applied ping; 0 if none. */
  lastPingIndex: number;
  /** The epoch that last ping was applied in. */
  lastPingEpoch: Uint8Array | null;
  /** Machine time (ms) of the last applied ping; 0 if none. */
  lastPingAt: number;
  /** The last ping applied in an epoch before `lastPingEpoch`; 0 if none. */
  earlierEpochPingIndex: number;
  walletCount: number;
  open: OpenClaims;
  /**
   * Ping nonces consumed so far: the next one goes to slot `pingNoncesUsed mod
   * MAX_USED_PING_NONCES` of the tenant's ring (records of their own, so the tenant record,
   * which every deposit rewrites, stays small).
   */
  pingNoncesUsed: number;
}

/** A slot of a tenant's ring of consumed ping nonces. */
export interface PingNonceSlot {
  nonce: Uint8Array;
  expiresAt: number;
}

export interface WalletRecord {
  walletId: Uint8Array;
  tenant: string;
  scheme: Scheme;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
  policy: DepositPolicy;
  /** x2 only as sealed to the cluster key (P1). */
  share: SealedShare;
  logIndex: number;
  /** BIP-340 aux randomness of the wallet's receipt (signed where it is answered). */
  receiptAux: Uint8Array;
  released: boolean;
  /** The wallet's latest claim (live or finished), if any. */
  claimId: Uint8Array | null;
  lastClaimAt: number | null;
  usedClaimNonces: UsedNonce[];
}

/**
 * A claim as stored. Whether a `live` record is still live is decided where it is read
 * (`claimStatus`): a later ping of its tenant cancelled it, a new epoch voided it (P2, P4).
 */
export interface ClaimRecord {
  claimId: Uint8Array;
  walletId: Uint8Array;
  tenant: string;
  ephemeralKey: Uint8Array;
  group: VdfGroupName;
  iterations: number;
  seed: Uint8Array;
  logIndex: number;
  epochId: Uint8Array;
  /** Machine time (ms) after which an unsolved claim is expired. */
  expiresAt: number;
  /**
   * Clock-gated: the quorum time a release needs, the epoch's committed quorum time when the
   * claim committed plus the policy's delay; null under a strict policy.
   */
  releaseAfter: number | null;
  status: 'live' | 'released';
  release: SealedShare | null;
}

/** Written by every command: the log position and machine time it reached. */
export interface ClockRecord {
  lastIndex: number;
  clock: number;
}

/** The epoch claims are valid in (null until the first beginEpoch), and where it began. */
export interface EpochRecord {
  epochId: Uint8Array | null;
  startIndex: number;
  /**
   * The epoch's committed quorum time, ms since it began: a reading a majority of the nodes'
   * clocks reached (absent: 0). Volatile like the epoch: a new epoch starts it at 0.
   */
  quorumTime?: number;
}
