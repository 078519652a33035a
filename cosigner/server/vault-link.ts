/**
 * The cosigner's side of the vault protocol (a shell: network, clock, randomness). Before every
 * deposit it fetches a node's attestation with a fresh nonce, verifies the document (dev verifier
 * with a pinned key locally, Nitro in production) and checks that user_data binds exactly the
 * cluster keys the node reports; only then does it seal x2 to that cluster key. Receipts are
 * verified before they are kept. Pings run on a timer; failures are logged and counted.
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
  pingToJson,
  type Scheme,
  signDeletion,
  signPing,
  verifyDepositReceipt,
} from '../../vault/index.ts';
import type { ClusterKeysJson, VaultDepositJson } from '../api.ts';
import { cosignerError } from '../errors.ts';
import { systemRandom } from '../random.ts';
import type { CosignerMetrics } from './metrics.ts';
import type { CosignerStore, TenantSecrets } from './store.ts';

interface ClusterKeys {
  clusterId: Uint8Array;
  clusterEncryptionKey: Uint8Array;
  receiptKey: Uint8Array;
}

export interface VaultLinkOptions {
  url: string;
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
  readonly url: string;
  readonly #o: VaultLinkOptions;
  readonly #fetch: typeof fetch;
  #tenant: TenantSecrets;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  #seqLock: Promise<unknown> = Promise.resolve();

  constructor(opts: VaultLinkOptions, tenant: TenantSecrets) {
    this.url = opts.url.replace(/\/+$/, '');
    this.#o = opts;
    this.#fetch = opts.fetch ?? fetch;
    this.#tenant = tenant;
  }

  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
    } catch {
      this.#o.metrics.vaultUnreachable.inc();
      this.#o.log.warn({ vault: this.url, path }, 'vault unreachable');
      throw cosignerError('COSIGNER_VAULT_UNAVAILABLE', 'the vault could not be reached');
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
      this.#o.log.warn({ vault: this.url, path, status: res.status, code }, 'vault refused');
      if (res.status >= 500) {
        this.#o.metrics.vaultUnreachable.inc();
        throw cosignerError('COSIGNER_VAULT_UNAVAILABLE', `the vault failed (${code})`);
      }
      throw cosignerError('COSIGNER_VAULT_REJECTED', `the vault refused the request (${code})`);
    }
    return json;
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

  /** One ping: fresh nonce, signed with the ping key, sent. Returns the claims it cancelled. */
  async ping(clusterId?: Uint8Array): Promise<string[]> {
    const end = this.#o.metrics.pingSeconds.startTimer();
    try {
      const id = clusterId ?? (await this.attestedClusterKeys()).keys.clusterId;
      const tenant = this.#tenant.tenant;
      const n = (await this.#request(
        'POST',
        `/v1/tenants/${encodeURIComponent(tenant)}/ping-nonce`,
      )) as { nonce?: unknown };
      const ping = signPing(
        id,
        { tenant, nonce: parseHex('nonce', n.nonce, 32) },
        parseHex('pingSecretKey', this.#tenant.pingSecretKey, 32),
        systemRandom(32),
      );
      const r = (await this.#request('POST', '/v1/pings', pingToJson(ping))) as {
        cancelledClaims?: string[];
      };
      this.#o.metrics.pings.inc({ outcome: 'ok' });
      this.#o.metrics.lastPingSuccess.set(Date.now() / 1000);
      const cancelled = r.cancelledClaims ?? [];
      if (cancelled.length > 0) this.#o.log.warn({ cancelled }, 'ping cancelled live claims');
      return cancelled;
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'INTERNAL';
      this.#o.metrics.pings.inc({ outcome: code });
      this.#o.log.error({ code }, 'ping failed');
      throw err;
    } finally {
      end();
    }
  }

  /** Pings every `intervalMs`; `tick` (e.g. retrying pending deletions) runs after each ping. */
  startPinging(intervalMs: number, tick?: () => Promise<void>): void {
    this.#stopped = false;
    let clusterId: Uint8Array | undefined;
    const loop = async () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      try {
        // The cluster id is taken from an attested key set once, then reused.
        clusterId ??= (await this.attestedClusterKeys()).keys.clusterId;
        await this.ping(clusterId);
      } catch {
        clusterId = undefined;
      }
      if (tick) await tick().catch(() => undefined);
      if (!this.#stopped) {
        this.#timer = setTimeout(loop, intervalMs);
        this.#timer.unref?.();
      }
    };
    this.#timer = setTimeout(loop, 0);
    this.#timer.unref?.();
  }

  stopPinging(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function clusterJson(keys: ClusterKeys): ClusterKeysJson {
  return {
    clusterId: hex(keys.clusterId),
    clusterEncryptionKey: hex(keys.clusterEncryptionKey),
    receiptKey: hex(keys.receiptKey),
  };
}
