/**
 * The wallet file: everything the user needs on the day the provider is gone, encrypted at rest
 * with the password (envelope.ts). Contents are validated on load: points on the curve, x1 in
 * range and x1·G == Q1, the receipt well-formed.
 */
import {
  bytesEqual,
  type DepositPolicy,
  type DepositReceipt,
  decodePoint,
  decodeScalar,
  depositReceiptToJson,
  encodePoint,
  isScheme,
  Point,
  parseDepositReceipt,
  parseHex,
  type Scheme,
  toHex,
  VDF_GROUPS,
} from '../vault/portable.ts';
import { openEnvelope, type ScryptParams, sealEnvelope } from './envelope.ts';
import { ClientError } from './errors.ts';
import type { RandomBytes } from './random.ts';

export interface ClusterKeys {
  clusterId: Uint8Array;
  /** X25519 key deposits are sealed to. */
  clusterEncryptionKey: Uint8Array;
  /** BIP-340 key that signs deposit receipts. */
  receiptKey: Uint8Array;
}

/** Which attestation documents the client trusts for this wallet's vault. */
export type AttestationTrust =
  /** INSECURE: documents signed by these local dev keys (Ed25519, 32 bytes each). */
  | { kind: 'insecure-dev'; devKeys: Uint8Array[] }
  /** AWS Nitro, with the expected enclave image measurements (PCR index → 48 bytes). */
  | { kind: 'aws-nitro'; pcrs: Record<number, Uint8Array> };

export interface Wallet {
  walletId: Uint8Array;
  scheme: Scheme;
  /** The client's secret share, 32 bytes big-endian. */
  x1: Uint8Array;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
  policy: DepositPolicy;
  vaultUrls: string[];
  cluster: ClusterKeys;
  attestation: AttestationTrust;
  receipt: DepositReceipt;
  /** The wallet provider's cosigner, for signing; null for a wallet known only to the vault. */
  cosigner: CosignerLink | null;
}

/** What signing with the cosigner needs besides x1. */
export interface CosignerLink {
  url: string;
  /** The cosigner's own id for this wallet. */
  walletId: string;
  /** The client's secret BIP-340 key that authenticates its requests to the cosigner. */
  authKey: Uint8Array;
  kind: 'ecdsa-2p' | 'musig2';
  /** ECDSA only: the two-party share's public parts (Paillier modulus, encrypted server share). */
  ecdsa: EcdsaShareData | null;
}

export interface EcdsaShareData {
  chainCode: Uint8Array;
  paillierN: bigint;
  ckey: bigint;
  /** The client's ring-Pedersen secret (for key refresh), when kept. */
  ringPedersen: { nHat: bigint; s: bigint; t: bigint; phi: bigint; lambda: bigint } | null;
}

const RING_PEDERSEN_FIELDS = ['nHat', 's', 't', 'phi', 'lambda'] as const;

const FIELDS = [
  'walletId',
  'scheme',
  'x1',
  'q',
  'q1',
  'q2',
  'policy',
  'vaultUrls',
  'cluster',
  'attestation',
  'receipt',
  'cosigner',
] as const;

function bigHex(v: bigint): string {
  const h = v.toString(16);
  return h.length % 2 ? `0${h}` : h;
}

function cosignerToJson(c: CosignerLink | null) {
  if (!c) return null;
  const rp = c.ecdsa?.ringPedersen ?? null;
  return {
    url: c.url,
    walletId: c.walletId,
    authKey: toHex(c.authKey),
    kind: c.kind,
    ecdsa: c.ecdsa
      ? {
          chainCode: toHex(c.ecdsa.chainCode),
          paillierN: bigHex(c.ecdsa.paillierN),
          ckey: bigHex(c.ecdsa.ckey),
          ringPedersen: rp
            ? Object.fromEntries(RING_PEDERSEN_FIELDS.map((k) => [k, bigHex(rp[k])]))
            : null,
        }
      : null,
  };
}

const MAX_BIG_HEX = 2048;

function cosignerFromJson(v: unknown): CosignerLink | null {
  if (v === null) return null;
  const o = fields(v, 'cosigner', ['url', 'walletId', 'authKey', 'kind', 'ecdsa']);
  if (o.kind !== 'ecdsa-2p' && o.kind !== 'musig2') throw bad('cosigner.kind');
  if (typeof o.walletId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(o.walletId)) {
    throw bad('cosigner.walletId');
  }
  let ecdsa: CosignerLink['ecdsa'] = null;
  if (o.ecdsa !== null) {
    const e = fields(o.ecdsa, 'cosigner.ecdsa', ['chainCode', 'paillierN', 'ckey', 'ringPedersen']);
    const big = (x: unknown, what: string) => {
      if (typeof x !== 'string' || !/^[0-9a-f]+$/.test(x) || x.length > MAX_BIG_HEX)
        throw bad(what);
      return BigInt(`0x${x}`);
    };
    ecdsa = {
      chainCode: hex(e.chainCode, 'chainCode', 32),
      paillierN: big(e.paillierN, 'paillierN'),
      ckey: big(e.ckey, 'ckey'),
      ringPedersen: null,
    };
    if (e.ringPedersen !== null) {
      const r = fields(e.ringPedersen, 'ringPedersen', RING_PEDERSEN_FIELDS);
      const [nHat, rs, t, phi, lambda] = RING_PEDERSEN_FIELDS.map((k) =>
        big(r[k], `ringPedersen.${k}`),
      );
      ecdsa.ringPedersen = {
        nHat: nHat as bigint,
        s: rs as bigint,
        t: t as bigint,
        phi: phi as bigint,
        lambda: lambda as bigint,
      };
    }
  }
  if (o.kind === 'ecdsa-2p' && !ecdsa) throw bad('an ECDSA cosigner link needs its share data');
  return {
    url: url(o.url, 'cosigner.url'),
    walletId: o.walletId,
    authKey: hex(o.authKey, 'cosigner.authKey', 32),
    kind: o.kind,
    ecdsa,
  };
}

export function walletToJson(w: Wallet): Record<string, unknown> {
  return {
    walletId: toHex(w.walletId),
    scheme: w.scheme,
    x1: toHex(w.x1),
    q: toHex(w.q),
    q1: toHex(w.q1),
    q2: toHex(w.q2),
    // one shape per policy, as on the wire: strict carries no kind
    policy:
      w.policy.kind === 'clock-gated'
        ? { ...w.policy }
        : { group: w.policy.group, iterations: w.policy.iterations },
    vaultUrls: [...w.vaultUrls],
    cluster: {
      clusterId: toHex(w.cluster.clusterId),
      clusterEncryptionKey: toHex(w.cluster.clusterEncryptionKey),
      receiptKey: toHex(w.cluster.receiptKey),
    },
    attestation:
      w.attestation.kind === 'insecure-dev'
        ? { kind: 'insecure-dev', devKeys: w.attestation.devKeys.map(toHex) }
        : {
            kind: 'aws-nitro',
            pcrs: Object.fromEntries(
              Object.entries(w.attestation.pcrs).map(([i, v]) => [i, toHex(v)]),
            ),
          },
    receipt: depositReceiptToJson(w.receipt),
    cosigner: cosignerToJson(w.cosigner),
  };
}

function bad(why: string): ClientError {
  return new ClientError('WALLET_CORRUPT', `wallet contents: ${why}`);
}

function fields(v: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(`${what} is not an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${what}: unknown field ${k}`);
  for (const k of keys) if (!(k in o)) throw bad(`${what}: missing field ${k}`);
  return o;
}

function hex(v: unknown, what: string, bytes: number): Uint8Array {
  try {
    return parseHex(what, v, bytes);
  } catch {
    throw bad(`${what} is not ${bytes} bytes of lowercase hex`);
  }
}

function point(v: unknown, what: string): Uint8Array {
  const b = hex(v, what, 33);
  try {
    decodePoint(what, b);
  } catch {
    throw bad(`${what} is not a secp256k1 point`);
  }
  return b;
}

function url(v: unknown, what: string): string {
  if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v) || v.length > 2048) {
    throw bad(`${what} is not an http(s) URL`);
  }
  return v.replace(/\/+$/, '');
}

export function walletFromJson(v: unknown): Wallet {
  const o = fields(v, 'wallet', FIELDS);
  if (!isScheme(o.scheme)) throw bad('unknown scheme');
  const x1 = hex(o.x1, 'x1', 32);
  let x1Scalar: bigint;
  try {
    x1Scalar = decodeScalar('x1', x1);
  } catch {
    throw bad('x1 is not a scalar in [1, n)');
  }
  const q1 = point(o.q1, 'q1');
  if (!bytesEqual(encodePoint(Point.BASE.multiply(x1Scalar)), q1)) throw bad('x1·G is not Q1');
  const gated = (o.policy as { kind?: unknown } | null)?.kind === 'clock-gated';
  const policy = fields(
    o.policy,
    'policy',
    gated ? ['group', 'iterations', 'kind', 'delaySeconds'] : ['group', 'iterations'],
  );
  if (gated && (!Number.isSafeInteger(policy.delaySeconds) || (policy.delaySeconds as number) < 1))
    throw bad('policy.delaySeconds is not a positive integer');
  if (!(VDF_GROUPS as readonly unknown[]).includes(policy.group)) throw bad('unknown VDF group');
  if (!Number.isSafeInteger(policy.iterations) || (policy.iterations as number) < 1) {
    throw bad('policy.iterations is not a positive integer');
  }
  if (!Array.isArray(o.vaultUrls) || o.vaultUrls.length === 0 || o.vaultUrls.length > 64) {
    throw bad('vaultUrls must list 1..64 URLs');
  }
  const cluster = fields(o.cluster, 'cluster', ['clusterId', 'clusterEncryptionKey', 'receiptKey']);
  const att = o.attestation as Record<string, unknown>;
  let attestation: AttestationTrust;
  if (att?.kind === 'insecure-dev') {
    const a = fields(att, 'attestation', ['kind', 'devKeys']);
    if (!Array.isArray(a.devKeys) || a.devKeys.length === 0) throw bad('no dev keys');
    attestation = {
      kind: 'insecure-dev',
      devKeys: a.devKeys.map((k, i) => hex(k, `devKeys[${i}]`, 32)),
    };
  } else if (att?.kind === 'aws-nitro') {
    const a = fields(att, 'attestation', ['kind', 'pcrs']);
    const pcrs = fields(a.pcrs, 'pcrs', Object.keys((a.pcrs as object) ?? {}));
    const out: Record<number, Uint8Array> = {};
    for (const [i, value] of Object.entries(pcrs)) {
      if (!/^\d{1,2}$/.test(i)) throw bad('PCR index');
      out[Number(i)] = hex(value, `pcr${i}`, 48);
    }
    if (Object.keys(out).length === 0) throw bad('a Nitro trust policy needs PCRs');
    attestation = { kind: 'aws-nitro', pcrs: out };
  } else throw bad('unknown attestation kind');
  let receipt: DepositReceipt;
  try {
    receipt = parseDepositReceipt(o.receipt);
  } catch (err) {
    throw bad(`receipt: ${(err as Error).message}`);
  }
  return {
    walletId: hex(o.walletId, 'walletId', 32),
    scheme: o.scheme,
    x1,
    q: point(o.q, 'q'),
    q1,
    q2: point(o.q2, 'q2'),
    policy: {
      group: policy.group as DepositPolicy['group'],
      iterations: policy.iterations as number,
      ...(gated
        ? { kind: 'clock-gated' as const, delaySeconds: policy.delaySeconds as number }
        : {}),
    },
    vaultUrls: o.vaultUrls.map((u, i) => url(u, `vaultUrls[${i}]`)),
    cluster: {
      clusterId: hex(cluster.clusterId, 'clusterId', 32),
      clusterEncryptionKey: hex(cluster.clusterEncryptionKey, 'clusterEncryptionKey', 32),
      receiptKey: hex(cluster.receiptKey, 'receiptKey', 32),
    },
    attestation,
    receipt,
    cosigner: cosignerFromJson(o.cosigner),
  };
}

/** The wallet encrypted with its password: the wallet file's text, wherever it is kept. */
export async function sealWallet(
  wallet: Wallet,
  password: string,
  opts: { random: RandomBytes; scrypt?: ScryptParams },
): Promise<string> {
  walletFromJson(walletToJson(wallet));
  return sealEnvelope({
    kind: 'wallet',
    payload: walletToJson(wallet),
    password,
    random: opts.random,
    ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
  });
}

/** The wallet in a wallet file's text, checked as `walletFromJson` checks it. */
export async function openWallet(text: string, password: string): Promise<Wallet> {
  return walletFromJson(await openEnvelope(text, 'wallet', password));
}
