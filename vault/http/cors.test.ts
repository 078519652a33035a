/**
 * CORS over real HTTP: which routes answer a browser, for which origins, and the preflights. (The
 * browser's own enforcement is exercised in test/sdk-browser.test.ts, in Chromium.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevAttestationProvider, StorageBox } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { parseVaultConfig } from '../node/config.ts';
import { VaultNode } from '../node/vault-node.ts';
import { buildVaultApp } from './app.ts';
import { originMatcher, parseCorsOrigins } from './cors.ts';

let dir: string;
let node: VaultNode;
const apps: FastifyInstance[] = [];
let open: string; // --cors-origins https://wallet.example,http://localhost:*
let closed: string; // the default: none

async function serve(corsOrigins?: string[]): Promise<string> {
  const app = await buildVaultApp({
    backend: node,
    attestation: new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: randomBytes(32),
      warn: () => {},
    }),
    ...(corsOrigins ? { corsOrigins } : {}),
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cors-'));
  node = await VaultNode.open({
    dataDir: dir,
    cipher: new StorageBox(randomBytes(32)),
    operatorKey: randomBytes(32),
  });
  open = await serve(parseCorsOrigins('https://wallet.example, http://localhost:*'));
  closed = await serve();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

const walletId = '11'.repeat(32);
const claimId = '22'.repeat(32);

async function get(base: string, path: string, origin?: string) {
  const res = await fetch(`${base}${path}`, { headers: origin ? { origin } : {} });
  await res.arrayBuffer();
  return res;
}

async function preflight(base: string, path: string, origin: string, method: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type',
    },
  });
  const text = await res.text();
  return { res, json: text ? JSON.parse(text) : undefined };
}

const allowOrigin = (res: Response) => res.headers.get('access-control-allow-origin');

describe('CORS on the browser-facing routes', () => {
  it('answers an allowed origin on the read-only routes, errors included', async () => {
    for (const path of [
      '/v1/attestation',
      `/v1/wallets/${walletId}`,
      `/v1/wallets/${walletId}/receipt`,
      `/v1/claims/${claimId}`,
    ]) {
      const res = await get(open, path, 'https://wallet.example');
      expect(allowOrigin(res), path).toBe('https://wallet.example');
      expect(res.headers.get('vary'), path).toMatch(/Origin/);
    }
    // an unknown wallet is a 404 the page can read
    expect((await get(open, `/v1/wallets/${walletId}`, 'https://wallet.example')).status).toBe(404);
  });

  it('says nothing to an origin it does not list, nor to any origin by default', async () => {
    for (const origin of [
      'https://evil.example',
      'https://wallet.example.evil.example',
      'http://wallet.example',
      'http://localhost.evil.example:8080',
      'null',
    ]) {
      expect(allowOrigin(await get(open, '/v1/attestation', origin)), origin).toBeNull();
    }
    expect(allowOrigin(await get(closed, '/v1/attestation', 'https://wallet.example'))).toBeNull();
    expect(allowOrigin(await get(closed, '/v1/attestation', 'http://localhost:5173'))).toBeNull();
  });

  it('answers any port of a host listed with :*', async () => {
    for (const origin of ['http://localhost:5173', 'http://localhost:80', 'http://localhost']) {
      expect(allowOrigin(await get(open, '/v1/attestation', origin)), origin).toBe(origin);
    }
  });

  it('answers preflights of the claim routes for allowed origins and methods only', async () => {
    for (const path of [`/v1/wallets/${walletId}/claim-nonce`, '/v1/claims']) {
      const { res } = await preflight(open, path, 'https://wallet.example', 'POST');
      expect(res.status, path).toBe(204);
      expect(allowOrigin(res)).toBe('https://wallet.example');
      expect(res.headers.get('access-control-allow-methods')).toBe('POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('content-type');
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    }
    const solution = await preflight(
      open,
      `/v1/claims/${claimId}/solution`,
      'http://localhost:3000',
      'POST',
    );
    expect(solution.res.status).toBe(204);
    const wrongMethod = await preflight(open, '/v1/claims', 'https://wallet.example', 'DELETE');
    expect(wrongMethod.res.status).toBe(403);
    expect(wrongMethod.json.error.code).toBe('CORS_REFUSED');
    expect(allowOrigin(wrongMethod.res)).toBeNull();
    const wrongOrigin = await preflight(open, '/v1/claims', 'https://evil.example', 'POST');
    expect(wrongOrigin.res.status).toBe(403);
    expect(wrongOrigin.json.error.code).toBe('CORS_REFUSED');
    const byDefault = await preflight(closed, '/v1/claims', 'https://wallet.example', 'POST');
    expect(byDefault.res.status).toBe(403);
    expect(allowOrigin(byDefault.res)).toBeNull();
  });

  it("leaves the provider's and the operator's routes closed to browsers", async () => {
    for (const path of ['/v1/deposits', '/v1/pings', '/v1/tenants', '/v1/deletions']) {
      const { res } = await preflight(open, path, 'https://wallet.example', 'POST');
      expect(res.status, path).toBe(404);
      expect(allowOrigin(res), path).toBeNull();
      const post = await fetch(`${open}${path}`, {
        method: 'POST',
        headers: { origin: 'https://wallet.example', 'content-type': 'application/json' },
        body: '{}',
      });
      await post.arrayBuffer();
      expect(allowOrigin(post), path).toBeNull();
    }
    expect(allowOrigin(await get(open, '/metrics', 'https://wallet.example'))).toBeNull();
    expect(allowOrigin(await get(open, '/healthz', 'https://wallet.example'))).toBeNull();
  });
});

describe('--cors-origins / VIGIL_CORS_ORIGINS', () => {
  it('takes exact origins and host:* patterns, and refuses anything else', () => {
    expect(parseCorsOrigins('')).toEqual([]);
    expect(parseCorsOrigins('https://a.example,http://127.0.0.1:*,http://[::1]:8080')).toEqual([
      'https://a.example',
      'http://127.0.0.1:*',
      'http://[::1]:8080',
    ]);
    for (const bad of [
      '*',
      'https://a.example/',
      'https://a.example/app',
      'HTTPS://A.EXAMPLE',
      'ftp://a.example',
      'https://*.example',
      'a.example',
    ]) {
      expect(() => parseCorsOrigins(bad), bad).toThrow(VaultError);
    }
    const allows = originMatcher(['http://127.0.0.1:*']);
    expect(allows('http://127.0.0.1:9')).toBe(true);
    expect(allows('http://127.0.0.10:9')).toBe(false);
    expect(allows('http://127.0.0.1:9/x')).toBe(false);
  });

  it('is read from the flag or the variable, validated with the rest, none by default', () => {
    const base = { insecureDevAttestation: true };
    expect(parseVaultConfig(base, {}).corsOrigins).toEqual([]);
    expect(
      parseVaultConfig(base, { VIGIL_CORS_ORIGINS: 'https://wallet.example' }).corsOrigins,
    ).toEqual(['https://wallet.example']);
    expect(
      parseVaultConfig(
        { ...base, corsOrigins: 'https://app.example' },
        { VIGIL_CORS_ORIGINS: 'https://wallet.example' },
      ).corsOrigins,
    ).toEqual(['https://app.example']);
    expect(() => parseVaultConfig(base, { VIGIL_CORS_ORIGINS: 'https://x.example/path' })).toThrow(
      /--cors-origins: not an origin/,
    );
  });
});
