/**
 * `npm run bench -- scale [--sizes 10000,100000,1000000] [--json]`: a 3-node vault cluster at a
 * provider's size (DESIGN.md P10). For each size it prints ping, claim and deposit latency, bulk
 * deposits/s, release latency for a small T, memory, bytes on disk per wallet, the time to reopen
 * a stopped node's store, and a new member's catch-up (a streamed snapshot of the whole vault).
 *
 * How a vault of a million wallets is seeded quickly: 420 wallets are deposited for real through
 * the replicated state machine's apply path (their owners' x1 is kept, so they can claim), and
 * the other wallets are records cloned from a real one under fresh ids: what the store would hold
 * after that many deposits, without paying each deposit's curve work. The vault is then founded
 * the way `vigil cluster recover` founds one: each founder imports the records as a stream, the
 * genesis entry carries their digest. Every measured command then runs through Raft on top: the
 * leader proposes, a majority fsyncs, every node applies.
 *
 * The three members (and the joiner) run in this one process over real loopback links with real
 * fsync, so RSS and heap are those of all of them together, and they share one event loop.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { RaftStorage } from '../../cluster/index.ts';
import { StorageBox } from '../../vault/enclave/index.ts';
import type { Command, CommandResult } from '../../vault/machine/index.ts';
import { decodeRecord, encodeRecord, keys } from '../../vault/machine/store.ts';
import type { TenantRecord, WalletRecord } from '../../vault/machine/types.ts';
import {
  Claimant,
  Operator,
  Tenant,
  type TestWallet,
  testLimits,
} from '../../vault/node/actors.test-support.ts';
import { decodeReply, encodeLogCommand, type LogCommand } from '../../vault/replicated/codec.ts';
import { EpochKeeper } from '../../vault/replicated/epochs.ts';
import { listenLocalMember, newGenesis, startLocalCluster } from '../../vault/replicated/local.ts';
import type { ClusterMember } from '../../vault/replicated/member.ts';
import type { RecoveredRecords } from '../../vault/replicated/recover.ts';
import { mapReader } from '../../vault/replicated/recovery.test-support.ts';
import { clusterPublicKeys, RecordsDigest, ReplicatedState } from '../../vault/replicated/state.ts';
import { solve } from '../../vdf/index.ts';
import { until } from '../support/until.ts';
import { type BenchSuite, percentile } from './report.ts';

const REAL_WALLETS = 420;
const POLICY = { group: 'rsa2048' as const, iterations: 1_000 };
const BULK_WARM_UP = 240;
const LIMITS = { ...testLimits, maxWallets: 10_000_000, maxClaims: 100_000 };

export interface ScaleFigures {
  wallets: number;
  pingP50Ms: number;
  pingP99Ms: number;
  claimP50Ms: number;
  claimP99Ms: number;
  depositP50Ms: number;
  depositP99Ms: number;
  depositsPerSecond: number;
  releaseMs: number;
  rssBytes: number;
  heapBytes: number;
  diskBytesPerWallet: number;
  restartMs: number;
  catchUpMs: number;
  seedSeconds: number;
}

const log = (line: string) => console.error(`scale: ${line}`);

/** The real part of the seed: genesis, the tenant and REAL_WALLETS deposits, applied for real. */
async function realSeed() {
  const operator = new Operator();
  const tenant = new Tenant('acme');
  const records = new Map<string, Uint8Array>();
  const state = new ReplicatedState({ epochs: new EpochKeeper() });
  await state.load(mapReader(records));
  let index = 0;
  const apply = (c: LogCommand): CommandResult | null => {
    const reply = decodeReply(state.apply(encodeLogCommand(c), ++index));
    for (const w of state.drainWrites()) {
      if (w.value === null) records.delete(w.key);
      else records.set(w.key, w.value);
    }
    if (!reply.ok) throw new Error(`seed command refused: ${reply.error.code}`);
    return reply.result;
  };
  const epochId = randomBytes(16);
  const vault = (command: Command) =>
    apply({ kind: 'vault', timestamp: Date.now(), epochId, random: randomBytes(32), command });
  apply(newGenesis(operator.publicKey, { claimIntervalMs: 0 }));
  const keys = clusterPublicKeys(state.secrets!);
  vault(operator.registerTenant(keys, tenant, LIMITS));
  const wallets: TestWallet[] = [];
  for (let i = 0; i < REAL_WALLETS; i++) {
    const w = tenant.newWallet();
    vault(tenant.deposit(keys, w, POLICY));
    wallets.push(w);
  }
  return { operator, tenant, wallets, records };
}

/** Wallet ids of the clones sort by their number, so the whole vault streams in key order. */
function cloneId(i: number): Uint8Array {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setBigUint64(0, BigInt(i));
  id.set(sha256(new TextEncoder().encode(`clone/${i}`)).subarray(0, 24), 8);
  return id;
}

/** The seed grown to `total` wallets with cloned records, as a stream in key order. */
function seedRecords(real: Map<string, Uint8Array>, total: number, tenantName: string) {
  const tenantKey = keys.tenant(tenantName);
  const t = decodeRecord<TenantRecord>(tenantKey, real.get(tenantKey)!);
  const fixed = new Map(real);
  fixed.set(tenantKey, encodeRecord({ ...t, walletCount: total }));
  const walletPrefix = keys.wallet(new Uint8Array()); // 'v/w/'
  const walletKeys = [...fixed.keys()].filter((k) => k.startsWith(walletPrefix));
  const template = decodeRecord<WalletRecord>('w', fixed.get(walletKeys[0]!)!);
  const small = [...fixed].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const clones = total - walletKeys.length;
  function* cloned(): Iterable<[string, Uint8Array]> {
    for (let i = 0; i < clones; i++) {
      const walletId = cloneId(i);
      yield [keys.wallet(walletId), encodeRecord({ ...template, walletId })];
    }
  }
  return () => merged(small, cloned());
}

/** Two streams of records, each in key order, as one in key order. */
async function* merged(
  a: Iterable<[string, Uint8Array]>,
  b: Iterable<[string, Uint8Array]>,
): AsyncIterable<[string, Uint8Array]> {
  const ib = b[Symbol.iterator]();
  let nb = ib.next();
  for (const ra of a) {
    while (!nb.done && nb.value[0] < ra[0]) {
      yield nb.value;
      nb = ib.next();
    }
    yield ra;
  }
  while (!nb.done) {
    yield nb.value;
    nb = ib.next();
  }
}

async function recoveredVault(
  records: () => AsyncIterable<[string, Uint8Array]>,
): Promise<RecoveredRecords> {
  const digest = new RecordsDigest();
  for await (const [k, v] of records()) digest.update(k, v);
  const count = digest.count;
  let founder = 0;
  return {
    digest: digest.digest(),
    count,
    async *records() {
      const n = ++founder;
      let done = 0;
      for await (const r of records()) {
        yield r;
        if (++done % 200_000 === 0) log(`founder ${n}: imported ${done} of ${count} records`);
      }
    },
  };
}

/** Bytes in a LevelDB directory; a table file that a compaction removes meanwhile counts 0. */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    total += await stat(join(dir, name)).then(
      (s) => s.size,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return 0;
        throw e;
      },
    );
  }
  return total;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

export async function measureSize(wallets: number): Promise<ScaleFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-scale-'));
  const members: ClusterMember[] = [];
  try {
    const t0 = performance.now();
    log(`${wallets} wallets: depositing ${REAL_WALLETS} for real`);
    const seed = await realSeed();
    const recovered = await recoveredVault(seedRecords(seed.records, wallets, seed.tenant.name));
    log(`${wallets} wallets: founding 3 members from ${recovered.count} records`);
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: seed.operator.publicKey,
      recovered,
    });
    members.push(...c.members);
    const leader = await until(
      () => members.find((m) => m.isLeader && m.epochReady),
      600_000,
      'a leader with the epoch',
    );
    const seedSeconds = (performance.now() - t0) / 1000;
    const keys = leader.publicKeys;
    const { tenant } = seed;

    log(`${wallets} wallets: pings`);
    const pings: number[] = [];
    for (let i = 0; i < 500; i++) {
      const nonce = leader.mintPingNonce(tenant.name);
      pings.push((await timed(() => leader.submit(tenant.ping(keys, nonce.nonce))))[1]);
    }

    log(`${wallets} wallets: claims`);
    const claims: number[] = [];
    for (const w of seed.wallets.slice(0, 300)) {
      const nonce = leader.mintClaimNonce(w.walletId);
      const cmd = new Claimant(w).claim(keys, nonce.nonce);
      claims.push((await timed(() => leader.submit(cmd)))[1]);
    }

    log(`${wallets} wallets: a release (T = ${POLICY.iterations})`);
    const owner = seed.wallets[REAL_WALLETS - 1]!;
    const [, releaseMs] = await timed(async () => {
      const nonce = leader.mintClaimNonce(owner.walletId);
      const r = await leader.submit(new Claimant(owner).claim(keys, nonce.nonce));
      if (r.type !== 'claim') throw new Error('no claim');
      const y = await solve({
        group: r.claim.group,
        seed: r.claim.seed,
        iterations: r.claim.iterations,
        workers: 'never',
      });
      const sol = { claimId: r.claim.claimId, y: y.output, proof: y.proof };
      const released = await leader.submit({ type: 'solve', solution: sol });
      if (released.type !== 'released') throw new Error('not released');
    });

    log(`${wallets} wallets: deposits`);
    const deposits: number[] = [];
    for (let i = 0; i < 40; i++) {
      const cmd = tenant.deposit(keys, tenant.newWallet(), POLICY);
      deposits.push((await timed(() => leader.submit(cmd)))[1]);
    }
    // bulk: commands signed ahead of time, 32 in flight; enough of them (several seconds) that
    // the rate is not one scheduling hiccup, after an untimed warm-up of the same kind (the
    // deposit workers' code is cold until then: the first few hundred ran at half speed)
    const signed = (n: number) =>
      Array.from({ length: n }, () => tenant.deposit(keys, tenant.newWallet(), POLICY));
    const inFlight = async (cmds: Command[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < cmds.length) {
            const r = await leader.submit(cmds[next++]!);
            if (r.type !== 'deposited') throw new Error(`bulk deposit: ${JSON.stringify(r)}`);
          }
        }),
      );
    };
    await inFlight(signed(BULK_WARM_UP));
    const bulk = signed(960);
    const [, bulkMs] = await timed(() => inFlight(bulk));

    const mem = process.memoryUsage();
    const follower = members.find((m) => m !== leader)!;
    const followerDir = join(dir, follower.slot, `raft-${follower.id}`);
    await follower.raft.whenApplyDurable();
    const disk = await dirBytes(followerDir);

    log(`${wallets} wallets: reopening a stopped node's store`);
    await follower.close();
    members.splice(members.indexOf(follower), 1);
    const [, restartMs] = await timed(async () => {
      const storage = await RaftStorage.open(followerDir, new StorageBox(c.storageKey));
      await storage.load();
      const state = new ReplicatedState({ epochs: new EpochKeeper() });
      await state.load(storage.state);
      if (state.machine?.wallet(owner.walletId)?.released !== true) {
        throw new Error('the reopened store lost the release');
      }
      await storage.close();
    });

    log(`${wallets} wallets: a new member catches up (streamed snapshot)`);
    const joiner = await listenLocalMember({
      dir,
      slot: follower.slot,
      generation: follower.generation + 1,
      attestation: c.attestation,
      storageKey: c.storageKey,
      clusterId: c.clusterId,
    });
    members.push(joiner);
    const [, catchUpMs] = await timed(async () => {
      await joiner.start(await leader.admit(await joiner.record('http://joiner.invalid')));
      const target = leader.status().commitIndex;
      await until(
        () => joiner.state.machine !== null && joiner.status().appliedIndex >= target,
        600_000,
        'the joiner to catch up',
      );
    });

    return {
      wallets,
      pingP50Ms: percentile(pings, 50),
      pingP99Ms: percentile(pings, 99),
      claimP50Ms: percentile(claims, 50),
      claimP99Ms: percentile(claims, 99),
      depositP50Ms: percentile(deposits, 50),
      depositP99Ms: percentile(deposits, 99),
      depositsPerSecond: bulk.length / (bulkMs / 1000),
      releaseMs,
      rssBytes: mem.rss,
      heapBytes: mem.heapUsed,
      diskBytesPerWallet: disk / wallets,
      restartMs,
      catchUpMs,
      seedSeconds,
    };
  } finally {
    await Promise.all(members.map((m) => m.close().catch(() => {})));
    await rm(dir, { recursive: true, force: true });
  }
}

function sizesFromArgs(): number[] {
  const i = process.argv.indexOf('--sizes');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.VIGIL_BENCH_SCALE_SIZES;
  if (!raw) return [10_000, 100_000, 1_000_000];
  return raw.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < REAL_WALLETS) throw new Error(`--sizes: bad size ${s}`);
    return n;
  });
}

const suite: BenchSuite = async (report) => {
  const json = process.argv.includes('--json');
  const all: ScaleFigures[] = [];
  for (const size of sizesFromArgs()) {
    const f = await measureSize(size);
    all.push(f);
    if (json) {
      console.log(JSON.stringify(f));
      continue;
    }
    const base = all[0]!;
    const name = (what: string) => `${what} @ ${f.wallets}`;
    const vsBase = (what: string, v: number) =>
      f === base ? undefined : { name: `${what} @ ${base.wallets}`, value: v, unit: 'ms' };
    report({
      suite: 'scale',
      name: name('ping p99'),
      value: f.pingP99Ms,
      unit: 'ms',
      baseline: vsBase('ping p99', base.pingP99Ms),
      target: '<= 25 ms, <= 1.5x the smallest size',
      met: f.pingP99Ms <= 25 && f.pingP99Ms <= 1.5 * base.pingP99Ms,
    });
    report({ suite: 'scale', name: name('ping p50'), value: f.pingP50Ms, unit: 'ms' });
    report({
      suite: 'scale',
      name: name('claim p99'),
      value: f.claimP99Ms,
      unit: 'ms',
      baseline: vsBase('claim p99', base.claimP99Ms),
      target: '<= 50 ms, <= 1.5x the smallest size',
      met: f.claimP99Ms <= 50 && f.claimP99Ms <= 1.5 * base.claimP99Ms,
    });
    report({ suite: 'scale', name: name('claim p50'), value: f.claimP50Ms, unit: 'ms' });
    report({ suite: 'scale', name: name('deposit p50'), value: f.depositP50Ms, unit: 'ms' });
    report({ suite: 'scale', name: name('deposit p99'), value: f.depositP99Ms, unit: 'ms' });
    report({
      suite: 'scale',
      name: name('bulk deposits'),
      value: f.depositsPerSecond,
      unit: '/s',
      target: '>= 300/s',
      met: f.depositsPerSecond >= 300,
    });
    report({
      suite: 'scale',
      name: name('claim -> release, T=1000'),
      value: f.releaseMs,
      unit: 'ms',
    });
    report({
      suite: 'scale',
      name: name('RSS, 4 nodes in one process'),
      value: f.rssBytes / 2 ** 20,
      unit: 'MiB',
      target: '<= 512 MB per node',
      met: f.rssBytes <= 512 * 2 ** 20,
    });
    report({ suite: 'scale', name: name('heap used'), value: f.heapBytes / 2 ** 20, unit: 'MiB' });
    report({
      suite: 'scale',
      name: name('disk per wallet'),
      value: f.diskBytesPerWallet,
      unit: 'B',
      target: '<= 1 KB',
      met: f.diskBytesPerWallet <= 1024,
    });
    report({
      suite: 'scale',
      name: name("reopen a node's store"),
      value: f.restartMs,
      unit: 'ms',
      target: '<= 5 s',
      met: f.restartMs <= 5_000,
    });
    report({
      suite: 'scale',
      name: name('new member catch-up'),
      value: f.catchUpMs / 1000,
      unit: 's',
      target: '<= 3 min',
      met: f.catchUpMs <= 180_000,
    });
    report({
      suite: 'scale',
      name: name('seeding (not a target)'),
      value: f.seedSeconds,
      unit: 's',
    });
  }
};

export default suite;
