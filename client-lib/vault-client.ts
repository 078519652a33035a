/**
 * A typed HTTP client for the vault's /v1 API (docs/protocol.md). Several URLs may name the same
 * cluster: a request goes to each in turn until one answers with something other than a network
 * failure or a 503 (a node whose epoch lags, or that is restarting). Responses are size-capped and
 * parsed strictly by the wire protocol's parsers.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import {
  type Claim,
  claimToJson,
  type DepositReceipt,
  parseDepositReceipt,
  parseRelease,
  type Release,
  toHex,
} from '../vault/portable.ts';
import { ClientError } from './errors.ts';
import { networkCause } from './network-error.ts';
import { type Fetch, timedFetch } from './timed-fetch.ts';

export type { Fetch };

export const MAX_RESPONSE_BYTES = 256 * 1024;

export type ClaimStatus = 'live' | EndedClaimStatus | 'released';
/** How a claim can end without a release: a ping, a cluster restart, or its lifetime. */
export type EndedClaimStatus = 'cancelled' | 'voided' | 'expired';

export function claimEnded(status: ClaimStatus): status is EndedClaimStatus {
  return status === 'cancelled' || status === 'voided' || status === 'expired';
}

export interface ClaimInfo {
  claimId: Uint8Array;
  walletId: Uint8Array;
  ephemeralKey: Uint8Array;
  group: 'rsa2048' | 'class1024';
  iterations: number;
  seed: Uint8Array;
  logIndex: number;
  status: ClaimStatus;
  /**
   * Clock-gated and live: whole seconds until the vault's quorum clock reaches the claim's
   * release time (0: a valid solution releases now); null under a strict policy or once the
   * claim is not live. As of the vault's answer, on its own clock: count down from when it came.
   */
  releasableInSeconds: number | null;
  release: Release | null;
}

export interface WalletStatus {
  walletId: string;
  tenant: string;
  scheme: string;
  q: string;
  q1: string;
  q2: string;
  policy: { group: string; iterations: number; kind?: string; delaySeconds?: number };
  logIndex: number;
  released: boolean;
  liveClaim: ClaimInfo | null;
}

export interface AttestationResponse {
  kind: string;
  insecure: boolean;
  document: Uint8Array;
  cluster: { clusterId: string; clusterEncryptionKey: string; receiptKey: string };
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function hexBytes(v: unknown, what: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !HEX.test(v) || (len !== undefined && v.length !== len * 2)) {
    throw new ClientError('VAULT_RESPONSE', `vault response: ${what} is not valid hex`);
  }
  return hexToBytes(v);
}

function decodeBase64(v: string): Uint8Array {
  try {
    return base64.decode(v);
  } catch {
    throw new ClientError('VAULT_RESPONSE', 'vault response: the attestation is not base64');
  }
}

export function parseClaimInfo(v: unknown): ClaimInfo {
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) {
    throw new ClientError('VAULT_RESPONSE', 'vault response: claim is not an object');
  }
  const status = o.status as ClaimStatus;
  if (status !== 'live' && status !== 'released' && !claimEnded(status)) {
    throw new ClientError('VAULT_RESPONSE', 'vault response: unknown claim status');
  }
  if (o.group !== 'rsa2048' && o.group !== 'class1024') {
    throw new ClientError('VAULT_RESPONSE', 'vault response: unknown VDF group');
  }
  if (!Number.isSafeInteger(o.iterations) || (o.iterations as number) < 1) {
    throw new ClientError('VAULT_RESPONSE', 'vault response: bad iterations');
  }
  const releasable = o.releasableInSeconds;
  if (releasable !== null && !(Number.isSafeInteger(releasable) && (releasable as number) >= 0)) {
    throw new ClientError('VAULT_RESPONSE', 'vault response: bad releasableInSeconds');
  }
  let release: Release | null = null;
  if (o.release !== null && o.release !== undefined) {
    try {
      release = parseRelease(o.release);
    } catch (err) {
      throw new ClientError('VAULT_RESPONSE', `vault response: ${(err as Error).message}`);
    }
  }
  return {
    claimId: hexBytes(o.claimId, 'claimId', 32),
    walletId: hexBytes(o.walletId, 'walletId', 32),
    ephemeralKey: hexBytes(o.ephemeralKey, 'ephemeralKey', 32),
    group: o.group,
    iterations: o.iterations as number,
    seed: hexBytes(o.seed, 'seed'),
    logIndex: Number(o.logIndex),
    status,
    releasableInSeconds: releasable as number | null,
    release,
  };
}

export interface VaultClientOptions {
  fetch?: Fetch;
  /** Pauses before each further round over the URLs when every node was unreachable or
   *  unavailable (an election, a restart). Default 0.5 s, 1 s, 2 s, 4 s. */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  /** How long one request may take before the node counts as unreachable. Default 30 s. */
  requestTimeoutMs?: number;
}

export class VaultClient {
  readonly urls: readonly string[];
  readonly #fetch: Fetch;
  /** The fetch given, before the deadline is added (singleRound() passes it on). */
  readonly #baseFetch: Fetch;
  readonly #retryDelaysMs: readonly number[];
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;

  constructor(urls: readonly string[], opts: VaultClientOptions = {}) {
    if (urls.length === 0) throw new ClientError('VAULT_UNREACHABLE', 'no vault URL given');
    this.urls = urls.map((u) => u.replace(/\/+$/, ''));
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#baseFetch = opts.fetch ?? fetch;
    this.#fetch = timedFetch(this.#baseFetch, this.#timeoutMs);
    this.#retryDelaysMs = opts.retryDelaysMs ?? [500, 1000, 2000, 4000];
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The same client with a single pass over the URLs: for a caller that checks again on its own
   * schedule (a claim watch), so an outage is noticed at once instead of after the backoff rounds.
   */
  singleRound(): VaultClient {
    return this.forNodes(this.urls, { retryDelaysMs: [] });
  }

  /**
   * A client for other nodes of the same vault, through the same fetch (in Node, one that pins
   * each node's attested TLS key); `opts` overrides the retries and the deadline.
   */
  forNodes(
    urls: readonly string[],
    opts: Pick<VaultClientOptions, 'retryDelaysMs' | 'requestTimeoutMs'> = {},
  ): VaultClient {
    return new VaultClient(urls, {
      fetch: this.#baseFetch,
      retryDelaysMs: this.#retryDelaysMs,
      sleep: this.#sleep,
      requestTimeoutMs: this.#timeoutMs,
      ...opts,
    });
  }

  /** Writes reaching a follower are redirected (307) to the leader; fetch follows them. */
  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let lastError: ClientError | undefined;
    for (const delay of [0, ...this.#retryDelaysMs]) {
      if (delay > 0) await this.#sleep(delay);
      const r = await this.#round(method, path, body);
      if (r.ok) return r.value;
      lastError = r.error;
    }
    throw lastError ?? new ClientError('VAULT_UNREACHABLE', 'no vault answered');
  }

  async #round(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: ClientError | undefined }> {
    let lastError: ClientError | undefined;
    const unreachable: string[] = [];
    for (const base of this.urls) {
      let res: Response;
      let text: string;
      try {
        res = await this.#fetch(`${base}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        text = await res.text();
      } catch (err) {
        unreachable.push(`${base} (${networkCause(err)})`);
        lastError = new ClientError('VAULT_UNREACHABLE', `cannot reach the vault at ${base}`, {
          cause: err,
        });
        continue;
      }
      if (text.length > MAX_RESPONSE_BYTES) {
        throw new ClientError('VAULT_RESPONSE', `vault response from ${base} is too large`);
      }
      let json: unknown;
      try {
        json = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        throw new ClientError('VAULT_RESPONSE', `vault at ${base} answered with non-JSON`);
      }
      if (res.ok) return { ok: true, value: json };
      const e = (
        json as { error?: { code?: unknown; message?: unknown; retryAfterSeconds?: unknown } }
      )?.error;
      const vaultCode = typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`;
      const message = typeof e?.message === 'string' ? e.message : res.statusText;
      const wait = e?.retryAfterSeconds;
      const err = new ClientError('VAULT_ERROR', `vault at ${base}: ${vaultCode}: ${message}`, {
        vaultCode,
        status: res.status,
        // only a whole number ≥ 1 is a wait; anything else is as good as absent
        ...(Number.isSafeInteger(wait) && (wait as number) >= 1
          ? { retryAfterSeconds: wait as number }
          : {}),
      });
      if (res.status === 503 || res.status === 502) {
        lastError = err;
        continue;
      }
      throw err;
    }
    if (lastError?.code === 'VAULT_UNREACHABLE') {
      // Every node failed on the network: name each with its own cause, not just the last.
      const where =
        unreachable.length > 1 ? `any of its nodes: ${unreachable.join('; ')}` : unreachable[0];
      lastError = new ClientError('VAULT_UNREACHABLE', `cannot reach the vault at ${where}`, {
        cause: lastError.cause,
      });
    }
    return { ok: false, error: lastError };
  }

  async attestation(nonce: Uint8Array): Promise<AttestationResponse> {
    const r = (await this.#request('GET', `/v1/attestation?nonce=${toHex(nonce)}`)) as Record<
      string,
      unknown
    >;
    const cluster = r?.cluster as AttestationResponse['cluster'] | undefined;
    if (typeof r?.document !== 'string' || typeof cluster !== 'object' || cluster === null) {
      throw new ClientError('VAULT_RESPONSE', 'vault response: malformed attestation');
    }
    return {
      kind: String(r.kind),
      insecure: r.insecure === true,
      document: decodeBase64(r.document),
      cluster,
    };
  }

  /**
   * The cluster's membership as the answering node sees it (`GET /v1/cluster/members`), unparsed:
   * cluster-nodes.ts validates it. null when the node serves none (a single node: 404).
   */
  async members(): Promise<unknown> {
    try {
      return await this.#request('GET', '/v1/cluster/members');
    } catch (err) {
      if (err instanceof ClientError && err.status === 404) return null;
      throw err;
    }
  }

  async wallet(walletId: Uint8Array): Promise<WalletStatus> {
    const w = (await this.#request('GET', `/v1/wallets/${toHex(walletId)}`)) as WalletStatus & {
      liveClaim: unknown;
    };
    return { ...w, liveClaim: w.liveClaim ? parseClaimInfo(w.liveClaim) : null };
  }

  async receipt(walletId: Uint8Array): Promise<DepositReceipt> {
    const r = (await this.#request('GET', `/v1/wallets/${toHex(walletId)}/receipt`)) as {
      receipt?: unknown;
    };
    try {
      return parseDepositReceipt(r?.receipt);
    } catch (err) {
      throw new ClientError('VAULT_RESPONSE', `vault receipt: ${(err as Error).message}`);
    }
  }

  async claimNonce(walletId: Uint8Array): Promise<Uint8Array> {
    const r = (await this.#request('POST', `/v1/wallets/${toHex(walletId)}/claim-nonce`)) as {
      nonce?: unknown;
    };
    return hexBytes(r?.nonce, 'nonce', 32);
  }

  async claim(claim: Claim): Promise<{ existing: boolean; claim: ClaimInfo }> {
    const r = (await this.#request('POST', '/v1/claims', claimToJson(claim))) as {
      existing?: unknown;
      claim?: unknown;
    };
    return { existing: r?.existing === true, claim: parseClaimInfo(r?.claim) };
  }

  async getClaim(claimId: Uint8Array): Promise<ClaimInfo> {
    return parseClaimInfo(await this.#request('GET', `/v1/claims/${toHex(claimId)}`));
  }

  async submitSolution(claimId: Uint8Array, y: Uint8Array, proof: Uint8Array): Promise<Release> {
    const r = (await this.#request('POST', `/v1/claims/${toHex(claimId)}/solution`, {
      y: toHex(y),
      proof: toHex(proof),
    })) as { release?: unknown };
    try {
      return parseRelease(r?.release);
    } catch (err) {
      throw new ClientError('VAULT_RESPONSE', `vault release: ${(err as Error).message}`);
    }
  }
}
