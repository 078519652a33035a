/**
 * The CPU a deposit costs each node, operation by operation, beside noble (what the vault used
 * before) on the same inputs. Then one vault node over real HTTP on loopback with synced LevelDB:
 * deposits/s and pings/s at 16 concurrent clients, beside the floor every acknowledged write pays
 * — a synced 256-byte LevelDB put — measured in the same run; and claim→release latency at a
 * small T beside the VDF solve alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
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
import {
  bytesToBigInt,
  CURVE_ORDER,
  canonical,
  checkDepositShare,
  checkSchemeCombination,
  encodePoint,
  messageDigest,
  mulBase,
  open,
  Point,
  proveShareProduct,
  SigningKey,
  scalarToBytes,
  seal,
  utf8,
  verifyMessage,
  x25519KeyPair,
} from '../../vault/protocol/index.ts';
import { solve } from '../../vdf/index.ts';
import { type BenchRow, type BenchSuite, percentile } from './report.ts';

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

/**
 * Per-call milliseconds (median of rounds) of `after` and `before`, measured in alternating
 * batches so that load from elsewhere on the machine falls on both alike.
 */
function pairedMs(after: () => unknown, before: () => unknown, rounds = 12, batch = 8) {
  const time = (f: () => unknown) => {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) f();
    return (performance.now() - t0) / batch;
  };
  after();
  before();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(time(after));
    b.push(time(before));
  }
  return { after: percentile(a, 50), before: percentile(b, 50) };
}

/** HPKE open as the vault did it before: noble X25519, re-deriving its own public key per call. */
function nobleOpen(secret: Uint8Array, enc: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array) {
  const dh = x25519.getSharedSecret(secret, enc);
  const salt = canonical('vigil/v1/hpke/salt', [utf8('deposit')]);
  const info = canonical('vigil/v1/hpke/info', [utf8('deposit'), enc, x25519.getPublicKey(secret)]);
  const okm = hkdf(sha256, dh, salt, info, 44);
  return chacha20poly1305(okm.subarray(0, 32), okm.subarray(32), aad).decrypt(ciphertext);
}

function depositCryptoRows(report: (row: BenchRow) => void): void {
  const randomScalar = () => (bytesToBigInt(randomBytes(32)) % (CURVE_ORDER - 1n)) + 1n;
  const x1 = randomScalar();
  const x2 = randomScalar();
  const x2Bytes = scalarToBytes(x2);
  const wallet = {
    scheme: 'ecdsa-2p-mult' as const,
    q1: encodePoint(Point.BASE.multiply(x1)),
    q2: encodePoint(Point.BASE.multiply(x2)),
    q: encodePoint(Point.BASE.multiply(x1).multiply(x2)),
  };
  const statement = { ...wallet, clusterId: randomBytes(8), walletId: randomBytes(32) };
  const shareProof = proveShareProduct(statement, x2Bytes, randomBytes(32));
  const clusterSecret = randomBytes(32);
  const cluster = x25519KeyPair(clusterSecret);
  const aad = randomBytes(200);
  const sealed = seal({
    purpose: 'deposit',
    recipientPublicKey: cluster.publicKey,
    senderSecret: randomBytes(32),
    aad,
    plaintext: x2Bytes,
  });
  const box = { purpose: 'deposit' as const, enc: sealed.enc, aad, ciphertext: sealed.ciphertext };
  const tenantSecret = randomBytes(32);
  const depositMessage = randomBytes(400);
  const depositDigest = messageDigest(depositMessage);
  const tenantSignature = schnorr.sign(depositDigest, tenantSecret, randomBytes(32));
  const tenantKey = schnorr.getPublicKey(tenantSecret);
  const receiptSecret = randomBytes(32);
  const receiptKey = new SigningKey(receiptSecret);
  const receiptMessage = randomBytes(300);
  const aux = randomBytes(32);

  // x2·G alone is what the additive and MuSig2 schemes pay; the share check includes it.
  const partOfShareCheck = 'x2·G (libsecp256k1 ecmult_gen)';
  const ops: [string, string, () => unknown, () => unknown][] = [
    [
      'HPKE open, prepared key (node:crypto X25519)',
      'noble, key re-derived',
      () => open({ ...box, recipient: cluster }),
      () => nobleOpen(clusterSecret, box.enc, aad, box.ciphertext),
    ],
    [
      partOfShareCheck,
      'noble',
      () => mulBase(x2Bytes),
      () => Point.BASE.multiply(x2).toBytes(true),
    ],
    [
      'share check: x2·G == Q2 and the share proof of Q = x2·Q1 (libsecp256k1)',
      'noble, x2·G and the constant-time x2·Q1 it replaced',
      () => {
        checkDepositShare({ q2: wallet.q2, x2: x2Bytes });
        checkSchemeCombination({ ...wallet, ...statement, shareProof });
      },
      () => [
        Point.fromBytes(wallet.q2),
        Point.BASE.multiply(x2).toBytes(true),
        Point.fromBytes(wallet.q1).multiply(x2).toBytes(true),
      ],
    ],
    [
      'BIP-340 verify (libsecp256k1)',
      'noble',
      () => verifyMessage(tenantSignature, depositMessage, tenantKey),
      () => schnorr.verify(tenantSignature, messageDigest(depositMessage), tenantKey),
    ],
    [
      'BIP-340 sign+verify, prepared key',
      'noble sign',
      () => receiptKey.sign(receiptMessage, aux),
      () => schnorr.sign(messageDigest(receiptMessage), receiptSecret, aux),
    ],
  ];
  let after = 0;
  let before = 0;
  for (const [name, baseline, fast, reference] of ops) {
    const ms = pairedMs(fast, reference);
    if (name !== partOfShareCheck) {
      after += ms.after;
      before += ms.before;
    }
    report({
      suite: 'vault',
      name,
      value: ms.after,
      unit: 'ms',
      baseline: { name: baseline, value: ms.before, unit: 'ms' },
    });
  }
  report({
    suite: 'vault',
    name: 'deposit crypto per node (all but x2·G alone)',
    value: after,
    unit: 'ms',
    baseline: { name: 'noble', value: before, unit: 'ms' },
  });
}

const suite: BenchSuite = async (report) => {
  depositCryptoRows(report);
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
