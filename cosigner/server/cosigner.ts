/**
 * Assembles a cosigner: storage key from the sealer, LevelDB store, tenant keys (created on first
 * start, sealed at rest), Paillier pool, vault link with its ping loop, and the HTTP app.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import {
  type AttestationVerifier,
  attestedTlsFor,
  type Sealer,
  StorageBox,
  type VaultTrust,
} from '../../vault/index.ts';
import type { SecurityPolicy } from '../ecdsa2p/types.ts';
import { PaillierKeyPool } from '../paillier-pool.ts';
import { buildCosignerApp } from './app.ts';
import { DepositBudget } from './deposit-budget.ts';
import { createCosignerMetrics } from './metrics.ts';
import { PingThread } from './ping-thread.ts';
import { Quota } from './quota.ts';
import { CosignerService, type PolicyLimits } from './service.ts';
import { SessionTable } from './sessions.ts';
import { CosignerStore } from './store.ts';
import { VaultLink } from './vault-link.ts';

export interface CosignerOptions {
  dataDir: string;
  sealer: Sealer;
  /** A vault node's URL, or several separated by commas. */
  vaultUrl: string;
  verifier: AttestationVerifier;
  /** The tenant name the vault operator registered (or will register) for this cosigner. */
  tenant: string;
  /** 0 leaves the ping loop stopped (tests ping by hand, or start `pinger` themselves). */
  pingIntervalMs: number;
  limits: PolicyLimits;
  poolTarget?: number;
  /** A pool to draw from instead of a new one (benches share a pre-filled pool). */
  pool?: PaillierKeyPool;
  /** Minimum client ring-Pedersen size (default 2048 bits; tests use smaller moduli). */
  securityPolicy?: SecurityPolicy;
  maxSessions?: number;
  sessionTtlMs?: number;
  rateLimitPerMinute?: number;
  /** Keygens and refreshes a wallet may start an hour (default 10). */
  keygenQuotaPerWallet?: number;
  /** Keygens and refreshes a client address may start an hour (default 60). */
  keygenQuotaPerClient?: number;
  /** Wallets a client address may register an hour (default 20). */
  registrationQuotaPerClient?: number;
  /** The tenant's maxWallets at the vault (0, the default: not known, no capacity check). */
  vaultWalletLimit?: number;
  /** Of vaultWalletLimit, deposits new wallets may not take: kept for refreshes (default 10). */
  refreshHeadroom?: number;
  logger?: Logger;
  now?: () => number;
  /** How the cosigner reaches the vault (tests put a tampering proxy here). */
  vaultFetch?: typeof fetch;
  /**
   * The vault image trusted for attested TLS: without `vaultFetch`, every request to the vault
   * (pings included) goes through a fetch that pins each node's attested TLS key.
   */
  vaultTrust?: VaultTrust;
}

export interface Cosigner {
  app: FastifyInstance;
  service: CosignerService;
  store: CosignerStore;
  vault: VaultLink;
  /** The ping loop's thread (started when pingIntervalMs > 0). */
  pinger: PingThread;
  pool: PaillierKeyPool;
  tenantKeys: { tenant: string; tenantKey: string; pingKey: string };
  close(): Promise<void>;
}

function freshSecretKey(): string {
  return hex(schnorr.utils.randomSecretKey(new Uint8Array(randomBytes(48))));
}

/** Deposits this cosigner may hold at the vault: one per keyed wallet, plus those listed for
 * deletion. One pass over the wallets at start (only when a vault limit is configured). */
async function heldDeposits(store: CosignerStore): Promise<number> {
  let n = 0;
  for await (const w of store.wallets()) n += (w.key ? 1 : 0) + w.pendingDeletions.length;
  return n;
}

export async function openCosigner(o: CosignerOptions): Promise<Cosigner> {
  const log = o.logger ?? pino({ level: 'silent' });
  const now = o.now ?? Date.now;
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const box = new StorageBox(await o.sealer.storageKey());
  const store = await CosignerStore.open(join(o.dataDir, 'db'), box);
  let tenant = await store.tenant();
  if (!tenant) {
    tenant = {
      tenant: o.tenant,
      tenantSecretKey: freshSecretKey(),
      pingSecretKey: freshSecretKey(),
      seq: 0,
    };
    await store.putTenant(tenant);
    log.info({ tenant: o.tenant }, 'created tenant and ping keys');
  } else if (tenant.tenant !== o.tenant) {
    await store.close();
    throw new Error(`this data directory belongs to tenant ${tenant.tenant}, not ${o.tenant}`);
  }
  const tenantKeys = {
    tenant: tenant.tenant,
    tenantKey: hex(schnorr.getPublicKey(Buffer.from(tenant.tenantSecretKey, 'hex'))),
    pingKey: hex(schnorr.getPublicKey(Buffer.from(tenant.pingSecretKey, 'hex'))),
  };
  const metrics = createCosignerMetrics();
  // `--vault` may list several nodes; the cluster's membership is learned from them.
  const vaultUrls = o.vaultUrl.split(',').filter((u) => u.length > 0);
  const tls = !o.vaultFetch && o.vaultTrust ? attestedTlsFor(o.vaultTrust, () => {}) : undefined;
  const vaultFetch = o.vaultFetch ?? tls?.fetch;
  const vault = new VaultLink(
    {
      urls: vaultUrls,
      verifier: o.verifier,
      store,
      metrics,
      log,
      ...(vaultFetch ? { fetch: vaultFetch } : {}),
    },
    tenant,
  );
  const pool =
    o.pool ?? new PaillierKeyPool({ target: o.poolTarget ?? 4, worker: true, idleMs: 2000 });
  pool.start();
  const sessions = new SessionTable({
    max: o.maxSessions ?? 1000,
    ttlMs: o.sessionTtlMs ?? 60_000,
    now,
  });
  const service = new CosignerService({
    store,
    vault,
    pool,
    sessions,
    quotas: {
      wallet: new Quota({ perHour: o.keygenQuotaPerWallet ?? 10 }),
      client: new Quota({ perHour: o.keygenQuotaPerClient ?? 60 }),
      registrations: new Quota({ perHour: o.registrationQuotaPerClient ?? 20 }),
    },
    deposits: new DepositBudget({
      limit: o.vaultWalletLimit ?? 0,
      headroom: o.refreshHeadroom ?? 10,
      held: o.vaultWalletLimit ? await heldDeposits(store) : 0,
    }),
    metrics,
    log,
    limits: o.limits,
    ...(o.securityPolicy ? { securityPolicy: o.securityPolicy } : {}),
    now,
  });
  const app = await buildCosignerApp({
    service,
    store,
    metrics,
    tenant: tenantKeys,
    logger: log,
    ...(o.rateLimitPerMinute ? { rateLimitPerMinute: o.rateLimitPerMinute } : {}),
  });
  const pinger = new PingThread({
    seeds: vaultUrls,
    tenant: tenant.tenant,
    pingSecretKey: tenant.pingSecretKey,
    intervalMs: o.pingIntervalMs,
    ...(o.vaultTrust ? { trust: o.vaultTrust } : {}),
    metrics,
    log,
    attestClusterId: async () => (await vault.attestedClusterKeys()).keys.clusterId,
    onMembers: (urls) => vault.route.setMembers(urls),
    afterPing: () => service.retryPendingDeletions(),
  });
  if (o.pingIntervalMs > 0) pinger.start();
  return {
    app,
    service,
    store,
    vault,
    pool,
    tenantKeys,
    pinger,
    async close() {
      await pinger.stop();
      pool.stop();
      await app.close();
      await store.close();
      await tls?.close();
    },
  };
}
