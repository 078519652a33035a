/**
 * Issue 11, item 1: junk keygens must not drain or stall the cosigner. A first message is
 * accepted (parsed, Πprm verified) before a pooled Paillier key is taken; an empty pool answers
 * 503 with Retry-After instead of making a key on the request path; keygen and refresh starts are
 * bounded per wallet and per client address (429). Over real HTTP on loopback; no vault is needed
 * because nothing here gets as far as a deposit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientKeygen,
  type ClientSetup,
  type Cosigner,
  CosignerClient,
  CosignerHttpError,
  type CosignerOptions,
  openCosigner,
  PaillierKeyPool,
  protocolSessionId,
} from '../cosigner/index.ts';
import { DevAttestationVerifier, KeyFileSealer } from '../vault/index.ts';
import { rng, securityPolicy, smallClientSetup } from './support/cosigner.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const walletPolicy = { group: 'rsa2048' as const, iterations: 64 };

let dir: string;
let setup: ClientSetup;
const opened: Cosigner[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-keygen-abuse-'));
  setup = smallClientSetup();
}, 60_000);

afterAll(async () => {
  for (const c of opened) await c.close();
  await rm(dir, { recursive: true, force: true });
});

/** A cosigner whose pool holds one key and never refills: every key taken shows in its size. */
async function start(name: string, extra: Partial<CosignerOptions>) {
  const pool = new PaillierKeyPool({ target: 1 });
  pool.fill();
  const c = await openCosigner({
    pool,
    dataDir: join(dir, name),
    sealer: new KeyFileSealer({ path: join(dir, `${name}.key`) }),
    vaultUrl: 'http://127.0.0.1:1', // nothing here reaches a deposit
    verifier: new DevAttestationVerifier({
      insecureDevAttestation: true,
      trustedKeys: [rng(32)],
      warn: () => {},
    }),
    tenant: 'acme',
    pingIntervalMs: 0,
    limits: { groups: ['rsa2048'], minIterations: 16, maxIterations: 5000 },
    securityPolicy,
    ...extra,
  });
  pool.stop();
  opened.push(c);
  const base = await c.app.listen({ host: '127.0.0.1', port: 0 });
  const register = () =>
    CosignerClient.register({
      baseUrl: base,
      authSecretKey: schnorr.utils.randomSecretKey(),
      policy: walletPolicy,
      securityPolicy,
    });
  return { c, register, pool };
}

/** A keygen's first message as a client would send it (optionally altered). */
function firstMessage(client: CosignerClient, sessionId: Uint8Array) {
  return new ClientKeygen({
    sessionId: protocolSessionId(client.walletId, 'keygen', sessionId),
    setup,
    rng,
    policy: securityPolicy,
  }).start();
}

async function keygenStart(client: CosignerClient, message: unknown, sessionId = rng(32)) {
  try {
    await client.call('POST', '/keygen', { sessionId: hex(sessionId), message });
    return { status: 200, code: 'ok', retryAfter: undefined };
  } catch (e) {
    if (!(e instanceof CosignerHttpError)) throw e;
    return { status: e.status, code: e.code, retryAfter: e.retryAfterSeconds };
  }
}

describe('keygen starts cannot drain the Paillier pool or stall the server', () => {
  it('refuses junk before taking a pooled key; an empty pool answers 503 and makes no key', async () => {
    const { c, register, pool } = await start('pool', {});
    const wallet = await register();
    expect(await keygenStart(wallet, { commitment: 'zz', ringPedersen: {} })).toMatchObject({
      status: 400,
      code: 'COSIGNER_MALFORMED',
    });
    expect(pool.size).toBe(1);
    // A well-formed message whose Πprm does not verify (two responses swapped).
    const sid = rng(32);
    const forged = firstMessage(wallet, sid);
    const z = forged.ringPedersen.proof.z;
    [z[0], z[1]] = [z[1] as string, z[0] as string];
    expect(await keygenStart(wallet, forged, sid)).toMatchObject({
      status: 400,
      code: 'COSIGNER_PROOF_FAILED',
    });
    expect(pool.size).toBe(1);
    // An honest start takes the one key ...
    const honestSid = rng(32);
    expect(await keygenStart(wallet, firstMessage(wallet, honestSid), honestSid)).toMatchObject({
      status: 200,
    });
    expect(pool.size).toBe(0);
    // ... and the next one is told to come back: no key is generated on the request path.
    const other = await register();
    const otherSid = rng(32);
    const t = performance.now();
    const empty = await keygenStart(other, firstMessage(other, otherSid), otherSid);
    const elapsed = performance.now() - t;
    expect(empty).toMatchObject({ status: 503, code: 'COSIGNER_POOL_EMPTY' });
    expect(empty.retryAfter).toBeGreaterThanOrEqual(1);
    expect(await other.status()).toMatchObject({ state: 'registered' });
    expect(pool.size).toBe(0);
    // Generous for a loaded machine, and still well below one 2048-bit key with its Πmod.
    expect(elapsed).toBeLessThan(2_000);
    const metrics = await (await c.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/vigil_cosigner_paillier_pool_size 0/);
  }, 60_000);

  it('bounds keygen starts per wallet and per client address with 429 codes and Retry-After', async () => {
    const { register } = await start('quota', {
      keygenQuotaPerWallet: 2,
      keygenQuotaPerClient: 3,
    });
    const junk = { commitment: 'zz', ringPedersen: {} };
    const a = await register();
    expect((await keygenStart(a, junk)).code).toBe('COSIGNER_MALFORMED');
    expect((await keygenStart(a, junk)).code).toBe('COSIGNER_MALFORMED');
    const third = await keygenStart(a, junk);
    expect(third).toMatchObject({ status: 429, code: 'COSIGNER_WALLET_QUOTA' });
    // 2 an hour: the next start is half an hour away.
    expect(third.retryAfter).toBeGreaterThan(1700);
    expect(third.retryAfter).toBeLessThanOrEqual(1800);
    const b = await register();
    expect((await keygenStart(b, junk)).code).toBe('COSIGNER_MALFORMED');
    const c = await register();
    const fourth = await keygenStart(c, junk);
    expect(fourth).toMatchObject({ status: 429, code: 'COSIGNER_CLIENT_QUOTA' });
    expect(fourth.retryAfter).toBeGreaterThanOrEqual(1);
    expect(await c.status()).toMatchObject({ state: 'registered' });
  }, 60_000);
});
