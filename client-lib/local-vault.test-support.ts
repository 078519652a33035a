/**
 * For tests: a real vault node (LevelDB, dev attestation) behind its real HTTP API on loopback,
 * with an operator and a wallet provider (tenant) that deposit and ping through the public
 * protocol helpers, exactly as the cosigner does. Produces wallets as the client holds them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  buildVaultApp,
  CURVE_ORDER,
  combinePublic,
  type DepositPolicy,
  DevAttestationProvider,
  depositToJson,
  encodePoint,
  makeDeposit,
  Point,
  parseDepositReceipt,
  pingToJson,
  type Scheme,
  StorageBox,
  scalarToBytes,
  signPing,
  signTenantRegistration,
  tenantRegistrationToJson,
  VaultNode,
} from '../vault/index.ts';
import type { Wallet } from './wallet.ts';

export interface LocalVault {
  url: string;
  devKey: Uint8Array;
  node: VaultNode;
  /** A deposited wallet of `scheme`, plus x2 (for assertions only). */
  deposit(scheme: Scheme, policy?: DepositPolicy): Promise<{ wallet: Wallet; x2: bigint }>;
  ping(): Promise<string[]>;
  /** Registers another wallet provider (e.g. a real cosigner's tenant keys, x-only hex). */
  registerTenant(tenant: string, tenantKey: string, pingKey: string): Promise<void>;
  /** Stops the node and opens it again from its disk on the same port (a new epoch). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function randomScalar(): bigint {
  for (;;) {
    const s = BigInt(`0x${randomBytes(32).toString('hex')}`);
    if (s > 0n && s < CURVE_ORDER) return s;
  }
}

async function post(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function startLocalVault(
  opts: { maxIterations?: number; defaultIterations?: number } = {},
): Promise<LocalVault> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-client-vault-'));
  const operatorKey = schnorr.utils.randomSecretKey();
  const tenantKey = schnorr.utils.randomSecretKey();
  const pingKey = schnorr.utils.randomSecretKey();
  const storageKey = randomBytes(32);
  const signingKey = randomBytes(32);
  const open = async (port: number) => {
    const n = await VaultNode.open({
      dataDir: dir,
      cipher: new StorageBox(storageKey),
      operatorKey: schnorr.getPublicKey(operatorKey),
      limits: { claimIntervalMs: 0 },
    });
    const a = await buildVaultApp({
      backend: n,
      attestation: new DevAttestationProvider({
        insecureDevAttestation: true,
        signingKey,
        warn: () => {},
      }),
    });
    await a.listen({ host: '127.0.0.1', port });
    return { n, a };
  };
  let { n: node, a: app } = await open(0);
  const port = (app.server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const keys = node.publicKeys;
  const tenant = 'acme';
  const register = (name: string, tenantPublic: Uint8Array, pingPublic: Uint8Array) =>
    post(
      `${url}/v1/tenants`,
      tenantRegistrationToJson(
        signTenantRegistration(
          keys.clusterId,
          {
            tenant: name,
            tenantKey: tenantPublic,
            pingKey: pingPublic,
            limits: {
              groups: ['class1024', 'rsa2048'],
              kinds: ['clock-gated', 'strict'],
              minIterations: 16,
              maxIterations: opts.maxIterations ?? 5_000_000,
              maxWallets: 1000,
              maxClaims: 100,
            },
          },
          operatorKey,
          randomBytes(32),
        ),
      ),
    );
  await register(tenant, schnorr.getPublicKey(tenantKey), schnorr.getPublicKey(pingKey));
  let seq = 0;
  const result: LocalVault = {
    url,
    devKey: ed25519.getPublicKey(signingKey),
    node,
    async deposit(scheme, policy = { group: 'rsa2048', iterations: opts.defaultIterations ?? 64 }) {
      const x1 = randomScalar();
      const x2 = randomScalar();
      const q1 = encodePoint(Point.BASE.multiply(x1));
      const q2 = encodePoint(Point.BASE.multiply(x2));
      const q =
        scheme === 'ecdsa-2p-mult'
          ? encodePoint(Point.BASE.multiply((x1 * x2) % CURVE_ORDER))
          : combinePublic(scheme, q1, q2);
      const walletId = new Uint8Array(randomBytes(32));
      seq += 1;
      const deposit = makeDeposit({
        clusterId: keys.clusterId,
        clusterKey: keys.clusterEncryptionKey,
        deposit: { tenant, seq, walletId, scheme, q, q1, q2, policy },
        x2: scalarToBytes(x2),
        tenantSecretKey: tenantKey,
        senderSecret: randomBytes(32),
        aux: randomBytes(32),
      });
      const r = await post(`${url}/v1/deposits`, depositToJson(deposit));
      const wallet: Wallet = {
        walletId,
        scheme,
        x1: scalarToBytes(x1),
        q,
        q1,
        q2,
        policy,
        vaultUrls: [url],
        cluster: {
          clusterId: keys.clusterId,
          clusterEncryptionKey: keys.clusterEncryptionKey,
          receiptKey: keys.receiptKey,
        },
        attestation: { kind: 'insecure-dev', devKeys: [ed25519.getPublicKey(signingKey)] },
        receipt: parseDepositReceipt(r.receipt),
        cosigner: null,
      };
      return { wallet, x2 };
    },
    async ping() {
      const n = await post(`${url}/v1/tenants/${tenant}/ping-nonce`);
      const nonce = new Uint8Array(Buffer.from(n.nonce as string, 'hex'));
      const ping = signPing(keys.clusterId, { tenant, nonce }, pingKey, randomBytes(32));
      const r = await post(`${url}/v1/pings`, pingToJson(ping));
      return r.cancelledClaims as string[];
    },
    async registerTenant(name, tenantPublic, pingPublic) {
      await register(
        name,
        new Uint8Array(Buffer.from(tenantPublic, 'hex')),
        new Uint8Array(Buffer.from(pingPublic, 'hex')),
      );
    },
    async restart() {
      await app.close();
      await node.close();
      ({ n: node, a: app } = await open(port));
      result.node = node;
    },
    async close() {
      await app.close();
      await node.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return result;
}
