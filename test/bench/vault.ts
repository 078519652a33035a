/**
 * One vault node over real HTTP on loopback with synced LevelDB: deposits/s and pings/s at 16
 * concurrent clients, beside the floor every acknowledged write pays — a synced 256-byte LevelDB
 * put — measured in the same run; and claim→release latency at a small T beside the VDF solve
 * alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import {
  buildVaultApp,
  claimToJson,
  DevAttestationProvider,
  depositToJson,
  pingToJson,
  StorageBox,
  tenantRegistrationToJson,
  VaultNode,
} from '../../vault/index.ts';
import { Claimant, Operator, Tenant } from '../../vault/node/actors.test-support.ts';
import { solve } from '../../vdf/index.ts';
import { type BenchSuite, percentile } from './report.ts';

const SECONDS = 4;
const CONCURRENCY = 16;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function forSeconds(
  seconds: number,
  workers: number,
  op: () => Promise<void>,
): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await op();
        done += 1;
      }
    }),
  );
  return done / seconds;
}

const suite: BenchSuite = async (report) => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-vault-'));
  try {
    const raw = new Level<string, Uint8Array>(join(dir, 'raw'), { valueEncoding: 'view' });
    let k = 0;
    const syncedPuts = await forSeconds(2, 1, async () => {
      await raw.put(`k${k++}`, randomBytes(256), { sync: true });
    });
    await raw.close();

    const operator = new Operator();
    const node = await VaultNode.open({
      dataDir: join(dir, 'node'),
      cipher: new StorageBox(randomBytes(32)),
      operatorKey: operator.publicKey,
      limits: { claimIntervalMs: 0 },
    });
    const app = await buildVaultApp({
      backend: node,
      attestation: new DevAttestationProvider({
        insecureDevAttestation: true,
        signingKey: randomBytes(32),
        warn: () => {},
      }),
      rateLimitPerMinute: 10_000_000,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const post = async (path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: bench reads a few known fields
      const json = (await res.json()) as Record<string, any>;
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const cluster = node.publicKeys;
    const tenants = Array.from({ length: CONCURRENCY }, (_, i) => new Tenant(`t${i}`));
    for (const t of tenants) {
      const reg = operator.registerTenant(cluster, t, {
        groups: ['rsa2048'],
        minIterations: 16,
        maxIterations: 100_000,
        maxWallets: 1_000_000,
        maxClaims: 1_000,
      });
      if (reg.type === 'registerTenant')
        await post('/v1/tenants', tenantRegistrationToJson(reg.registration));
    }

    // One tenant per client so sequence numbers arrive in order.
    let next = 0;
    const depositsPerSecond = await forSeconds(SECONDS, CONCURRENCY, async () => {
      const t = tenants[next++ % CONCURRENCY]!;
      const cmd = t.deposit(cluster, t.newWallet(), { group: 'rsa2048', iterations: 1000 });
      if (cmd.type === 'deposit') await post('/v1/deposits', depositToJson(cmd.deposit));
    });
    report({
      suite: 'vault',
      name: `deposits/s over HTTP (${CONCURRENCY} clients, fsync each)`,
      value: depositsPerSecond,
      unit: '/s',
      baseline: { name: 'synced LevelDB put', value: syncedPuts, unit: '/s' },
    });

    const pingsPerSecond = await forSeconds(SECONDS, CONCURRENCY, async () => {
      const t = tenants[next++ % CONCURRENCY]!;
      const { nonce } = await post(`/v1/tenants/${t.name}/ping-nonce`);
      const cmd = t.ping(cluster, Buffer.from(nonce, 'hex'));
      if (cmd.type === 'ping') await post('/v1/pings', pingToJson(cmd.ping));
    });
    report({
      suite: 'vault',
      name: `pings/s over HTTP incl. nonce (${CONCURRENCY} clients)`,
      value: pingsPerSecond,
      unit: '/s',
      baseline: { name: 'synced LevelDB put', value: syncedPuts, unit: '/s' },
    });

    const T = 1000;
    const latencies: number[] = [];
    const solveOnly: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = tenants[0]!;
      const wallet = t.newWallet();
      const dep = t.deposit(cluster, wallet, { group: 'rsa2048', iterations: T });
      if (dep.type === 'deposit') await post('/v1/deposits', depositToJson(dep.deposit));
      const claimant = new Claimant(wallet);
      const start = performance.now();
      const { nonce } = await post(`/v1/wallets/${hex(wallet.walletId)}/claim-nonce`);
      const claimCmd = claimant.claim(cluster, Buffer.from(nonce, 'hex'));
      if (claimCmd.type !== 'claim') continue;
      const { claim } = await post('/v1/claims', claimToJson(claimCmd.claim));
      const s0 = performance.now();
      const r = await solve({
        group: 'rsa2048',
        seed: Buffer.from(claim.seed, 'hex'),
        iterations: T,
        workers: 'never',
      });
      solveOnly.push(performance.now() - s0);
      await post(`/v1/claims/${claim.claimId}/solution`, { y: hex(r.output), proof: hex(r.proof) });
      latencies.push(performance.now() - start);
    }
    report({
      suite: 'vault',
      name: `claim→release latency p50 (rsa2048, T=${T})`,
      value: percentile(latencies, 50),
      unit: 'ms',
      baseline: { name: 'VDF solve alone', value: percentile(solveOnly, 50), unit: 'ms' },
    });
    await app.close();
    await node.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

export default suite;
