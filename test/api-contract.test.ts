/**
 * The vault's OpenAPI document against the running code: a real node (LevelDB, HTTP on
 * loopback) takes a whole story and its usual mistakes; every answer's status must be one its
 * route declares, and every body must fit the schema declared for that status. The success
 * status of each route the story can reach must have been seen.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverWallet, systemRandom, VaultClient, verifyBackup } from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { claimToJson, makeClaim, toHex, x25519PublicKey } from '../vault/index.ts';
import {
  checkAgainst,
  type OpenApiDoc,
  recordingFetch,
  type Seen,
} from './support/api-contract.ts';

const seen: Seen[] = [];
const realFetch = globalThis.fetch;
let vault: LocalVault;
const dir = mkdtempSync(join(tmpdir(), 'vigil-api-contract-'));

beforeAll(async () => {
  globalThis.fetch = recordingFetch(seen, realFetch);
  vault = await startLocalVault();
}, 60_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await vault?.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  fetch(`${vault.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

describe('the vault API against its OpenAPI document', () => {
  it('answers only with declared statuses and bodies that fit their schemas', async () => {
    const doc = (await (await realFetch(`${vault.url}/docs/json`)).json()) as OpenApiDoc;
    // the story: deposit, check the backup, claim, solve, release; a second claim, a ping
    const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations: 64 });
    const client = new VaultClient([vault.url], { retryDelaysMs: [] });
    await verifyBackup({ wallet, vault: client, random: systemRandom });
    await recoverWallet({
      wallet,
      vault: client,
      files: {
        claimStatePath: join(dir, 'a.claim'),
        checkpointDir: join(dir, 'a.vdf'),
        password: 'pw',
        scrypt: { n: 2 ** 10, r: 8, p: 1 },
      },
      random: systemRandom,
    });
    const second = (await vault.deposit('musig2')).wallet;
    const ephemeralSecret = new Uint8Array(randomBytes(32));
    const claimWith = async (x1: Uint8Array) =>
      makeClaim({
        clusterId: second.cluster.clusterId,
        walletId: second.walletId,
        ephemeralKey: x25519PublicKey(ephemeralSecret),
        claimNonce: await client.claimNonce(second.walletId),
        x1,
        q1: second.q1,
        aux: new Uint8Array(randomBytes(32)),
      });
    const first = await client.claim(await claimWith(second.x1));
    expect((await client.claim(await claimWith(second.x1))).existing).toBe(true); // 200
    await vault.ping(); // cancels the live claim
    const claimPath = `/v1/claims/${toHex(first.claim.claimId)}`;
    await call('POST', `${claimPath}/solution`, { y: 'ab'.repeat(256), proof: 'cd'.repeat(256) });

    // the usual mistakes
    await call('GET', `/v1/wallets/${'00'.repeat(32)}`);
    await call('GET', `/v1/wallets/${'00'.repeat(32)}/receipt`);
    await call('GET', `/v1/claims/${'00'.repeat(32)}`);
    await call('GET', '/v1/wallets/zz');
    await call('GET', '/v1/attestation?nonce=xyz');
    await call('POST', '/v1/pings', {});
    await call('POST', '/v1/deletions', {});
    await call('POST', '/v1/tenants', {});
    await call('POST', '/v1/tenants/nobody/ping-nonce');
    await call('POST', `/v1/wallets/${'00'.repeat(32)}/claim-nonce`);
    await call('POST', '/v1/deposits', { pad: 'x'.repeat(70_000) });
    const other = new Uint8Array(32).fill(1);
    await call('POST', '/v1/claims', claimToJson(await claimWith(other))); // wrong x1
    // the per-address limit (600 a minute): last, since it holds for the rest of the minute
    for (let i = 0; i < 620 && seen.at(-1)?.status !== 429; i++) {
      await call('GET', `/v1/wallets/${toHex(wallet.walletId)}`);
    }

    const { problems, statuses } = checkAgainst(doc, seen);
    expect(problems).toEqual([]);
    expect(statuses('POST /v1/tenants')).toEqual([201, 400]);
    expect(statuses('POST /v1/deposits')).toEqual([201, 413]);
    expect(statuses('POST /v1/deletions')).toEqual([400]); // (a deletion needs the tenant key)
    expect(statuses('GET /v1/attestation')).toEqual([200, 400]);
    expect(statuses('GET /v1/wallets/{walletId}')).toEqual([200, 400, 404, 429]);
    expect(statuses('GET /v1/wallets/{walletId}/receipt')).toEqual([200, 404]);
    expect(statuses('POST /v1/wallets/{walletId}/claim-nonce')).toEqual([200, 404]);
    expect(statuses('POST /v1/claims')).toEqual([200, 201, 401]);
    expect(statuses('GET /v1/claims/{claimId}')).toEqual([200, 404]);
    expect(statuses('POST /v1/claims/{claimId}/solution')).toEqual([200, 409]);
    expect(statuses('POST /v1/tenants/{tenant}/ping-nonce')).toEqual([200, 404]);
    expect(statuses('POST /v1/pings')).toEqual([200, 400]);
  }, 120_000);
});
