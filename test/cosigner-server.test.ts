/**
 * The cosigner over real HTTP on loopback against a real vault node (in-process VaultNode with
 * its HTTP API and dev attestation): register → keygen (the vault holds x2) → sign (checked by
 * node:crypto) → pings cancel a live claim → refresh keeps Q and the vault follows; bad input gets
 * stable 4xx codes; a locked key stays locked across a restart; the audit chain verifies.
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_COUNTER_HEADER,
  AUTH_SIGNATURE_HEADER,
  type ClientKeyShare,
  type ClientSetup,
  ClientSigner,
  type Cosigner,
  CosignerClient,
  type EcdsaKeygenResult,
  openCosigner,
  protocolSessionId,
  requestBytes,
  verifyAuditChain,
  verifyKeyDeposit,
} from '../cosigner/index.ts';
import {
  buildVaultApp,
  claimToJson,
  DevAttestationProvider,
  DevAttestationVerifier,
  KeyFileSealer,
  makeClaim,
  StorageBox,
  scalarToBytes,
  signTenantRegistration,
  tenantRegistrationToJson,
  VaultNode,
  x25519PublicKey,
} from '../vault/index.ts';
import {
  checkAgainst,
  type OpenApiDoc,
  recordingFetch,
  type Seen,
} from './support/api-contract.ts';
import { errorOf, smallClientSetup } from './support/cosigner.ts';

const rng = (n: number) => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const securityPolicy = { paillierBits: 2048, ringPedersenBits: 1024 };
const walletPolicy = { group: 'rsa2048' as const, iterations: 64 };
const limits = {
  groups: ['rsa2048', 'class1024'] as const,
  minIterations: 16,
  maxIterations: 5000,
};

let dir: string;
let node: VaultNode;
let vaultApp: FastifyInstance;
let vaultUrl: string;
let devKey: Uint8Array;
let cosigner: Cosigner;
let base: string;
const operatorKey = schnorr.utils.randomSecretKey();
let setup: ClientSetup;

async function startCosigner(): Promise<void> {
  const provider = new DevAttestationProvider({
    insecureDevAttestation: true,
    signingKey: devKey,
    warn: () => {},
  });
  cosigner = await openCosigner({
    dataDir: join(dir, 'cosigner'),
    sealer: new KeyFileSealer({ path: join(dir, 'cosigner.key') }),
    vaultUrl,
    verifier: new DevAttestationVerifier({
      insecureDevAttestation: true,
      trustedKeys: [provider.publicKey],
      warn: () => {},
    }),
    tenant: 'acme-wallets',
    pingIntervalMs: 0,
    limits,
    poolTarget: 1,
    securityPolicy,
  });
  await cosigner.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(cosigner.app.server.address() as { port: number }).port}`;
}

async function vault(method: string, path: string, body?: unknown) {
  const res = await fetch(`${vaultUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function registerTenant(t: Cosigner['tenantKeys']): Promise<void> {
  const registration = signTenantRegistration(
    node.publicKeys.clusterId,
    {
      tenant: t.tenant,
      tenantKey: Buffer.from(t.tenantKey, 'hex'),
      pingKey: Buffer.from(t.pingKey, 'hex'),
      limits: {
        groups: ['class1024', 'rsa2048'],
        minIterations: 16,
        maxIterations: 5000,
        maxWallets: 100,
        maxClaims: 8,
      },
    },
    operatorKey,
    rng(32),
  );
  expect((await vault('POST', '/v1/tenants', tenantRegistrationToJson(registration))).status).toBe(
    201,
  );
}

/** Every answer of the cosigner in this file, checked against its OpenAPI document at the end. */
const seen: Seen[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  globalThis.fetch = recordingFetch(
    seen,
    realFetch,
    (u) => base !== undefined && u.origin === base,
  );
  dir = await mkdtemp(join(tmpdir(), 'vigil-cosigner-'));
  devKey = rng(32);
  node = await VaultNode.open({
    dataDir: join(dir, 'vault'),
    cipher: new StorageBox(rng(32)),
    operatorKey: schnorr.getPublicKey(operatorKey),
    limits: { claimIntervalMs: 0 },
  });
  vaultApp = await buildVaultApp({
    backend: node,
    attestation: new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: devKey,
      warn: () => {},
    }),
  });
  await vaultApp.listen({ host: '127.0.0.1', port: 0 });
  vaultUrl = `http://127.0.0.1:${(vaultApp.server.address() as { port: number }).port}`;
  await startCosigner();
  await registerTenant(cosigner.tenantKeys);
  setup = smallClientSetup();
}, 60_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await cosigner?.close();
  await vaultApp?.close();
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

const newClient = (
  authSecretKey: Uint8Array = schnorr.utils.randomSecretKey(),
  scheme?: 'musig2',
) =>
  CosignerClient.register({
    baseUrl: base,
    authSecretKey,
    policy: walletPolicy,
    securityPolicy,
    ...(scheme ? { scheme } : {}),
  });

function nodeVerifies(publicKey: string, message: Buffer, r: bigint, s: bigint): boolean {
  const p = secp256k1.Point.fromHex(publicKey);
  const b64 = (n: bigint) =>
    Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'secp256k1', x: b64(p.x), y: b64(p.y) },
    format: 'jwk',
  });
  const sig = Buffer.concat([
    Buffer.from(r.toString(16).padStart(64, '0'), 'hex'),
    Buffer.from(s.toString(16).padStart(64, '0'), 'hex'),
  ]);
  return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, sig);
}

describe('cosigner server against a vault node', () => {
  let client: CosignerClient;
  let kg: EcdsaKeygenResult;
  let share: ClientKeyShare;

  it('registers, runs keygen, and the vault holds x2 under the wallet policy', async () => {
    clientKey = schnorr.utils.randomSecretKey();
    client = await newClient(clientKey);
    kg = await client.keygen(setup);
    share = kg.share;
    expect(verifyKeyDeposit(kg.key, 'ecdsa-2p', walletPolicy)).toBe(true);
    // The vault's own view agrees: Q, Q1, Q2 and the policy of this share generation.
    const w = await vault('GET', `/v1/wallets/${kg.key.vault.vaultWalletId}`);
    expect(w.status).toBe(200);
    expect(w.json).toMatchObject({ q: kg.key.q, q1: kg.key.q1, q2: kg.key.q2, scheme: 'additive' });
    expect(w.json.policy).toEqual(walletPolicy);
    const status = await client.status();
    expect(status).toMatchObject({ state: 'active', locked: false, key: { q: kg.key.q } });
    // A receipt for other keys does not verify.
    expect(verifyKeyDeposit({ ...kg.key, q1: kg.key.q2 }, 'ecdsa-2p', walletPolicy)).toBe(false);
  }, 60_000);

  it('signs; node:crypto (OpenSSL) verifies the signature, also on a derived child', async () => {
    const message = Buffer.from('pay 1 BTC to bob');
    const hash = createHash('sha256').update(message).digest();
    const sig = await client.signEcdsa({ share, messageHash: hash });
    expect(nodeVerifies(kg.key.q, message, sig.r, sig.s)).toBe(true);
    const child = await client.derive([0, 7]);
    const sig2 = await client.signEcdsa({ share, messageHash: hash, path: [0, 7] });
    expect(nodeVerifies(child.publicKey, message, sig2.r, sig2.s)).toBe(true);
    expect(nodeVerifies(kg.key.q, message, sig2.r, sig2.s)).toBe(false);
  }, 30_000);

  it('pings reach the vault and cancel a live claim', async () => {
    const vaultWalletId = kg.key.vault.vaultWalletId;
    const nonce = await vault('POST', `/v1/wallets/${vaultWalletId}/claim-nonce`);
    const eph = rng(32);
    const claim = makeClaim({
      clusterId: node.publicKeys.clusterId,
      walletId: Buffer.from(vaultWalletId, 'hex'),
      ephemeralKey: x25519PublicKey(eph),
      claimNonce: Buffer.from(nonce.json.nonce as string, 'hex'),
      x1: scalarToBytes(share.xClient),
      q1: Buffer.from(kg.key.q1, 'hex'),
      aux: rng(32),
    });
    const c = await vault('POST', '/v1/claims', claimToJson(claim));
    expect(c.status).toBe(201);
    const claimId = (c.json.claim as { claimId: string }).claimId;
    const cancelled = await cosigner.vault.ping();
    expect(cancelled).toContain(claimId);
    const after = await vault('GET', `/v1/claims/${claimId}`);
    expect(after.json.status).not.toBe('live');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/vigil_cosigner_pings_total\{outcome="ok"\} 1/);
    // The loop: pings on its own at the configured interval and records the last success.
    cosigner.pinger.start(30);
    const countOk = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(/vigil_cosigner_pings_total\{outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 100 && (await countOk()) < 3; i++)
      await new Promise((r) => setTimeout(r, 30));
    await cosigner.pinger.stop();
    expect(await countOk()).toBeGreaterThanOrEqual(3);
    const gauge = /vigil_cosigner_vault_last_ping_success_seconds (\d+)/.exec(
      await (await fetch(`${base}/metrics`)).text(),
    );
    expect(Number(gauge?.[1])).toBeGreaterThan(Date.now() / 1000 - 60);
  }, 30_000);

  it('serves health, OpenAPI with every route, and its tenant keys', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const doc = (await (await fetch(`${base}/docs/json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const p of [
      '/v1/wallets',
      '/v1/wallets/{walletId}/keygen',
      '/v1/wallets/{walletId}/sign/{sessionId}/finish',
      '/v1/wallets/{walletId}/refresh/{sessionId}/open',
      '/v1/wallets/{walletId}/derive',
    ]) {
      expect(doc.paths).toHaveProperty([p]);
    }
    const t = (await (await fetch(`${base}/v1/tenant`)).json()) as Record<string, string>;
    expect(t).toEqual(cosigner.tenantKeys);
  });

  it('refresh keeps Q; the vault holds the new share and the old deposit is deleted', async () => {
    const old = kg.key;
    const r = await client.refresh({ share, setup });
    expect(r.key.q).toBe(old.q);
    expect(r.key.q2).not.toBe(old.q2);
    expect(r.key.generation).toBe(2);
    expect(r.key.vault.vaultWalletId).not.toBe(old.vault.vaultWalletId);
    expect(verifyKeyDeposit(r.key, 'ecdsa-2p', walletPolicy)).toBe(true);
    expect((await vault('GET', `/v1/wallets/${r.key.vault.vaultWalletId}`)).json.q2).toBe(r.key.q2);
    expect((await vault('GET', `/v1/wallets/${old.vault.vaultWalletId}`)).status).toBe(404);
    expect((await cosigner.store.wallet(client.walletId))?.pendingDeletions).toEqual([]);
    share = r.share;
    kg = r;
    const hash = createHash('sha256').update('after refresh').digest();
    const sig = await client.signEcdsa({ share, messageHash: hash });
    expect(nodeVerifies(old.q, Buffer.from('after refresh'), sig.r, sig.s)).toBe(true);
  }, 60_000);

  it('rejects bad signatures, replays, oversized bodies, wrong sessions with stable codes', async () => {
    const path = `/v1/wallets/${client.walletId}`;
    const unsigned = await fetch(`${base}${path}`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe(
      'COSIGNER_UNAUTHORIZED',
    );
    // A request signed by another key.
    const stranger = new CosignerClient({
      baseUrl: base,
      walletId: client.walletId,
      authSecretKey: schnorr.utils.randomSecretKey(),
    });
    expect(await errorOf(stranger.status())).toEqual({
      status: 401,
      code: 'COSIGNER_UNAUTHORIZED',
    });
    // A replayed request: the same counter and signature, sent twice.
    const key = schnorr.utils.randomSecretKey();
    const other = await newClient(key);
    const counter = Date.now() * 1000 + 10_000_000;
    const headers = {
      [AUTH_COUNTER_HEADER]: String(counter),
      [AUTH_SIGNATURE_HEADER]: hex(
        schnorr.sign(
          requestBytes({
            method: 'GET',
            path: `/v1/wallets/${other.walletId}`,
            walletId: other.walletId,
            counter,
            body: '',
          }),
          key,
          rng(32),
        ),
      ),
    };
    const first = await fetch(`${base}/v1/wallets/${other.walletId}`, { headers });
    expect(first.status).toBe(200);
    const again = await fetch(`${base}/v1/wallets/${other.walletId}`, { headers });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe(
      'COSIGNER_REPLAYED',
    );
    // Oversized body: refused before parsing.
    const big = await fetch(`${base}${path}/derive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: [], pad: 'x'.repeat(300_000) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe(
      'COSIGNER_BODY_TOO_LARGE',
    );
    // An over-long path parameter: a 414 JSON error, not fastify's own body.
    const long = await fetch(`${base}/v1/wallets/${'ab'.repeat(400)}`, { headers });
    expect(long.status).toBe(414);
    expect(((await long.json()) as { error: { code: string } }).error.code).toBe(
      'COSIGNER_URL_TOO_LONG',
    );
    // A message for a session that does not exist.
    expect(
      await errorOf(client.call('POST', `/sign/${hex(rng(32))}/finish`, { message: {} })),
    ).toEqual({ status: 404, code: 'COSIGNER_SESSION_NOT_FOUND' });
    // Schema violations and protocol-level garbage.
    expect(await errorOf(client.call('POST', '/derive', { path: [-1] }))).toEqual({
      status: 400,
      code: 'COSIGNER_MALFORMED',
    });
    expect(
      await errorOf(
        client.call('POST', '/sign', {
          sessionId: hex(rng(32)),
          messageHash: hex(rng(32)),
          path: [],
          message: { commitment: 'zz' },
        }),
      ),
    ).toEqual({ status: 400, code: 'COSIGNER_MALFORMED' });
    expect(await errorOf(client.keygen(setup))).toEqual({ status: 409, code: 'COSIGNER_CONFLICT' });
    expect(await errorOf(client.derive([0x80000000]))).toEqual({
      status: 400,
      code: 'COSIGNER_UNSUPPORTED',
    });
  }, 30_000);

  it('MuSig2 wallet: keygen deposits under musig2, the joint BIP-340 signature verifies', async () => {
    const m = await newClient(undefined, 'musig2');
    const { secretKey, key } = await m.keygenMusig();
    expect(verifyKeyDeposit(key, 'musig2', walletPolicy)).toBe(true);
    const msg = rng(32);
    const sig = await m.signMusig({ secretKey, key, message: msg, path: [1] });
    const derived = await m.derive([1]);
    expect(schnorr.verify(sig, msg, Buffer.from(derived.xOnly as string, 'hex'))).toBe(true);
  }, 30_000);

  it('a failed final signature locks the key, on disk, across a restart', async () => {
    const victimKey = schnorr.utils.randomSecretKey();
    const victim = await newClient(victimKey);
    const { share: s } = await victim.keygen(setup);
    const hash = rng(32);
    const sessionId = rng(32);
    const signer = new ClientSigner({
      sessionId: protocolSessionId(victim.walletId, 'sign', sessionId),
      share: s,
      messageHash: hash,
      rng,
    });
    const m2 = await victim.call<{ message: unknown }>('POST', '/sign', {
      sessionId: hex(sessionId),
      messageHash: hex(hash),
      path: [],
      message: signer.start(),
    });
    const m3 = signer.finish(m2.message);
    // The abort-oracle attacker shifts the plaintext of c3 by one: c3·(1+N) mod N².
    const n2 = s.paillierN * s.paillierN;
    const c3 = (BigInt(`0x${m3.c3}`) * (1n + s.paillierN)) % n2;
    expect(
      await errorOf(
        victim.call('POST', `/sign/${hex(sessionId)}/finish`, {
          message: { ...m3, c3: c3.toString(16) },
        }),
      ),
    ).toEqual({ status: 422, code: 'COSIGNER_SIGNATURE_FAILED' });
    expect(await errorOf(victim.signEcdsa({ share: s, messageHash: hash }))).toEqual({
      status: 423,
      code: 'COSIGNER_KEY_LOCKED',
    });
    // nor can it be refreshed (that would take a pooled Paillier key and a vault deposit)
    expect(
      await errorOf(victim.call('POST', '/refresh', { sessionId: hex(rng(32)), message: {} })),
    ).toEqual({ status: 423, code: 'COSIGNER_KEY_LOCKED' });

    await cosigner.close();
    await startCosigner();
    const reopened = new CosignerClient({
      baseUrl: base,
      walletId: victim.walletId,
      authSecretKey: victimKey,
    });
    expect(await errorOf(reopened.signEcdsa({ share: s, messageHash: hash }))).toEqual({
      status: 423,
      code: 'COSIGNER_KEY_LOCKED',
    });
    const st = await cosigner.store.wallet(victim.walletId);
    expect(st?.locked).toBe(true);
    expect(st?.key).toBeDefined();
    // The other wallet survived the restart and still signs.
    const sig = await new CosignerClient({
      baseUrl: base,
      walletId: client.walletId,
      authSecretKey: clientKey,
    }).signEcdsa({ share, messageHash: hash });
    expect(sig.s).toBeGreaterThan(0n);
  }, 60_000);

  it('the audit chain verifies and detects tampering', async () => {
    const records = await cosigner.store.audit(client.walletId);
    expect(records.map((r) => r.event)).toEqual(
      expect.arrayContaining([
        'registered',
        'keygen',
        'vault-deposit',
        'sign',
        'refresh',
        'vault-delete',
      ]),
    );
    expect(verifyAuditChain(client.walletId, records)).toBe(-1);
    const edited = records.map((r, i) => (i === 2 ? { ...r, time: r.time + 1 } : r));
    expect(verifyAuditChain(client.walletId, edited)).toBe(2);
    const dropped = records.filter((_, i) => i !== 1);
    expect(verifyAuditChain(client.walletId, dropped)).toBe(1);
    // Tampering on disk shows up through the store as well.
    const key = `audit/${client.walletId}/${'3'.padStart(12, '0')}`;
    const raw = (await cosigner.store.rawGet(key)) as Uint8Array;
    const rec = JSON.parse(Buffer.from(raw).toString());
    rec.event = 'nothing-happened';
    await cosigner.store.rawPut(key, Buffer.from(JSON.stringify(rec)));
    expect(verifyAuditChain(client.walletId, await cosigner.store.audit(client.walletId))).toBe(3);
  });

  it('stores no secret in plaintext', async () => {
    const w = await cosigner.store.wallet(client.walletId);
    const xServer = (w?.key?.share as { xServer: string } | undefined)?.xServer ?? '';
    expect(xServer).toMatch(/^[0-9a-f]{64}$/);
    const raw = Buffer.from(
      (await cosigner.store.rawGet(`wallet/${client.walletId}`)) as Uint8Array,
    );
    expect(raw.includes(Buffer.from(xServer))).toBe(false);
    expect(raw.includes(Buffer.from(xServer, 'hex'))).toBe(false);
  });
  it('answered only with statuses and bodies its OpenAPI document declares', async () => {
    const doc = (await (await realFetch(`${base}/docs/json`)).json()) as OpenApiDoc;
    const big = await fetch(`${base}/v1/wallets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(300_000) }),
    });
    expect(big.status).toBe(413);
    await fetch(`${base}/v1/tenant`);
    await (await newClient()).call('GET', '/audit'); // (the cosigner restarted: a new client)
    const { problems, statuses } = checkAgainst(doc, seen);
    expect(problems).toEqual([]);
    expect(seen.length).toBeGreaterThan(30);
    expect(statuses('GET /v1/tenant')).toEqual([200]);
    expect(statuses('POST /v1/wallets')).toContain(201);
    expect(statuses('POST /v1/wallets')).toContain(413);
    for (const [route, ok] of [
      ['GET /v1/wallets/{walletId}', 200],
      ['GET /v1/wallets/{walletId}/audit', 200],
      ['POST /v1/wallets/{walletId}/keygen', 200],
      ['POST /v1/wallets/{walletId}/keygen/{sessionId}/finish', 200],
      ['POST /v1/wallets/{walletId}/keygen-musig2', 200],
      ['POST /v1/wallets/{walletId}/sign', 200],
      ['POST /v1/wallets/{walletId}/sign/{sessionId}/finish', 200],
      ['POST /v1/wallets/{walletId}/sign-musig2', 200],
      ['POST /v1/wallets/{walletId}/refresh', 200],
      ['POST /v1/wallets/{walletId}/refresh/{sessionId}/open', 200],
      ['POST /v1/wallets/{walletId}/refresh/{sessionId}/finish', 200],
      ['POST /v1/wallets/{walletId}/derive', 200],
    ] as const) {
      expect(statuses(route), route).toContain(ok);
    }
    // the error answers the tests above provoke were declared too (problems is empty)
    expect(seen.filter((s) => s.status >= 400).length).toBeGreaterThan(5);
  }, 30_000);
});

let clientKey: Uint8Array = new Uint8Array(32);

describe('cosigner against a vault it must not trust', () => {
  const open = (name: string, extra: Partial<Parameters<typeof openCosigner>[0]>) =>
    openCosigner({
      dataDir: join(dir, name),
      sealer: new KeyFileSealer({ path: join(dir, `${name}.key`) }),
      vaultUrl,
      verifier: new DevAttestationVerifier({
        insecureDevAttestation: true,
        trustedKeys: [
          new DevAttestationProvider({
            insecureDevAttestation: true,
            signingKey: devKey,
            warn: () => {},
          }).publicKey,
        ],
        warn: () => {},
      }),
      tenant: 'acme-wallets',
      pingIntervalMs: 0,
      limits,
      poolTarget: 1, // the worker makes it; the client waits for it (503 COSIGNER_POOL_EMPTY)
      securityPolicy,
      ...extra,
    });

  it('refuses an attestation signed by an unpinned key', async () => {
    const c = await open('unpinned', {
      verifier: new DevAttestationVerifier({
        insecureDevAttestation: true,
        trustedKeys: [rng(32)],
        warn: () => {},
      }),
    });
    try {
      await expect(c.vault.attestedClusterKeys()).rejects.toMatchObject({
        code: 'COSIGNER_ATTESTATION_FAILED',
      });
    } finally {
      await c.close();
    }
  });

  it('refuses cluster keys the attestation does not bind (a substituted encryption key)', async () => {
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('/v1/attestation')) return res;
      const body = (await res.json()) as { cluster: Record<string, string> };
      body.cluster.clusterEncryptionKey = hex(rng(32));
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const c = await open('substituted', { vaultFetch: tampering });
    try {
      await expect(c.vault.attestedClusterKeys()).rejects.toMatchObject({
        code: 'COSIGNER_ATTESTATION_FAILED',
      });
      // The honest route still works with the same verifier.
      const honest = await open('honest', {});
      try {
        const { keys } = await honest.vault.attestedClusterKeys();
        expect(hex(keys.clusterId)).toBe(hex(node.publicKeys.clusterId));
      } finally {
        await honest.close();
      }
    } finally {
      await c.close();
    }
  });

  it('a keygen whose deposit cannot reach the vault fails with 502 and leaves no key', async () => {
    const c = await open('unreachable', { vaultUrl: 'http://127.0.0.1:1' });
    try {
      await c.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(c.app.server.address() as { port: number }).port}`;
      const client = await CosignerClient.register({
        baseUrl: url,
        authSecretKey: schnorr.utils.randomSecretKey(),
        policy: walletPolicy,
        securityPolicy,
      });
      expect(await errorOf(client.keygen(setup))).toEqual({
        status: 502,
        code: 'COSIGNER_VAULT_UNAVAILABLE',
      });
      expect(await client.status()).toMatchObject({ state: 'registered' });
      // The intended deposit id stays listed for deletion in case the vault did commit it.
      expect((await c.store.wallet(client.walletId))?.pendingDeletions).toHaveLength(1);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
        /vigil_cosigner_vault_unreachable_total [1-9]/,
      );
    } finally {
      await c.close();
    }
  }, 30_000);

  it('a deposit whose reply is lost leaves no orphan: the retry deletes it', async () => {
    let dropReply = true;
    let orphan = '';
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith('/v1/deposits') && dropReply) {
        const body = (await res.json()) as { receipt: { walletId: string } };
        orphan = body.receipt.walletId;
        throw new TypeError('connection reset');
      }
      return res;
    };
    const c = await open('lossy', { tenant: 'lossy-wallets', vaultFetch: lossy });
    try {
      await registerTenant(c.tenantKeys);
      await c.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(c.app.server.address() as { port: number }).port}`;
      const client = await CosignerClient.register({
        baseUrl: url,
        authSecretKey: schnorr.utils.randomSecretKey(),
        policy: walletPolicy,
        securityPolicy,
      });
      expect(await errorOf(client.keygen(setup))).toEqual({
        status: 502,
        code: 'COSIGNER_VAULT_UNAVAILABLE',
      });
      expect((await vault('GET', `/v1/wallets/${orphan}`)).status).toBe(200);
      dropReply = false;
      await c.service.retryPendingDeletions();
      expect((await vault('GET', `/v1/wallets/${orphan}`)).status).toBe(404);
      expect((await c.store.wallet(client.walletId))?.pendingDeletions).toEqual([]);
      // And the wallet can still get its key.
      const kg = await client.keygen(setup);
      expect(verifyKeyDeposit(kg.key, 'ecdsa-2p', walletPolicy)).toBe(true);
    } finally {
      await c.close();
    }
  }, 30_000);
});
