import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solve } from '../../vdf/index.ts';
import { DevAttestationProvider, StorageBox } from '../enclave/index.ts';
import { type ClaimView, commandToJson } from '../machine/index.ts';
import {
  Claimant,
  Operator,
  Tenant,
  type TestWallet,
  testLimits,
} from '../node/actors.test-support.ts';
import { VaultNode } from '../node/vault-node.ts';
import { parseDepositReceipt, parseRelease, verifyDepositReceipt } from '../protocol/index.ts';
import { buildVaultApp } from './app.ts';

let dir: string;
let node: VaultNode;
let app: FastifyInstance;
let base: string;
const operator = new Operator();
const tenant = new Tenant('acme');
const policy = { group: 'rsa2048' as const, iterations: 64 };
const devAttestation = () =>
  new DevAttestationProvider({
    insecureDevAttestation: true,
    signingKey: randomBytes(32),
    warn: () => {},
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-http-'));
  node = await VaultNode.open({
    dataDir: dir,
    cipher: new StorageBox(randomBytes(32)),
    operatorKey: operator.publicKey,
    limits: { claimIntervalMs: 0 },
  });
  app = await buildVaultApp({
    backend: node,
    attestation: devAttestation(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await app.close();
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body !== undefined || raw ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
  return { status: res.status, json, text, headers: res.headers };
}

const bodyOf = commandToJson;

const cluster = () => node.publicKeys;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function registered() {
  const r = await call('POST', '/v1/tenants', bodyOf(operator.registerTenant(cluster(), tenant)));
  expect(r.status).toBe(201);
}

async function deposited(): Promise<TestWallet> {
  const wallet = tenant.newWallet();
  const r = await call('POST', '/v1/deposits', bodyOf(tenant.deposit(cluster(), wallet, policy)));
  expect(r.status).toBe(201);
  return wallet;
}

async function claimed(claimant: Claimant): Promise<ClaimView & { json: Record<string, string> }> {
  const nonce = await call('POST', `/v1/wallets/${hex(claimant.wallet.walletId)}/claim-nonce`);
  expect(nonce.status).toBe(200);
  const claim = claimant.claim(cluster(), Buffer.from(nonce.json.nonce, 'hex'));
  const r = await call('POST', '/v1/claims', bodyOf(claim));
  expect(r.status).toBe(201);
  const c = r.json.claim;
  return {
    ...c,
    claimId: Buffer.from(c.claimId, 'hex'),
    walletId: Buffer.from(c.walletId, 'hex'),
    ephemeralKey: Buffer.from(c.ephemeralKey, 'hex'),
    seed: Buffer.from(c.seed, 'hex'),
    json: c,
  };
}

/** A tenant-signed ping answering a fresh vault nonce. */
async function freshPing() {
  const pn = await call('POST', '/v1/tenants/acme/ping-nonce');
  expect(pn.status).toBe(200);
  return bodyOf(tenant.ping(cluster(), Buffer.from(pn.json.nonce, 'hex')));
}

/** Solves a claim's VDF challenge and submits the solution. */
async function submitSolution(claim: ClaimView & { json: Record<string, string> }) {
  const r = await solve({
    group: claim.group,
    seed: claim.seed,
    iterations: claim.iterations,
    workers: 'never',
  });
  return call('POST', `/v1/claims/${claim.json.claimId}/solution`, {
    y: hex(r.output),
    proof: hex(r.proof),
  });
}

describe('vault HTTP API on loopback', () => {
  it('serves attestation, health, metrics and the OpenAPI document', async () => {
    const att = await call('GET', `/v1/attestation?nonce=${'ab'.repeat(16)}`);
    expect(att.status).toBe(200);
    expect(att.json.insecure).toBe(true);
    expect(att.json.warning).toMatch(/INSECURE/);
    expect(att.json.cluster.clusterEncryptionKey).toBe(hex(cluster().clusterEncryptionKey));
    expect(Buffer.from(att.json.document, 'base64').length).toBeGreaterThan(64);
    expect((await call('GET', '/healthz')).json.status).toBe('ok');
    const docs = await call('GET', '/docs/json');
    expect(Object.keys(docs.json.paths)).toEqual(
      expect.arrayContaining(['/v1/deposits', '/v1/claims/{claimId}/solution', '/v1/pings']),
    );
    expect((await call('GET', `/v1/attestation?nonce=${'ab'.repeat(65)}`)).status).toBe(400);
  });

  it('runs the whole story: register, deposit, receipt, ping, claim, solve, release', async () => {
    await registered();
    const wallet = await deposited();
    const id = hex(wallet.walletId);

    const status = await call('GET', `/v1/wallets/${id}`);
    expect(status.json).toMatchObject({ tenant: 'acme', q2: hex(wallet.q2), released: false });
    const receipt = parseDepositReceipt(
      (await call('GET', `/v1/wallets/${id}/receipt`)).json.receipt,
    );
    expect(
      verifyDepositReceipt({
        clusterId: cluster().clusterId,
        receiptKey: cluster().receiptKey,
        receipt,
        expected: {
          walletId: wallet.walletId,
          scheme: 'ecdsa-2p-mult',
          q: wallet.q,
          q1: wallet.q1,
          q2: wallet.q2,
          policy,
        },
      }),
    ).toBe(true);

    const ping = await call('POST', '/v1/pings', await freshPing());
    expect(ping.status).toBe(200);

    const claimant = new Claimant(wallet);
    const claim = await claimed(claimant);
    expect(claim.status).toBe('live');
    const again = await call('GET', `/v1/claims/${claim.json.claimId}`);
    expect(again.json.seed).toBe(claim.json.seed);

    const sol = await submitSolution(claim);
    expect(sol.status).toBe(200);
    const release = parseRelease(sol.json.release);
    expect(claimant.openRelease(cluster(), claim, release)).toBe(wallet.x2);
    expect((await call('GET', `/v1/wallets/${id}`)).json.released).toBe(true);
  });

  it('lets a ping cancel a live claim, after which the solution is refused (P2)', async () => {
    const wallet = await deposited();
    const claim = await claimed(new Claimant(wallet));
    const ping = await call('POST', '/v1/pings', await freshPing());
    expect(ping.json.cancelledClaims).toContain(claim.json.claimId);
    const sol = await submitSolution(claim);
    expect(sol.status).toBe(409);
    expect(sol.json.error.code).toBe('CLAIM_NOT_LIVE');
  });

  it('answers a clock-gated solution sent before the delay with a 409 that says how long to wait', async () => {
    const gatedTenant = new Tenant('gated');
    const limits = { ...testLimits, kinds: ['clock-gated' as const, 'strict' as const] };
    const reg = bodyOf(operator.registerTenant(cluster(), gatedTenant, limits));
    expect((await call('POST', '/v1/tenants', reg)).status).toBe(201);
    const wallet = gatedTenant.newWallet();
    const gatedPolicy = { ...policy, kind: 'clock-gated' as const, delaySeconds: 600 };
    const dep = bodyOf(gatedTenant.deposit(cluster(), wallet, gatedPolicy));
    expect((await call('POST', '/v1/deposits', dep)).status).toBe(201);
    const claim = await claimed(new Claimant(wallet));
    expect(claim.releaseAfter).toBe(claim.quorumTime + 600_000);
    expect(claim.releasableInSeconds).toBe(600);
    const early = await submitSolution(claim);
    expect([early.status, early.json.error.code]).toEqual([409, 'CLOCK_NOT_REACHED']);
    const wait = early.json.error.retryAfterSeconds;
    expect(Number.isSafeInteger(wait) && wait >= 590 && wait <= 600).toBe(true);
    expect(early.headers.get('retry-after')).toBe(String(wait));
    // the status read says the same, in whole seconds at the vault's quorum time
    const view = (await call('GET', `/v1/claims/${claim.json.claimId}`)).json;
    expect(view.status).toBe('live');
    expect(view.releasableInSeconds).toBeLessThanOrEqual(wait);
    expect(view.releasableInSeconds).toBe(Math.ceil((view.releaseAfter - view.quorumTime) / 1000));
    const walletView = (await call('GET', `/v1/wallets/${hex(wallet.walletId)}`)).json;
    expect(walletView.liveClaim.releasableInSeconds).toBe(view.releasableInSeconds);
    // other refusals carry no wait
    const cancelled = await call('POST', `/v1/claims/${'00'.repeat(32)}/solution`, {
      y: '00'.repeat(256),
      proof: '00'.repeat(256),
    });
    expect(cancelled.json.error).not.toHaveProperty('retryAfterSeconds');
    expect(cancelled.headers.get('retry-after')).toBeNull();
  });

  it('rejects bad input with a stable JSON error and changes nothing', async () => {
    const wallet = await deposited();
    const id = hex(wallet.walletId);
    const live = await claimed(new Claimant(wallet));
    // The quorum clock commits a time entry about once a second, so the log index may move while
    // the cases run; what bad input could change (the wallet, its live claim) must not.
    const views = async () =>
      JSON.parse(
        JSON.stringify(
          [
            (await call('GET', `/v1/wallets/${id}`)).json,
            (await call('GET', `/v1/claims/${live.json.claimId}`)).json,
          ],
          (key, value) => (key === 'quorumTime' ? undefined : value), // the clock's own reading
        ),
      );
    const before = await views();
    const good = bodyOf(tenant.deposit(cluster(), tenant.newWallet(), policy)) as Record<
      string,
      unknown
    >;
    const notOnCurve = `02${'ff'.repeat(32)}`;
    const cases: Array<[string, string, unknown, number, string?]> = [
      ['GET', '/v1/wallets/xyz', undefined, 400, 'MALFORMED'],
      ['GET', `/v1/wallets/${'AB'.repeat(32)}`, undefined, 400, 'MALFORMED'],
      ['GET', `/v1/wallets/${'00'.repeat(32)}`, undefined, 404, 'WALLET_NOT_FOUND'],
      ['GET', `/v1/claims/${'00'.repeat(32)}`, undefined, 404, 'CLAIM_NOT_FOUND'],
      ['POST', '/v1/deposits', { ...good, q2: notOnCurve }, 400],
      ['POST', '/v1/deposits', { ...good, walletId: 'ab' }, 400, 'MALFORMED'],
      ['POST', '/v1/deposits', { ...good, extra: 1 }, 400, 'MALFORMED'],
      [
        'POST',
        '/v1/deposits',
        bodyOf(
          tenant.deposit(cluster(), tenant.newWallet(), { group: 'rsa2048', iterations: 10 ** 9 }),
        ),
        400,
        'POLICY_REJECTED',
      ],
      ['POST', '/v1/deposits', { ...good, policy: { group: 'rsa2048', iterations: 2 ** 53 } }, 400],
      ['POST', '/v1/deposits', { ...good, signature: '00'.repeat(64) }, 401],
      ['POST', '/v1/tenants/acme/ping-nonce/x', undefined, 404],
      [
        'POST',
        '/v1/claims',
        {
          walletId: id,
          ephemeralKey: '00'.repeat(32),
          claimNonce: '00'.repeat(32),
          proof: { r: hex(wallet.q1), s: '00'.repeat(32) },
        },
        400,
      ],
      [
        'POST',
        `/v1/claims/${'00'.repeat(32)}/solution`,
        { y: '11'.repeat(256), proof: '11'.repeat(256) },
        404,
        'CLAIM_NOT_FOUND',
      ],
      // y = 0 is no canonical element; a 255-byte y is no element at all; a wrong proof fails.
      [
        'POST',
        `/v1/claims/${live.json.claimId}/solution`,
        { y: '00'.repeat(256), proof: '11'.repeat(256) },
        400,
      ],
      [
        'POST',
        `/v1/claims/${live.json.claimId}/solution`,
        { y: '11'.repeat(255), proof: '11'.repeat(256) },
        400,
      ],
      [
        'POST',
        `/v1/claims/${live.json.claimId}/solution`,
        { y: '11'.repeat(256), proof: '11'.repeat(256) },
        400,
      ],
      [
        'POST',
        '/v1/pings',
        { tenant: 'acme', nonce: '00'.repeat(32), signature: '00'.repeat(64) },
        409,
        'PING_NONCE_INVALID',
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(method, path, body);
      expect({ path, status: r.status }).toEqual({ path, status });
      if (status !== 404 || code) expect(r.json?.error?.code).toEqual(code ?? expect.any(String));
    }
    const invalidJson = await call('POST', '/v1/deposits', undefined, '{"tenant":');
    expect(invalidJson.status).toBe(400);
    const huge = await call(
      'POST',
      '/v1/deposits',
      undefined,
      JSON.stringify({ pad: 'x'.repeat(70_000) }),
    );
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('BODY_TOO_LARGE');
    expect(await views()).toEqual(before);
    expect(node.machine.wallet(Buffer.from(good.walletId as string, 'hex'))).toBeNull();
  });

  it('rejects replays: the same deposit, ping and claim twice', async () => {
    const wallet = tenant.newWallet();
    const deposit = bodyOf(tenant.deposit(cluster(), wallet, policy));
    expect((await call('POST', '/v1/deposits', deposit)).status).toBe(201);
    expect((await call('POST', '/v1/deposits', deposit)).status).toBe(409);

    const ping = await freshPing();
    expect((await call('POST', '/v1/pings', ping)).status).toBe(200);
    const replayed = await call('POST', '/v1/pings', ping);
    expect(replayed.status).toBe(409);
    expect(replayed.json.error.code).toBe('PING_NONCE_INVALID');

    const claimant = new Claimant(wallet);
    const nonce = await call('POST', `/v1/wallets/${hex(wallet.walletId)}/claim-nonce`);
    const claim = bodyOf(claimant.claim(cluster(), Buffer.from(nonce.json.nonce, 'hex')));
    expect((await call('POST', '/v1/claims', claim)).status).toBe(201);
    const again = await call('POST', '/v1/claims', claim);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('CLAIM_NONCE_INVALID');
  });

  it('refuses a claim made with the wrong x1', async () => {
    const wallet = await deposited();
    const claimant = new Claimant(wallet);
    const nonce = await call('POST', `/v1/wallets/${hex(wallet.walletId)}/claim-nonce`);
    const forged = claimant.claim(cluster(), Buffer.from(nonce.json.nonce, 'hex'), wallet.x1 + 1n);
    const r = await call('POST', '/v1/claims', bodyOf(forged));
    expect(r.status).toBe(401);
    expect((await call('GET', `/v1/wallets/${hex(wallet.walletId)}`)).json.liveClaim).toBeNull();
  });

  it("deletes a deposit on the tenant's signed request, and only then", async () => {
    const wallet = await deposited();
    const id = hex(wallet.walletId);
    const stranger = new Tenant('acme', 1_000_000);
    const forged = await call(
      'POST',
      '/v1/deletions',
      bodyOf(stranger.deletion(cluster(), wallet.walletId)),
    );
    expect(forged.status).toBe(401);
    expect((await call('GET', `/v1/wallets/${id}`)).status).toBe(200);
    const r = await call(
      'POST',
      '/v1/deletions',
      bodyOf(tenant.deletion(cluster(), wallet.walletId)),
    );
    expect(r.status).toBe(200);
    expect(r.json.walletId).toBe(id);
    expect((await call('GET', `/v1/wallets/${id}`)).status).toBe(404);
  });

  it('counts commands in Prometheus metrics', async () => {
    const m = await call('GET', '/metrics');
    expect(m.text).toMatch(/vigil_vault_commands_total\{type="deposit",outcome="ok"\} \d+/);
    expect(m.text).toMatch(/vigil_vault_command_seconds_bucket/);
  });
});

describe('the benchmark raw put route', () => {
  async function benchApp(benchPut?: (p: Uint8Array) => Promise<void>) {
    const a = await buildVaultApp({
      backend: node,
      attestation: devAttestation(),
      rateLimitPerMinute: 2,
      cluster: {
        status: () => ({ role: 'leader' }),
        members: () => ({ members: [], leaderUrl: null }),
        join: async () => ({}),
        registerMetrics: () => {},
        ...(benchPut ? { benchPut } : {}),
      },
    });
    return a;
  }
  const post = (a: FastifyInstance, type: string, payload: Buffer | string) =>
    a.inject({ method: 'POST', url: '/bench/put', headers: { 'content-type': type }, payload });

  it('takes a binary body, unthrottled, answers 204 only after the put resolves', async () => {
    const seen: Buffer[] = [];
    const a = await benchApp(async (p) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(Buffer.from(p));
    });
    const payloads = Array.from({ length: 5 }, () => randomBytes(256));
    for (const p of payloads) {
      const r = await post(a, 'application/octet-stream', p);
      expect(r.statusCode).toBe(204); // 5 requests past a limit of 2 per minute
      expect(r.body).toBe('');
    }
    expect(seen).toEqual(payloads);
    await a.close();
  });

  it('refuses empty, oversized and non-binary bodies with JSON errors, and the route stays scoped', async () => {
    let calls = 0;
    const a = await benchApp(async () => {
      calls += 1;
    });
    const empty = await post(a, 'application/octet-stream', Buffer.alloc(0));
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('MALFORMED');
    const big = await post(a, 'application/octet-stream', randomBytes(1025));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const json = await post(a, 'application/json', JSON.stringify({ payload: 'ab' }));
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe('MALFORMED');
    // the octet-stream parser exists only in the bench route's scope
    const other = await a.inject({
      method: 'POST',
      url: '/v1/pings',
      headers: { 'content-type': 'application/octet-stream' },
      payload: randomBytes(16),
    });
    expect(other.statusCode).toBe(415);
    expect(calls).toBe(0);
    await a.close();
  });

  it('does not exist unless the cluster offers it', async () => {
    const a = await benchApp();
    expect((await post(a, 'application/octet-stream', randomBytes(8))).statusCode).toBe(404);
    await a.close();
  });
});
