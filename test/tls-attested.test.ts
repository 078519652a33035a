/**
 * Attested TLS between real processes: a vault node (`vigil vault start`, its own process)
 * serves HTTPS with a key made at its start; a client trusts that key only through the node's
 * attestation document (here the dev one, pinned to the node's dev key), never a CA. An impostor
 * that relays the real node's attestation but serves its own certificate is refused, before and
 * after the client has pinned the real key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultClient, vaultFetchFor } from '../client-lib/index.ts';
import { vsockTransport } from '../cluster/index.ts';
import { parseCosignerConfig, startCosignerServer } from '../cosigner/index.ts';
import { DevAttestationProvider, DevAttestationVerifier, toHex } from '../vault/index.ts';
import { AttestedTls, newTlsIdentity } from '../vault/tls/index.ts';
import { startPausableProxy } from './support/pausable-proxy.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';
import { socat, socatMissing, stopBridges } from './support/socat.ts';
import { until } from './support/until.ts';

let dir: string;
let node: VigilProcess;
let url: string;
let verifier: DevAttestationVerifier;
let devKey: Uint8Array;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-tls-'));
  node = startVigil([
    'vault',
    'start',
    '--insecure-dev-attestation',
    '--tls',
    'on',
    '--port',
    '0',
    '--data-dir',
    dir,
    '--operator-key',
    toHex(schnorr.getPublicKey(randomBytes(32))),
    '--log-level',
    'warn',
  ]);
  url = (await node.waitFor(/vault listening on (https:\/\/\S+)/, 60_000))[1] as string;
  const signingKey = new Uint8Array(await readFile(join(dir, 'dev-attestation.key')));
  const { publicKey } = new DevAttestationProvider({
    insecureDevAttestation: true,
    signingKey,
    warn: () => {},
  });
  devKey = publicKey;
  verifier = new DevAttestationVerifier({
    insecureDevAttestation: true,
    trustedKeys: [publicKey],
    warn: () => {},
  });
}, 90_000);

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await stopBridges();
  node?.child.kill('SIGTERM');
  await node?.exited;
  await rm(dir, { recursive: true, force: true });
});

function tlsClient(): AttestedTls {
  const t = new AttestedTls({ verifier });
  closers.push(() => t.close());
  return t;
}

/** The cause a refused fetch carries (TypeError "fetch failed" → VaultError). */
async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const err = await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypeError);
  return (err as { cause: { code?: string; message: string } }).cause;
}

/** An HTTPS server with a key of its own that relays the real node's TLS attestation. */
async function impostor(): Promise<string> {
  const id = newTlsIdentity();
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  const server: Server = createHttpsServer({ key: id.keyPem, cert: id.certPem }, (req, res) => {
    undiciFetch(`${url}${req.url}`, { dispatcher: insecure })
      .then(async (r) => {
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(await r.text());
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await insecure.close();
  });
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('attested TLS between real processes', () => {
  it('serves HTTPS whose key the node attests; the client pins it and talks', async () => {
    const client = tlsClient();
    const res = await client.fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    const tlsAttestation = (await (
      await client.fetch(`${url}/v1/attestation/tls?nonce=${'ab'.repeat(32)}`)
    ).json()) as { spki: string; insecure: boolean };
    expect(tlsAttestation.insecure).toBe(true);
    expect(toHex(client.pinned(url)!)).toBe(tlsAttestation.spki);
  });

  it('a plain fetch, trusting CAs, refuses the node: no CA vouches for it', async () => {
    const err = await fetch(`${url}/healthz`).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
  });

  it('refuses a node whose certificate is not the attested one, with a clear error', async () => {
    const fake = await impostor();
    const cause = await refusal(tlsClient().fetch(`${fake}/healthz`));
    expect(cause.code).toBe('TLS_NOT_ATTESTED');
    expect(cause.message).toMatch(/TLS certificate is not the attested one/);
    expect(cause.message).toMatch(/ATTESTATION_USER_DATA|user_data|binding/i);
  });

  it('refuses a swapped certificate after pinning (re-attests, and the impostor fails)', async () => {
    const proxy = await startPausableProxy(url);
    closers.push(() => proxy.close());
    const proxied = proxy.url.replace('http:', 'https:');
    const client = tlsClient();
    expect((await client.fetch(`${proxied}/healthz`)).status).toBe(200);
    const pinned = client.pinned(proxied);
    expect(pinned).toBeDefined();
    proxy.retarget(await impostor());
    const cause = await refusal(client.fetch(`${proxied}/healthz`));
    expect(cause.code).toBe('TLS_NOT_ATTESTED');
    expect(cause.message).toMatch(/not the attested one/);
    expect(client.pinned(proxied)).toBeUndefined();
    // the real node again: attested again, pinned again, to the same key
    proxy.retarget(url);
    expect((await client.fetch(`${proxied}/healthz`)).status).toBe(200);
    expect(client.pinned(proxied)).toEqual(pinned);
  });

  it('refuses plain HTTP unless the caller allows the insecure dev mode', async () => {
    const cause = await refusal(tlsClient().fetch('http://127.0.0.1:1/healthz'));
    expect(cause.code).toBe('TLS_NOT_ATTESTED');
    expect(cause.message).toMatch(/plain HTTP is refused/);
  });

  it('refuses a node attested by another dev key (the wrong image, in production terms)', async () => {
    const other = new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: randomBytes(32),
      warn: () => {},
    });
    const strict = new AttestedTls({
      verifier: new DevAttestationVerifier({
        insecureDevAttestation: true,
        trustedKeys: [other.publicKey],
        warn: () => {},
      }),
    });
    closers.push(() => strict.close());
    const cause = await refusal(strict.fetch(`${url}/healthz`));
    expect(cause.code).toBe('TLS_NOT_ATTESTED');
  });

  it("a wallet's VaultClient reaches the node through its trust, and only through it", async () => {
    const good = new VaultClient([url], {
      fetch: vaultFetchFor({ kind: 'insecure-dev', devKeys: [devKey] }),
    });
    const att = await good.attestation(randomBytes(32));
    expect(att.insecure).toBe(true);
    const wrong = new VaultClient([url], {
      fetch: vaultFetchFor({ kind: 'insecure-dev', devKeys: [randomBytes(32)] }),
      retryDelaysMs: [],
    });
    await expect(wrong.attestation(randomBytes(32))).rejects.toThrow(/TLS_NOT_ATTESTED/);
  });

  it('a cosigner started against an https:// node reaches it through its attestation trust', async () => {
    const running = await startCosignerServer(
      parseCosignerConfig(
        {
          dataDir: join(dir, 'cosigner'),
          port: '0',
          vault: url,
          tenant: 'tls-test',
          insecureDevAttestation: true,
          devAttestationKey: toHex(devKey),
          poolSize: '0',
          pingInterval: '3600',
        },
        { VIGIL_COSIGNER_LOG_LEVEL: 'silent' },
      ),
    );
    closers.push(() => running.close());
    const { keys, kind } = await running.cosigner.vault.attestedClusterKeys();
    expect(kind).toBe('insecure-dev');
    expect(keys.clusterId).toHaveLength(32);
  });

  it.skipIf(socatMissing() !== null)(
    'reaches an https:// node on the default port through the vsock transport',
    async () => {
      const relay = join(dir, 'relay');
      await mkdir(relay);
      const socket = join(relay, 'to-vault.vigil.invalid-443.sock');
      socat(`UNIX-LISTEN:${socket},fork,unlink-early`, `TCP:127.0.0.1:${new URL(url).port}`);
      await until(() => existsSync(socket), 10_000, 'the relay socket');
      const t = new AttestedTls({ verifier, sockets: vsockTransport(relay) });
      closers.push(() => t.close());
      expect((await t.fetch('https://vault.vigil.invalid/healthz')).status).toBe(200);
      expect(t.pinned('https://vault.vigil.invalid:443')).toBeDefined();
    },
  );
});
