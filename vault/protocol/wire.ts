import { VaultError } from '../errors.ts';
import { checkCompressedShape, checkPoint, checkXOnlyKey, decodeScalar } from './curve.ts';
import { parseHex, parseHexOneOf, toHex } from './hex.ts';
import { AEAD_TAG_BYTES, checkX25519PublicKey, X25519_KEY_BYTES } from './hpke.ts';
import {
  type Claim,
  type Deletion,
  type Deposit,
  type DepositPolicy,
  type DepositReceipt,
  ELEMENT_BYTES,
  MAX_POLICY_DELAY_SECONDS,
  MIN_POLICY_DELAY_SECONDS,
  type Ping,
  POLICY_KINDS,
  type PolicyKind,
  type Release,
  type SealedShare,
  type Solution,
  type TenantLimits,
  type TenantRegistration,
  VDF_GROUPS,
  type VdfGroupName,
} from './messages.ts';
import { isScheme } from './schemes.ts';
import { SHARE_PROOF_BYTES } from './share-proof.ts';

/**
 * Strict JSON wire parsers (docs/protocol.md "Wire shapes"). They run before any expensive work:
 * exact key sets, lowercase fixed-length hex, integers in range, points on the curve and not at
 * infinity, scalars in [1, n). Every failure is a 400 VaultError naming the field.
 */
export const WALLET_ID_BYTES = 32;
export const NONCE_BYTES = 32;
export const CLAIM_ID_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** x2 is a 32-byte scalar, so its sealed form is exactly 48 bytes. */
export const SEALED_SHARE_BYTES = 32 + AEAD_TAG_BYTES;
/** Wire-level ceiling on T; tenants' own caps are lower and enforced by the state machine. */
export const MAX_WIRE_ITERATIONS = 2 ** 48;
const TENANT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Json = Record<string, unknown>;

function object(
  field: string,
  value: unknown,
  keys: readonly string[],
  optional: readonly string[] = [],
): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VaultError('MALFORMED', `${field}: expected an object`);
  }
  const o = value as Json;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k) && !optional.includes(k))
      throw new VaultError('MALFORMED', `${field}: unknown field ${k}`);
  }
  for (const k of keys) {
    if (!(k in o)) throw new VaultError('MALFORMED', `${field}: missing field ${k}`);
  }
  return o;
}

function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new VaultError('OUT_OF_RANGE', `${field}: expected an integer in [${min}, ${max}]`);
  }
  return value;
}

export function parseTenantName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !TENANT_NAME.test(value)) {
    throw new VaultError(
      'MALFORMED',
      `${field}: expected 1-63 chars of [a-z0-9-], not starting with -`,
    );
  }
  return value;
}

function group(field: string, value: unknown): VdfGroupName {
  if (typeof value !== 'string' || !(VDF_GROUPS as readonly string[]).includes(value)) {
    throw new VaultError('MALFORMED', `${field}: expected one of ${VDF_GROUPS.join(', ')}`);
  }
  return value as VdfGroupName;
}

function kind(field: string, value: unknown): PolicyKind {
  if (typeof value !== 'string' || !(POLICY_KINDS as readonly string[]).includes(value)) {
    throw new VaultError(
      'POLICY_KIND_UNKNOWN',
      `${field}: expected one of ${POLICY_KINDS.join(', ')}`,
    );
  }
  return value as PolicyKind;
}

/** A sorted list of distinct values of a fixed set (tenant groups and kinds). */
function sortedSet<T extends string>(
  field: string,
  value: unknown,
  all: readonly T[],
  item: (field: string, value: unknown) => T,
): T[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > all.length) {
    throw new VaultError('MALFORMED', `${field}: expected a non-empty list`);
  }
  const out = value.map((v, i) => item(`${field}[${i}]`, v));
  for (let i = 1; i < out.length; i++) {
    if ((out[i - 1] as string) >= (out[i] as string)) {
      throw new VaultError('MALFORMED', `${field}: must be sorted without duplicates`);
    }
  }
  return out;
}

function point(field: string, value: unknown, onCurveChecked = false): Uint8Array {
  const bytes = parseHex(field, value, 33);
  if (!onCurveChecked) return checkPoint(field, bytes);
  checkCompressedShape(field, bytes);
  return bytes;
}

function xOnlyKey(field: string, value: unknown): Uint8Array {
  return checkXOnlyKey(field, parseHex(field, value, 32));
}

export function parseWalletId(field: string, value: unknown): Uint8Array {
  return parseHex(field, value, WALLET_ID_BYTES);
}

export function parseClaimId(field: string, value: unknown): Uint8Array {
  return parseHex(field, value, CLAIM_ID_BYTES);
}

function sealedShare(field: string, value: unknown): SealedShare {
  const o = object(field, value, ['enc', 'ciphertext']);
  return {
    enc: parseHex(`${field}.enc`, o.enc, X25519_KEY_BYTES),
    ciphertext: parseHex(`${field}.ciphertext`, o.ciphertext, SEALED_SHARE_BYTES),
  };
}

function limits(field: string, value: unknown): TenantLimits {
  const o = object(
    field,
    value,
    ['groups', 'minIterations', 'maxIterations', 'maxWallets', 'maxClaims'],
    ['kinds'],
  );
  const groups = sortedSet(`${field}.groups`, o.groups, VDF_GROUPS, group);
  const kinds =
    o.kinds === undefined ? [] : sortedSet(`${field}.kinds`, o.kinds, POLICY_KINDS, kind);
  const minIterations = integer(`${field}.minIterations`, o.minIterations, 1, MAX_WIRE_ITERATIONS);
  const maxIterations = integer(
    `${field}.maxIterations`,
    o.maxIterations,
    minIterations,
    MAX_WIRE_ITERATIONS,
  );
  return {
    groups,
    minIterations,
    maxIterations,
    maxWallets: integer(`${field}.maxWallets`, o.maxWallets, 1, 0xffffffff),
    maxClaims: integer(`${field}.maxClaims`, o.maxClaims, 1, 0xffffffff),
    // `['strict']` is the default: it is left out, so one set of limits has one shape
    ...(kinds.length > 0 && kinds.join() !== 'strict' ? { kinds } : {}),
  };
}

/** `kind` absent or `strict`: no delay, and the policy is read without a kind (one shape each). */
function policy(field: string, value: unknown): DepositPolicy {
  const o = object(field, value, ['group', 'iterations'], ['kind', 'delaySeconds']);
  const base = {
    group: group(`${field}.group`, o.group),
    iterations: integer(`${field}.iterations`, o.iterations, 1, MAX_WIRE_ITERATIONS),
  };
  const k = o.kind === undefined ? 'strict' : kind(`${field}.kind`, o.kind);
  if (k === 'strict') {
    if (o.delaySeconds !== undefined) {
      throw new VaultError('MALFORMED', `${field}.delaySeconds: only a clock-gated policy has one`);
    }
    return base;
  }
  if (o.delaySeconds === undefined) {
    throw new VaultError('MALFORMED', `${field}: missing field delaySeconds`);
  }
  const delaySeconds = integer(
    `${field}.delaySeconds`,
    o.delaySeconds,
    MIN_POLICY_DELAY_SECONDS,
    MAX_POLICY_DELAY_SECONDS,
  );
  return { ...base, kind: k, delaySeconds };
}

export function parseTenantRegistration(value: unknown): TenantRegistration {
  const o = object('registration', value, [
    'tenant',
    'tenantKey',
    'pingKey',
    'limits',
    'signature',
  ]);
  return {
    tenant: parseTenantName('tenant', o.tenant),
    tenantKey: xOnlyKey('tenantKey', o.tenantKey),
    pingKey: xOnlyKey('pingKey', o.pingKey),
    limits: limits('limits', o.limits),
    signature: parseHex('signature', o.signature, SIGNATURE_BYTES),
  };
}

/**
 * `pointsChecked`: the deposit's points were already found on the curve by whoever produced
 * these bytes (a log entry the leader prechecked), so only their shape is checked here.
 */
export function parseDeposit(value: unknown, pointsChecked = false): Deposit {
  const o = object(
    'deposit',
    value,
    ['tenant', 'seq', 'walletId', 'scheme', 'q', 'q1', 'q2', 'policy', 'share', 'signature'],
    ['shareProof'],
  );
  const scheme = o.scheme;
  if (!isScheme(scheme)) {
    throw new VaultError('MALFORMED', 'scheme: expected ecdsa-2p-mult, additive or musig2');
  }
  // the share proof is part of a multiplicative deposit and of no other
  const proved = scheme === 'ecdsa-2p-mult';
  if (proved !== 'shareProof' in o) {
    throw new VaultError(
      'MALFORMED',
      proved ? 'deposit: missing field shareProof' : `shareProof: not part of a ${scheme} deposit`,
    );
  }
  return {
    tenant: parseTenantName('tenant', o.tenant),
    seq: integer('seq', o.seq, 1, Number.MAX_SAFE_INTEGER),
    walletId: parseWalletId('walletId', o.walletId),
    scheme,
    q: point('q', o.q, pointsChecked),
    q1: point('q1', o.q1, pointsChecked),
    q2: point('q2', o.q2, pointsChecked),
    policy: policy('policy', o.policy),
    share: sealedShare('share', o.share),
    shareProof: proved ? parseHex('shareProof', o.shareProof, SHARE_PROOF_BYTES) : new Uint8Array(),
    signature: parseHex('signature', o.signature, SIGNATURE_BYTES),
  };
}

export function parseDeletion(value: unknown): Deletion {
  const o = object('deletion', value, ['tenant', 'seq', 'walletId', 'signature']);
  return {
    tenant: parseTenantName('tenant', o.tenant),
    seq: integer('seq', o.seq, 1, Number.MAX_SAFE_INTEGER),
    walletId: parseWalletId('walletId', o.walletId),
    signature: parseHex('signature', o.signature, SIGNATURE_BYTES),
  };
}

export function parsePing(value: unknown): Ping {
  const o = object('ping', value, ['tenant', 'nonce', 'signature']);
  return {
    tenant: parseTenantName('tenant', o.tenant),
    nonce: parseHex('nonce', o.nonce, NONCE_BYTES),
    signature: parseHex('signature', o.signature, SIGNATURE_BYTES),
  };
}

export function parseClaim(value: unknown): Claim {
  const o = object('claim', value, ['walletId', 'ephemeralKey', 'claimNonce', 'proof']);
  const p = object('proof', o.proof, ['r', 's']);
  const s = parseHex('proof.s', p.s, 32);
  decodeScalar('proof.s', s);
  const ephemeralKey = checkX25519PublicKey(
    'ephemeralKey',
    parseHex('ephemeralKey', o.ephemeralKey, X25519_KEY_BYTES),
  );
  return {
    walletId: parseWalletId('walletId', o.walletId),
    ephemeralKey,
    claimNonce: parseHex('claimNonce', o.claimNonce, NONCE_BYTES),
    proof: { r: point('proof.r', p.r), s },
  };
}

/** Chia's n-Wesolowski proofs append 141-byte segments after π (docs/vdf.md), at most 64. */
const CLASS1024_SEGMENT_BYTES = 141;
const MAX_PROOF_SEGMENTS = 64;

export function parseSolution(value: unknown): Solution {
  const o = object('solution', value, ['claimId', 'y', 'proof']);
  const y = parseHexOneOf('y', o.y, Object.values(ELEMENT_BYTES));
  const allowed =
    y.length === ELEMENT_BYTES.rsa2048
      ? [ELEMENT_BYTES.rsa2048]
      : Array.from(
          { length: MAX_PROOF_SEGMENTS + 1 },
          (_, d) => ELEMENT_BYTES.class1024 + d * CLASS1024_SEGMENT_BYTES,
        );
  const proof = parseHexOneOf('proof', o.proof, allowed);
  return { claimId: parseClaimId('claimId', o.claimId), y, proof };
}

export function parseRelease(value: unknown): Release {
  const o = object('release', value, ['claimId', 'walletId', 'share']);
  return {
    claimId: parseClaimId('claimId', o.claimId),
    walletId: parseWalletId('walletId', o.walletId),
    share: sealedShare('share', o.share),
  };
}

export function parseDepositReceipt(value: unknown): DepositReceipt {
  const o = object('receipt', value, [
    'tenant',
    'walletId',
    'scheme',
    'q',
    'q1',
    'q2',
    'policy',
    'logIndex',
    'shareDigest',
    'signature',
  ]);
  if (!isScheme(o.scheme)) throw new VaultError('MALFORMED', 'scheme: unknown');
  return {
    tenant: parseTenantName('tenant', o.tenant),
    walletId: parseWalletId('walletId', o.walletId),
    scheme: o.scheme,
    q: point('q', o.q),
    q1: point('q1', o.q1),
    q2: point('q2', o.q2),
    policy: policy('policy', o.policy),
    logIndex: integer('logIndex', o.logIndex, 1, Number.MAX_SAFE_INTEGER),
    shareDigest: parseHex('shareDigest', o.shareDigest, 32),
    signature: parseHex('signature', o.signature, SIGNATURE_BYTES),
  };
}

const sealedJson = (s: SealedShare) => ({ enc: toHex(s.enc), ciphertext: toHex(s.ciphertext) });

export function tenantRegistrationToJson(r: TenantRegistration) {
  return {
    tenant: r.tenant,
    tenantKey: toHex(r.tenantKey),
    pingKey: toHex(r.pingKey),
    limits: { ...r.limits, groups: [...r.limits.groups] },
    signature: toHex(r.signature),
  };
}

export function depositToJson(d: Deposit) {
  return {
    tenant: d.tenant,
    seq: d.seq,
    walletId: toHex(d.walletId),
    scheme: d.scheme,
    q: toHex(d.q),
    q1: toHex(d.q1),
    q2: toHex(d.q2),
    policy: { ...d.policy },
    share: sealedJson(d.share),
    ...(d.shareProof.length > 0 ? { shareProof: toHex(d.shareProof) } : {}),
    signature: toHex(d.signature),
  };
}

export function deletionToJson(d: Deletion) {
  return {
    tenant: d.tenant,
    seq: d.seq,
    walletId: toHex(d.walletId),
    signature: toHex(d.signature),
  };
}

export function pingToJson(p: Ping) {
  return { tenant: p.tenant, nonce: toHex(p.nonce), signature: toHex(p.signature) };
}

export function claimToJson(c: Claim) {
  return {
    walletId: toHex(c.walletId),
    ephemeralKey: toHex(c.ephemeralKey),
    claimNonce: toHex(c.claimNonce),
    proof: { r: toHex(c.proof.r), s: toHex(c.proof.s) },
  };
}

export function solutionToJson(s: Solution) {
  return { claimId: toHex(s.claimId), y: toHex(s.y), proof: toHex(s.proof) };
}

export function releaseToJson(r: Release) {
  return { claimId: toHex(r.claimId), walletId: toHex(r.walletId), share: sealedJson(r.share) };
}

export function depositReceiptToJson(r: DepositReceipt) {
  return {
    tenant: r.tenant,
    walletId: toHex(r.walletId),
    scheme: r.scheme,
    q: toHex(r.q),
    q1: toHex(r.q1),
    q2: toHex(r.q2),
    policy: { ...r.policy },
    logIndex: r.logIndex,
    shareDigest: toHex(r.shareDigest),
    signature: toHex(r.signature),
  };
}
