/**
 * The cosigner's HTTP API contract, shared by the server (cosigner/server/) and the typed client
 * (cosigner/client.ts): route shapes, JSON bodies and the bytes a client signs per request.
 * Binary values are lowercase hex; points are 33-byte compressed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonical, u64, utf8 } from '../vault/index.ts';
import type { KeygenMsg1, KeygenMsg2, KeygenMsg3 } from './ecdsa2p/keygen.ts';
import type {
  RefreshMsg1,
  RefreshMsg2,
  RefreshMsg3,
  RefreshMsg4,
  RefreshMsg5,
} from './ecdsa2p/refresh.ts';
import type { SignMsg1, SignMsg2, SignMsg3 } from './ecdsa2p/sign.ts';

/** Wallet kinds: two-party ECDSA (additive shares) or MuSig2 (BIP-327 KeyAgg of Q1, Q2). */
export const WALLET_SCHEMES = ['ecdsa-2p', 'musig2'] as const;
export type WalletScheme = (typeof WALLET_SCHEMES)[number];

export interface WalletPolicy {
  group: 'rsa2048' | 'class1024';
  iterations: number;
  /** The vault's policy kind (docs/protocol.md §Deposit); absent means strict. */
  kind?: 'strict' | 'clock-gated';
  /** clock-gated only: the wait on the vault's quorum clock, in seconds. */
  delaySeconds?: number;
}

/** Request headers of an authenticated call. */
export const AUTH_COUNTER_HEADER = 'x-vigil-counter';
export const AUTH_SIGNATURE_HEADER = 'x-vigil-signature';

const REQUEST_TAG = 'vigil/cosigner/request/v1';

/**
 * What a client signs (BIP-340, its auth key) for every request to its wallet: method, path,
 * wallet id, a strictly increasing counter (replay protection) and the SHA-256 of the exact body
 * bytes. Registration signs the same message with the wallet id empty and counter 0.
 */
export function requestBytes(args: {
  method: string;
  path: string;
  walletId: string;
  counter: number;
  body: string;
}): Uint8Array {
  return canonical(REQUEST_TAG, [
    utf8(args.method.toUpperCase()),
    utf8(args.path),
    utf8(args.walletId),
    u64(args.counter),
    sha256(utf8(args.body)),
  ]);
}

export interface RegisterRequest {
  /** The client's BIP-340 x-only auth key (32 bytes hex). */
  authKey: string;
  scheme: WalletScheme;
  /** The recovery policy the vault deposit carries; the server checks it against its limits. */
  policy: WalletPolicy;
}
export interface RegisterResponse {
  walletId: string;
}

export interface ClusterKeysJson {
  clusterId: string;
  clusterEncryptionKey: string;
  receiptKey: string;
}

/** Where the server's share lives in the vault: what the client needs to verify and to claim. */
export interface VaultDepositJson {
  /** The id the vault keys this share generation by (a new one after every refresh). */
  vaultWalletId: string;
  vaultUrl: string;
  /** The vault's receipt, as the vault's JSON (parse with parseDepositReceipt). */
  receipt: Record<string, unknown>;
  cluster: ClusterKeysJson;
  attestationKind: string;
}

export interface KeyStateJson {
  q: string;
  q1: string;
  q2: string;
  /** The ECDSA wallet's BIP-32 chain code (hex); MuSig2 wallets use BIP-328's fixed one. */
  chainCode: string;
  generation: number;
  vault: VaultDepositJson;
}

export interface WalletStatusJson {
  walletId: string;
  scheme: WalletScheme;
  policy: WalletPolicy;
  state: 'registered' | 'active';
  locked: boolean;
  key?: KeyStateJson;
}

export interface KeygenStartRequest {
  sessionId: string;
  message: KeygenMsg1;
}
export interface KeygenStartResponse {
  message: KeygenMsg2;
}
export interface KeygenFinishRequest {
  message: KeygenMsg3;
}
export type KeygenFinishResponse = KeyStateJson;

/** MuSig2 keygen is one round: the client's plain public key in, the server's out. */
export interface MusigKeygenRequest {
  publicKey: string;
}
export type MusigKeygenResponse = KeyStateJson;

export interface SignStartRequest {
  sessionId: string;
  messageHash: string;
  path: number[];
  message: SignMsg1;
}
export interface SignStartResponse {
  message: SignMsg2;
}
export interface SignFinishRequest {
  message: SignMsg3;
}
export interface SignFinishResponse {
  signature: { r: string; s: string; recovery: 0 | 1 };
  publicKey: string;
}

export interface MusigSignRequest {
  /** The 32-byte message (a BIP-341 sighash, say). */
  message: string;
  path: number[];
  /** Optional BIP-341 x-only tweak applied after derivation. */
  xOnlyTweak?: string;
  /** The client's 66-byte public nonce. */
  nonce: string;
}
export interface MusigSignResponse {
  nonce: string;
  partialSignature: string;
}

export interface RefreshStartRequest {
  sessionId: string;
  message: RefreshMsg1;
}
export interface RefreshStartResponse {
  message: RefreshMsg2;
}
export interface RefreshOpenRequest {
  message: RefreshMsg3;
}
export interface RefreshOpenResponse {
  message: RefreshMsg4;
}
export interface RefreshFinishRequest {
  message: RefreshMsg5;
}
export type RefreshFinishResponse = KeyStateJson;

export interface DeriveRequest {
  path: number[];
}
export interface DeriveResponse {
  /** The child public key (33 bytes); for MuSig2, also its x-only form. */
  publicKey: string;
  xOnly?: string;
}

export interface ErrorJson {
  error: { code: string; message: string };
}
