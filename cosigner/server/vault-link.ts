/**
 * The cosigner's side of the vault protocol (a shell: network, clock, randomness). Before every
 * deposit it fetches a node's attestation with a fresh nonce, verifies the document (dev verifier
 * with a pinned key locally, Nitro in production) and checks that user_data binds exactly the
 * cluster keys the node reports; only then does it seal x2 to that cluster key. Receipts are
 * verified before they are kept. A node that cannot be reached (or is not ready, or knows no
 * leader) is skipped for the next one the route knows. The ping loop runs in its own thread
 * (PingThread); ping() here is a ping by hand.
 */
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import type { Logger } from 'pino';
import {
  type AttestationVerifier,
  bytesEqual,
  clusterKeysBinding,
  type DepositPolicy,
  type DepositReceipt,
  deletionToJson,
  depositReceiptToJson,
  depositToJson,
  makeDeposit,
  parseDepositReceipt,
  parseHex,
  type Scheme,
  signDeletion,
  verifyDepositReceipt,
} from '../../vault/index.ts';
import type { ClusterKeysJson, VaultDepositJson } from '../api.ts';
import { cosignerError } from '../errors.ts';
import { systemRandom } from '../random.ts';
import type { CosignerMetrics } from './metrics.ts';
import { reportPing } from './ping-report.ts';
import { pingRound } from './ping-round.ts';
import type { CosignerStore, TenantSecrets } from './store.ts';
import { VaultRoute } from './vault-route.ts';

interface ClusterKeys {
  clusterId: Uint8Array;
  clusterEncryptionKey: Uint8Array;
  receiptKey: Uint8Array;
}

export interface VaultLinkOptions {
  /** The configured vault node URLs (the cluster's membership is learned from them). */
  urls: readonly string[];
  verifier: AttestationVerifier;
  store: CosignerStore;
  metrics: CosignerMetrics;
  log: Logger;
  /** Max age of an attestation document (default 5 minutes). */
  attestationMaxAgeMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class VaultLink {
  readonly route: VaultRoute;
  readonly #o: VaultLinkOptions;
  readonly #fetch: typeof fetch;
  #tenant: TenantSecrets;
  #seqLock: Promise<unknown> = Promise.resolve();

  constructor(opts: VaultLinkOptions, tenant: TenantSecrets) {
    this.route = new VaultRoute(opts.urls);
    this.#o = opts;
    this.#fetch = opts.fetch ?? fetch;
    this.#tenant = tenant;
  }

  /** The node requests go to first (the last that answered). */
  get url(): string {
    return this.route.order()[0] as string;
  }

  /**
   * Tries the known nodes in order. Only an answer that says nothing was applied moves on: no
   * connection, or 503 (not ready, no leader known), or for a read also a timeout. A write's
   * timeout or another 5xx may hide a write that happened, so it is reported, not retried
   * elsewhere (a lost deposit reply is already handled by the pending deletions).
   */
  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let failure: Error | undefined;
    for (const url of this.route.order()) {
      const r = await this.#requestAt(url, method, path, body);
      if (r.ok) {
        this.route.succeeded(url);
        return r.json;
      }
      this.route.failed(url);
      failure = r.error;
      if (!r.tryNext) break;
    }
    throw failure ?? cosignerError('COSIGNER_VAULT_UNAVAILABLE', 'no vault node is known');
  }

  async #requestAt(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ ok: true; json: unknown } | { ok: false; tryNext: boolean; error: Error }> {
    let res: Response;
    try {
      res = await this.#fetch(`${url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
    } catch (err) {
      this.#o.metrics.vaultUnreachable.inc();
      // TLS_NOT_ATTESTED (a node whose certificate its attestation does not vouch for),
      // ECONNREFUSED, ...: what an operator needs to tell a refused node from a down one
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
      const detail = reason === 'TLS_NOT_ATTESTED' ? { detail: String(cause?.message) } : {};
      this.#o.log.warn({ vault: url, path, reason, ...detail }, 'vault unreachable');
      const error = cosignerError('COSIGNER_VAULT_UNAVAILABLE', 'the vault could not be reached');
      // a read may go elsewhere after a timeout; a write may have happened, so it may not
      const tryNext = method === 'GET' || (err as Error).name !== 'TimeoutError';
      return { ok: false, tryNext, error };
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const code = (json as { error?: { code?: string } } | undefined)?.error?.code ?? 'UNKNOWN';
      this.#o.log.warn({ vault: url, path, status: res.status, code }, 'vault refused');
      if (res.status >= 500) {
        this.#o.metrics.vaultUnreachable.inc();
        const error = cosignerError('COSIGNER_VAULT_UNAVAILABLE', `the vault failed (${code})`);
        return { ok: false, tryNext: res.status === 503, error };
      }
      const error = cosignerError(
        'COSIGNER_VAULT_REJECTED',
        `the vault refused the request (${code})`,
      );
      return { ok: false, tryNext: false, error };
    }
    return { ok: true, json };
  }

  /** Fetches and verifies a fresh attestation; returns the cluster keys it binds. */
  async attestedClusterKeys(): Promise<{ keys: ClusterKeys; kind: string }> {
    const nonce = systemRandom(32);
    const body = (await this.#request('GET', `/v1/attestation?nonce=${hex(nonce)}`)) as {
      document?: unknown;
      cluster?: Record<string, unknown>;
    };
    let keys: ClusterKeys;
    try {
      const c = body.cluster ?? {};
      keys = {
        clusterId: parseHex('clusterId', c.clusterId, 32),
        clusterEncryptionKey: parseHex('clusterEncryptionKey', c.clusterEncryptionKey, 32),
        receiptKey: parseHex('receiptKey', c.receiptKey, 32),
      };
    } catch {
      throw cosignerError('COSIGNER_ATTESTATION_FAILED', 'the vault reported malformed keys');
    }
    if (typeof body.document !== 'string') {
      throw cosignerError('COSIGNER_ATTESTATION_FAILED', 'the vault sent no attestation document');
    }
    let verified: ReturnType<AttestationVerifier['verify']>;
    try {
      verified = this.#o.verifier.verify(new Uint8Array(Buffer.from(body.document, 'base64')), {
        expectedNonce: nonce,
        expectedUserData: clusterKeysBinding(keys),
        maxAgeMs: this.#o.attestationMaxAgeMs ?? 5 * 60_000,
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ATTESTATION_INVALID';
      this.#o.log.error({ vault: this.url, code }, 'vault attestation failed');
      throw cosignerError(
        'COSIGNER_ATTESTATION_FAILED',
        `the vault's attestation failed (${code})`,
      );
    }
    // Belt and braces: the verifier checked it, and the binding is what the deposit relies on.
    if (!verified.userData || !bytesEqual(verified.userData, clusterKeysBinding(keys))) {
      throw cosignerError('COSIGNER_ATTESTATION_FAILED', 'attestation does not bind these keys');
    }
    return { keys, kind: verified.kind };
  }

  /** Reserves the next tenant sequence number, persisted before use (never reused). */
  async #nextSeq(): Promise<number> {
    const run = async () => {
      const next = { ...this.#tenant, seq: this.#tenant.seq + 1 };
      await this.#o.store.putTenant(next);
      this.#tenant = next;
      return next.seq;
    };
    const p = this.#seqLock.then(run, run);
    this.#seqLock = p.catch(() => undefined);
    return p;
  }

  async deposit(args: {
    vaultWalletId: Uint8Array;
    scheme: Scheme;
    q: Uint8Array;
    q1: Uint8Array;
    q2: Uint8Array;
    policy: DepositPolicy;
    x2: Uint8Array;
  }): Promise<VaultDepositJson> {
    const { keys, kind } = await this.attestedClusterKeys();
    const seq = await this.#nextSeq();
    const header = {
      tenant: this.#tenant.tenant,
      seq,
      walletId: args.vaultWalletId,
      scheme: args.scheme,
      q: args.q,
      q1: args.q1,
      q2: args.q2,
      policy: args.policy,
    };
    const deposit = makeDeposit({
      clusterId: keys.clusterId,
      clusterKey: keys.clusterEncryptionKey,
      deposit: header,
      x2: args.x2,
      tenantSecretKey: parseHex('tenantSecretKey', this.#tenant.tenantSecretKey, 32),
      senderSecret: systemRandom(32),
      aux: systemRandom(32),
    });
    const reply = (await this.#request('POST', '/v1/deposits', depositToJson(deposit))) as {
      receipt?: unknown;
    };
    let receipt: DepositReceipt;
    try {
      receipt = parseDepositReceipt(reply.receipt);
    } catch {
      throw cosignerError('COSIGNER_VAULT_REJECTED', 'the vault returned a malformed receipt');
    }
    const ok = verifyDepositReceipt({
      clusterId: keys.clusterId,
      receiptKey: keys.receiptKey,
      receipt,
      expected: header,
    });
    if (!ok) throw cosignerError('COSIGNER_VAULT_REJECTED', 'the deposit receipt does not verify');
    this.#o.log.info({ vaultWalletId: hex(args.vaultWalletId), seq }, 'deposited share in vault');
    return {
      vaultWalletId: hex(args.vaultWalletId),
      vaultUrl: this.url,
      receipt: depositReceiptToJson(receipt) as unknown as Record<string, unknown>,
      cluster: clusterJson(keys),
      attestationKind: kind,
    };
  }

  /** Deletes a deposit; without known cluster keys it takes them from a fresh attestation. */
  async deleteDeposit(vaultWalletId: string, cluster?: ClusterKeysJson): Promise<void> {
    const clusterId = cluster
      ? parseHex('clusterId', cluster.clusterId, 32)
      : (await this.attestedClusterKeys()).keys.clusterId;
    const seq = await this.#nextSeq();
    const deletion = signDeletion(
      clusterId,
      { tenant: this.#tenant.tenant, seq, walletId: parseHex('vaultWalletId', vaultWalletId, 32) },
      parseHex('tenantSecretKey', this.#tenant.tenantSecretKey, 32),
      systemRandom(32),
    );
    await this.#request('POST', '/v1/deletions', deletionToJson(deletion));
    this.#o.log.info({ vaultWalletId, seq }, 'deleted old share from vault');
  }

  /**
   * A ping by hand (the loop runs in PingThread): fresh nonce, signed with the ping key, committed
   * by whichever node can within `budgetMs`. Returns the claims it cancelled.
   */
  async ping(clusterId?: Uint8Array, budgetMs = 10_000): Promise<string[]> {
    const started = performance.now();
    let id: Uint8Array;
    try {
      id = clusterId ?? (await this.attestedClusterKeys()).keys.clusterId;
    } catch (err) {
      this.#o.metrics.pings.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
      throw err;
    }
    const result = await pingRound({
      route: this.route,
      tenant: this.#tenant.tenant,
      pingSecretKey: parseHex('pingSecretKey', this.#tenant.pingSecretKey, 32),
      clusterId: id,
      budgetMs,
      fetch: this.#fetch,
    });
    reportPing(this.#o.metrics, this.#o.log, result, (performance.now() - started) / 1000);
    if (!result.ok) throw cosignerError(result.code, 'the ping was not committed');
    return result.cancelled;
  }
}

function clusterJson(keys: ClusterKeys): ClusterKeysJson {
  return {
    clusterId: hex(keys.clusterId),
    clusterEncryptionKey: hex(keys.clusterEncryptionKey),
    receiptKey: hex(keys.receiptKey),
  };
}
