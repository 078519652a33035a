import { canonical, canonicalHash, list, u32, u64, utf8 } from './canonical.ts';
import type { ClaimProof } from './pok.ts';
import type { Scheme } from './schemes.ts';

/**
 * The vault's messages as typed values, and the exact bytes each one is signed, hashed or
 * authenticated as (docs/protocol.md). The cluster id is never carried in a message: each side
 * puts its own into the bytes, so a message made for one cluster fails on any other.
 */
export const VDF_GROUPS = ['rsa2048', 'class1024'] as const;
export type VdfGroupName = (typeof VDF_GROUPS)[number];

/** Encoded VDF element sizes per group (docs/vdf.md). */
export const ELEMENT_BYTES: Record<VdfGroupName, number> = { rsa2048: 256, class1024: 100 };

/**
 * Policy kinds (DESIGN.md §4): `strict` sets T from the fastest attacker and needs nothing else;
 * `clock-gated` sets T from a typical honest solver and also needs `delaySeconds` elapsed on the
 * cluster's quorum clock since the claim committed (docs/cluster.md §Quorum clock).
 */
export const POLICY_KINDS = ['strict', 'clock-gated'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];
/** The range of a clock-gated policy's delay: one second to 366 days. */
export const MIN_POLICY_DELAY_SECONDS = 1;
export const MAX_POLICY_DELAY_SECONDS = 366 * 86_400;

export interface TenantLimits {
  /** Groups this tenant's wallets may use, sorted, no duplicates. */
  groups: VdfGroupName[];
  /** Policy kinds this tenant offers, sorted, no duplicates; absent means `['strict']`. */
  kinds?: PolicyKind[];
  minIterations: number;
  maxIterations: number;
  maxWallets: number;
  /** Live claims at once across all of the tenant's wallets. */
  maxClaims: number;
}

export interface TenantRegistration {
  tenant: string;
  tenantKey: Uint8Array;
  pingKey: Uint8Array;
  limits: TenantLimits;
  /** Operator's BIP-340 signature over tenantRegistrationBytes. */
  signature: Uint8Array;
}

export interface DepositPolicy {
  group: VdfGroupName;
  iterations: number;
  /** Absent means `strict` (the default and the conservative choice). */
  kind?: PolicyKind;
  /** `clock-gated` only: the wait on the quorum clock, in seconds. */
  delaySeconds?: number;
}

export function policyKind(p: DepositPolicy): PolicyKind {
  return p.kind ?? 'strict';
}

export function tenantKinds(l: TenantLimits): PolicyKind[] {
  return l.kinds ?? ['strict'];
}

/** A policy as signed and hashed: group, T, kind and delay (0 under `strict`). */
function policyFields(p: DepositPolicy): Uint8Array[] {
  return [utf8(p.group), u64(p.iterations), utf8(policyKind(p)), u64(p.delaySeconds ?? 0)];
}

export interface SealedShare {
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

export interface Deposit {
  tenant: string;
  /** Per-tenant sequence number, strictly increasing across deposits and deletions. */
  seq: number;
  walletId: Uint8Array;
  scheme: Scheme;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
  policy: DepositPolicy;
  /** x2 (32-byte big-endian) sealed to the cluster key with depositAad as associated data. */
  share: SealedShare;
  /**
   * ecdsa-2p-mult: the cosigner's 64-byte proof that Q2 = x2·G and Q = x2·Q1 (share-proof.ts).
   * Empty under the other schemes, whose Q the vault computes from Q1 and Q2.
   */
  shareProof: Uint8Array;
  signature: Uint8Array;
}

export interface Deletion {
  tenant: string;
  seq: number;
  walletId: Uint8Array;
  signature: Uint8Array;
}

export interface Ping {
  tenant: string;
  /** A vault-issued ping nonce, single use. */
  nonce: Uint8Array;
  /** BIP-340 signature by the tenant's ping key. */
  signature: Uint8Array;
}

export interface Claim {
  walletId: Uint8Array;
  /** The claimant's fresh X25519 public key; the release is sealed to it. */
  ephemeralKey: Uint8Array;
  /** A vault-issued claim nonce for this wallet, single use. */
  claimNonce: Uint8Array;
  proof: ClaimProof;
}

export interface Solution {
  claimId: Uint8Array;
  /** VDF output y and Wesolowski proof π, canonical group encodings. */
  y: Uint8Array;
  proof: Uint8Array;
}

export interface Release {
  claimId: Uint8Array;
  walletId: Uint8Array;
  /** x2 sealed to the claim's ephemeral key with releaseAad as associated data. */
  share: SealedShare;
}

export interface DepositReceipt {
  tenant: string;
  walletId: Uint8Array;
  scheme: Scheme;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
  policy: DepositPolicy;
  /** Log position at which the deposit was committed. */
  logIndex: number;
  /** SHA-256 over the sealed share the vault holds (shareDigest). */
  shareDigest: Uint8Array;
  /** BIP-340 signature by the cluster receipt key over depositReceiptBytes. */
  signature: Uint8Array;
}

export function tenantRegistrationBytes(
  clusterId: Uint8Array,
  r: Omit<TenantRegistration, 'signature'>,
): Uint8Array {
  return canonical('vigil/v1/tenant-registration', [
    clusterId,
    utf8(r.tenant),
    r.tenantKey,
    r.pingKey,
    list(r.limits.groups.map(utf8)),
    u64(r.limits.minIterations),
    u64(r.limits.maxIterations),
    u32(r.limits.maxWallets),
    u32(r.limits.maxClaims),
    list(tenantKinds(r.limits).map(utf8)),
  ]);
}

type DepositHeader = Pick<Deposit, 'tenant' | 'walletId' | 'scheme' | 'q' | 'q1' | 'q2' | 'policy'>;

/** Associated data of the sealed x2: binds the share to its wallet, keys and policy. */
export function depositAad(clusterId: Uint8Array, d: DepositHeader): Uint8Array {
  return canonical('vigil/v1/deposit/aad', [
    clusterId,
    utf8(d.tenant),
    d.walletId,
    utf8(d.scheme),
    d.q,
    d.q1,
    d.q2,
    ...policyFields(d.policy),
  ]);
}

export function depositBytes(clusterId: Uint8Array, d: Omit<Deposit, 'signature'>): Uint8Array {
  return canonical('vigil/v1/deposit', [
    clusterId,
    utf8(d.tenant),
    u64(d.seq),
    d.walletId,
    utf8(d.scheme),
    d.q,
    d.q1,
    d.q2,
    ...policyFields(d.policy),
    d.share.enc,
    d.share.ciphertext,
    d.shareProof,
  ]);
}

export function shareDigest(share: SealedShare): Uint8Array {
  return canonicalHash('vigil/v1/deposit/share', [share.enc, share.ciphertext]);
}

export function deletionBytes(clusterId: Uint8Array, d: Omit<Deletion, 'signature'>): Uint8Array {
  return canonical('vigil/v1/deletion', [clusterId, utf8(d.tenant), u64(d.seq), d.walletId]);
}

export function pingBytes(clusterId: Uint8Array, p: Omit<Ping, 'signature'>): Uint8Array {
  return canonical('vigil/v1/ping', [clusterId, utf8(p.tenant), p.nonce]);
}

/** The claim transcript a release is bound to (associated data of the sealed x2). */
export function releaseAad(args: {
  clusterId: Uint8Array;
  walletId: Uint8Array;
  claimId: Uint8Array;
  seed: Uint8Array;
  ephemeralKey: Uint8Array;
  q2: Uint8Array;
}): Uint8Array {
  return canonical('vigil/v1/release/aad', [
    args.clusterId,
    args.walletId,
    args.claimId,
    args.seed,
    args.ephemeralKey,
    args.q2,
  ]);
}

export function depositReceiptBytes(
  clusterId: Uint8Array,
  r: Omit<DepositReceipt, 'signature'>,
): Uint8Array {
  return canonical('vigil/v1/deposit-receipt', [
    clusterId,
    utf8(r.tenant),
    r.walletId,
    utf8(r.scheme),
    r.q,
    r.q1,
    r.q2,
    ...policyFields(r.policy),
    u64(r.logIndex),
    r.shareDigest,
  ]);
}
