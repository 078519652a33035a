/**
 * A typed HTTP client for the cosigner API (cosigner/api.ts), for client-lib and tests. Every call
 * to a wallet is signed with the wallet's auth key over requestBytes; the counter is the larger of
 * (last used + 1) and the clock in microseconds, so a client that lost its state still moves
 * forward. Calls on one client object are serialised (the server accepts counters in order only).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import {
  canonicalHash,
  parseDepositReceipt,
  parseHex,
  utf8,
  verifyDepositReceipt,
} from '../vault/index.ts';
import {
  AUTH_COUNTER_HEADER,
  AUTH_SIGNATURE_HEADER,
  type DeriveResponse,
  type ErrorJson,
  type KeygenStartResponse,
  type KeyStateJson,
  type MusigSignResponse,
  type RefreshOpenResponse,
  type RefreshStartResponse,
  type RegisterRequest,
  type RegisterResponse,
  requestBytes,
  type SignFinishResponse,
  type SignStartResponse,
  type VaultDepositJson,
  type WalletPolicy,
  type WalletScheme,
  type WalletStatusJson,
} from './api.ts';
import { ClientKeygen } from './ecdsa2p/keygen.ts';
import type { EncryptionMaskPool } from './ecdsa2p/mask-pool.ts';
import { ClientRefresh } from './ecdsa2p/refresh.ts';
import { ClientSigner, signatureFromWire } from './ecdsa2p/sign.ts';
import type {
  ClientKeyShare,
  ClientSetup,
  EcdsaSignature,
  SecurityPolicy,
} from './ecdsa2p/types.ts';
import { CosignerError, type CosignerErrorCode } from './errors.ts';
import { MusigSigner, planFor } from './musig2/signer.ts';
import { bigIntToBytes, type RandomBytes, randomScalar, systemRandom } from './random.ts';
import { CURVE_ORDER, G, parsePoint, pointToWire } from './wire.ts';

const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** An error reply from the cosigner: HTTP status plus the server's stable code. */
export class CosignerHttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** The server's Retry-After in seconds (quotas, an empty key pool), when it sent one. */
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'CosignerHttpError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface EcdsaKeygenResult {
  /** The client's share (x_client secret): store it encrypted (scrypt + AEAD). */
  share: ClientKeyShare;
  key: KeyStateJson;
}

export interface MusigKeygenResult {
  /** The client's MuSig2 secret key (32 bytes): store it encrypted. */
  secretKey: Uint8Array;
  key: KeyStateJson;
}

export interface CosignerClientOptions {
  baseUrl: string;
  walletId: string;
  /** The 32-byte BIP-340 secret key registered for this wallet. */
  authSecretKey: Uint8Array;
  rng?: RandomBytes;
  /** Security policy for verifying the server's Paillier proofs (default 2048-bit). */
  policy?: SecurityPolicy;
  fetch?: typeof fetch;
  now?: () => number;
  /**
   * How long a keygen or refresh keeps retrying while the server's Paillier key pool is empty
   * (503 COSIGNER_POOL_EMPTY, following its Retry-After); default 60 s, 0 never retries.
   */
  poolWaitMs?: number;
}

async function send(
  fetcher: typeof fetch,
  url: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<unknown> {
  const res = await fetcher(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as Partial<ErrorJson> | undefined)?.error;
    const retryAfter = Number(res.headers.get('retry-after') ?? Number.NaN);
    throw new CosignerHttpError(
      res.status,
      e?.code ?? 'HTTP_ERROR',
      e?.message ?? `cosigner replied ${res.status}`,
      Number.isSafeInteger(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
    );
  }
  return json;
}

export class CosignerClient {
  readonly baseUrl: string;
  readonly walletId: string;
  readonly #authKey: Uint8Array;
  readonly #rng: RandomBytes;
  readonly #policy: SecurityPolicy | undefined;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #counter = 0;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #poolWaitMs: number;

  constructor(opts: CosignerClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.walletId = opts.walletId;
    this.#authKey = opts.authSecretKey;
    this.#rng = opts.rng ?? systemRandom;
    this.#policy = opts.policy;
    this.#fetch = opts.fetch ?? fetch;
    this.#now = opts.now ?? Date.now;
    this.#poolWaitMs = opts.poolWaitMs ?? 60_000;
  }

  /**
   * A protocol's first call, retried while the server has no Paillier key ready: it never makes
   * one on a request (that would let anyone stall it), so it says when to come back instead.
   */
  async #start<T>(suffix: string, payload: unknown): Promise<T> {
    const deadline = this.#now() + this.#poolWaitMs;
    for (;;) {
      try {
        return await this.call<T>('POST', suffix, payload);
      } catch (e) {
        const wait = ((e as CosignerHttpError).retryAfterSeconds ?? 1) * 1000;
        const retry = e instanceof CosignerHttpError && e.code === 'COSIGNER_POOL_EMPTY';
        if (!retry || this.#now() + wait > deadline) throw e;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Registers a new wallet under `authSecretKey` and returns a client bound to it. */
  static async register(opts: {
    baseUrl: string;
    authSecretKey: Uint8Array;
    scheme?: WalletScheme;
    policy: WalletPolicy;
    rng?: RandomBytes;
    securityPolicy?: SecurityPolicy;
    fetch?: typeof fetch;
  }): Promise<CosignerClient> {
    const baseUrl = opts.baseUrl.replace(/\/+$/, '');
    const request: RegisterRequest = {
      authKey: hex(schnorr.getPublicKey(opts.authSecretKey)),
      scheme: opts.scheme ?? 'ecdsa-2p',
      policy: opts.policy,
    };
    const body = JSON.stringify(request);
    const path = '/v1/wallets';
    const signature = schnorr.sign(
      requestBytes({ method: 'POST', path, walletId: '', counter: 0, body }),
      opts.authSecretKey,
      (opts.rng ?? systemRandom)(32),
    );
    const fetcher = opts.fetch ?? fetch;
    const res = (await send(fetcher, `${baseUrl}${path}`, 'POST', body, {
      [AUTH_COUNTER_HEADER]: '0',
      [AUTH_SIGNATURE_HEADER]: hex(signature),
    })) as RegisterResponse;
    return new CosignerClient({
      baseUrl,
      walletId: res.walletId,
      authSecretKey: opts.authSecretKey,
      ...(opts.rng ? { rng: opts.rng } : {}),
      ...(opts.securityPolicy ? { policy: opts.securityPolicy } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  /** One signed call; calls on this object run one at a time so counters arrive in order. */
  call<T>(method: 'GET' | 'POST', suffix: string, payload?: unknown): Promise<T> {
    const run = async () => {
      const path = `/v1/wallets/${this.walletId}${suffix}`;
      const body = payload === undefined ? '' : JSON.stringify(payload);
      this.#counter = Math.max(this.#counter + 1, Math.floor(this.#now() * 1000));
      const counter = this.#counter;
      const signature = schnorr.sign(
        requestBytes({ method, path, walletId: this.walletId, counter, body }),
        this.#authKey,
        this.#rng(32),
      );
      return (await send(
        this.#fetch,
        `${this.baseUrl}${path}`,
        method,
        payload === undefined ? undefined : body,
        { [AUTH_COUNTER_HEADER]: String(counter), [AUTH_SIGNATURE_HEADER]: hex(signature) },
      )) as T;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  status(): Promise<WalletStatusJson> {
    return this.call('GET', '');
  }

  /** Runs two-party ECDSA keygen to completion; the server deposits x2 before it answers. */
  async keygen(setup: ClientSetup): Promise<EcdsaKeygenResult> {
    const sessionId = this.#rng(32);
    const keygen = new ClientKeygen({
      sessionId: protocolSessionId(this.walletId, 'keygen', sessionId),
      setup,
      rng: this.#rng,
      ...(this.#policy ? { policy: this.#policy } : {}),
    });
    const started = await this.#start<KeygenStartResponse>('/keygen', {
      sessionId: hex(sessionId),
      message: keygen.start(),
    });
    const { message, share } = keygen.finish(started.message);
    const key = await this.call<KeyStateJson>('POST', `/keygen/${hex(sessionId)}/finish`, {
      message,
    });
    assertKeyMatches(key, share);
    return { share, key };
  }

  /** MuSig2 keygen: the client's own BIP-327 key; the server answers with Q2 and the deposit. */
  async keygenMusig(): Promise<MusigKeygenResult> {
    const x = randomScalar(this.#rng, CURVE_ORDER);
    const secretKey = bigIntToBytes(x, 32);
    const publicKey = G.multiply(x).toBytes(true);
    const key = await this.call<KeyStateJson>('POST', '/keygen-musig2', {
      publicKey: hex(publicKey),
    });
    if (key.q1 !== hex(publicKey)) throw mismatch('the server recorded another Q1');
    return { secretKey, key };
  }

  /** Two-party ECDSA over a 32-byte message hash, optionally on a non-hardened child key. */
  async signEcdsa(args: {
    share: ClientKeyShare;
    messageHash: Uint8Array;
    path?: number[];
    /** Precomputed encryption masks for this share (see EncryptionMaskPool): a faster sign. */
    masks?: EncryptionMaskPool;
  }): Promise<EcdsaSignature> {
    const sessionId = this.#rng(32);
    const path = args.path ?? [];
    const signer = new ClientSigner({
      sessionId: protocolSessionId(this.walletId, 'sign', sessionId),
      share: args.share,
      messageHash: args.messageHash,
      path,
      rng: this.#rng,
      ...(args.masks ? { masks: args.masks } : {}),
    });
    const started = await this.call<SignStartResponse>('POST', '/sign', {
      sessionId: hex(sessionId),
      messageHash: hex(args.messageHash),
      path,
      message: signer.start(),
    });
    const done = await this.call<SignFinishResponse>('POST', `/sign/${hex(sessionId)}/finish`, {
      message: signer.finish(started.message),
    });
    if (done.publicKey !== pointToWire(signer.publicKey)) {
      throw mismatch('the server signed under another public key');
    }
    return signatureFromWire(done.signature);
  }

  /** MuSig2 (BIP-327): returns the 64-byte BIP-340 signature, verified here. */
  async signMusig(args: {
    secretKey: Uint8Array;
    key: Pick<KeyStateJson, 'q1' | 'q2'>;
    message: Uint8Array;
    path?: number[];
    xOnlyTweak?: Uint8Array;
  }): Promise<Uint8Array> {
    const path = args.path ?? [];
    const plan = planFor(musigOrder(args.key.q1, args.key.q2), path, args.xOnlyTweak);
    const signer = new MusigSigner({ secretKey: args.secretKey, plan, rng: this.#rng });
    const nonce = signer.publicNonce();
    const res = await this.call<MusigSignResponse>('POST', '/sign-musig2', {
      message: hex(args.message),
      path,
      ...(args.xOnlyTweak ? { xOnlyTweak: hex(args.xOnlyTweak) } : {}),
      nonce: hex(nonce),
    });
    signer.sign(unhex(res.nonce), args.message);
    return signer.finish(unhex(res.partialSignature));
  }

  /** Refresh keeping Q; returns the new share (keep the old one until this resolves). */
  async refresh(args: { share: ClientKeyShare; setup: ClientSetup }): Promise<EcdsaKeygenResult> {
    const sessionId = this.#rng(32);
    const refresh = new ClientRefresh({
      sessionId: protocolSessionId(this.walletId, 'refresh', sessionId),
      share: args.share,
      setup: args.setup,
      rng: this.#rng,
      ...(this.#policy ? { policy: this.#policy } : {}),
    });
    const s = hex(sessionId);
    const m2 = await this.#start<RefreshStartResponse>('/refresh', {
      sessionId: s,
      message: refresh.start(),
    });
    const m4 = await this.call<RefreshOpenResponse>('POST', `/refresh/${s}/open`, {
      message: refresh.open(m2.message),
    });
    const { message, share } = refresh.finish(m4.message);
    const key = await this.call<KeyStateJson>('POST', `/refresh/${s}/finish`, { message });
    assertKeyMatches(key, share);
    return { share, key };
  }

  /** The public key at a non-hardened path (the server computes; the client may recompute). */
  derive(path: number[]): Promise<DeriveResponse> {
    return this.call('POST', '/derive', { path });
  }
}

/**
 * The session id both state machines use: the client's random 32 bytes bound to the wallet and
 * the protocol, so a transcript of one wallet or protocol can never be replayed into another.
 */
export function protocolSessionId(
  walletId: string,
  kind: 'keygen' | 'sign' | 'refresh',
  clientSessionId: Uint8Array,
): Uint8Array {
  return sessionIdHash(walletId, kind, clientSessionId);
}

function sessionIdHash(walletId: string, kind: string, id: Uint8Array): Uint8Array {
  return canonicalHash('vigil/cosigner/session/v1', [utf8(walletId), utf8(kind), id]);
}

/** BIP-327 KeySort order of the two plain keys (what the vault's 'musig2' scheme uses). */
export function musigOrder(q1: string, q2: string): Uint8Array[] {
  const [a, b] = [unhex(q1), unhex(q2)];
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
}

/**
 * Checks the vault receipt in a key state against the cluster's receipt key: the vault holds the
 * x2 matching Q2 for Q under the policy (DESIGN.md P6). `cluster` should come from the client's
 * own verification of the vault's attestation; by default the keys the cosigner reported are used.
 */
export function verifyKeyDeposit(
  key: KeyStateJson,
  scheme: WalletScheme,
  policy: WalletPolicy,
  cluster = key.vault.cluster,
): boolean {
  try {
    const receipt = parseDepositReceipt(key.vault.receipt);
    return verifyDepositReceipt({
      clusterId: parseHex('clusterId', cluster.clusterId, 32),
      receiptKey: parseHex('receiptKey', cluster.receiptKey, 32),
      receipt,
      expected: {
        walletId: parseHex('vaultWalletId', key.vault.vaultWalletId, 32),
        scheme: scheme === 'ecdsa-2p' ? 'additive' : 'musig2',
        q: unhex(key.q),
        q1: unhex(key.q1),
        q2: unhex(key.q2),
        policy,
      },
    });
  } catch {
    return false;
  }
}

function mismatch(message: string): CosignerError {
  return new CosignerError('COSIGNER_PROOF_FAILED' satisfies CosignerErrorCode, message);
}

function assertKeyMatches(key: KeyStateJson, share: ClientKeyShare): void {
  if (
    key.q !== pointToWire(share.q) ||
    key.q1 !== pointToWire(share.qClient) ||
    key.q2 !== pointToWire(share.qServer) ||
    key.chainCode !== hex(share.chainCode)
  ) {
    throw mismatch('the server reported keys other than the ones the protocol produced');
  }
  parsePoint('q', key.q);
}

export type { VaultDepositJson };
