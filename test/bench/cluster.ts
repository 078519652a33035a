/**
 * `npm run bench:cluster`: a 3-node cluster on loopback with fsync on.
 *
 * - **Side by side with etcd** (when an `etcd` binary is on PATH; Debian: `apt-get install
 *   etcd-server`, etcd 3.4): a real 3-process Vigil cluster (`vigil cluster start`) and a
 *   3-member etcd cluster started here (test/bench/etcd.ts: loopback ports, temporary data
 *   directories, fsync on, etcd's defaults), both written to at the leader by the same load
 *   generator over 1, 16 and 64 keep-alive connections: Vigil's raw 256-byte put (`POST
 *   /bench/put`, the benchmark-only route, which proposes a log entry that changes no state but
 *   pays every Raft cost: sealing, leader fsync, replication over the encrypted links, follower
 *   fsync, commit, apply) against etcd's `POST /v3/kv/put` (JSON gateway, a fresh key and a
 *   random 256-byte value). Rounds alternate (Vigil, etcd, etcd, Vigil, …) so the shared
 *   machine's noise hits both; each figure is the median over VIGIL_BENCH_PAIR_ROUNDS rounds
 *   (default 5) of VIGIL_BENCH_PAIR_SECONDS seconds (default 4), after VIGIL_BENCH_WARM_UP_SECONDS
 *   (default 4) of warm-up on each (half at 64 connections, half at 1): writes/s, p50, p99, the
 *   servers' CPU per write (the three member processes' user + system time from /proc over the
 *   round, divided by its writes), and the ratio Vigil/etcd (median of the rounds' ratios) beside
 *   the targets (>= 1.0x at 1 connection, >= 1.5x at 64). Without etcd the Vigil half still runs
 *   and a line says how to install etcd.
 * - Vigil's raw put at etcd's 1-connection latency (the most writes/s over 2, 4 or 8 clients
 *   while the median stays within etcd's measured single-connection median), and the single
 *   client through node:http's keep-alive agent;
 * - vault deposits over HTTP against the same cluster (one tenant per client: a tenant's
 *   deposits must arrive in sequence order), prepared ahead: the clients' crypto is not the
 *   cluster's cost;
 * - the raw put through the Raft layer of an in-process cluster (no HTTP, three members on one
 *   event loop);
 * - a synced 256-byte LevelDB put, the disk's own figure, measured in the same run.
 *
 * Except for the side by side, every HTTP figure is the best of VIGIL_BENCH_ROUNDS rounds
 * (default 3) of VIGIL_BENCH_SECONDS seconds (default 3), with the range printed beside it.
 *
 * The load generator is a minimal HTTP/1.1 client over one keep-alive connection per client
 * (raw-http.ts: it shares the two cores with the clusters, and node:http's client costs several
 * times its CPU). What a client's request costs on its own is printed too: one round trip to a
 * no-op node:http server in another process, through that client, node:http's keep-alive agent
 * and fetch (undici). And the floor under a write here (test/bench/cluster-floor.ts): the same
 * hops and fdatasyncs with none of our code. VIGIL_BENCH_PARTS (default all of
 * raw,etcd,deposit,inprocess,disk,client,floor) picks parts; `raw` without `etcd` runs the Vigil
 * half of the side by side alone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Level } from 'level';
import { type Command, commandToJson } from '../../vault/machine/index.ts';
import { Operator, Tenant, testLimits } from '../../vault/node/actors.test-support.ts';
import { startLocalCluster } from '../../vault/replicated/local.ts';
import type { ClusterMember } from '../../vault/replicated/member.ts';
import { repoRoot } from '../support/processes.ts';
import { startFloor } from './cluster-floor.ts';
import {
  childPids,
  cpuSeconds,
  ETCD_INSTALL,
  etcdPutBody,
  etcdVersion,
  startEtcd,
} from './etcd.ts';
import { RawHttpConnection } from './raw-http.ts';
import { type BenchRow, type BenchSuite, formatRow, percentile } from './report.ts';

const CLIENTS = [1, 64] as const;
const SECONDS = Number(process.env.VIGIL_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.VIGIL_BENCH_ROUNDS ?? 3);
const PARTS = new Set(
  (process.env.VIGIL_BENCH_PARTS ?? 'raw,etcd,deposit,inprocess,disk,client,floor').split(','),
);
/** The side by side with etcd: connections, rounds, seconds per round, targets (Vigil/etcd). */
const PAIR_CLIENTS = (process.env.VIGIL_BENCH_PAIR_CLIENTS ?? '1,16,64').split(',').map(Number);
const PAIR_ROUNDS = Number(process.env.VIGIL_BENCH_PAIR_ROUNDS ?? 5);
const PAIR_SECONDS = Number(process.env.VIGIL_BENCH_PAIR_SECONDS ?? 4);
const WARM_UP_SECONDS = Number(process.env.VIGIL_BENCH_WARM_UP_SECONDS ?? 4);
const PAIR_TARGET: Partial<Record<number, number>> = { 1: 1.0, 64: 1.5 };
const LEADER_WAIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5_000;

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  writes: number;
  /** The first failure's message. */
  error?: string;
}

/** `clients` loops calling `op(client)` for SECONDS (or until it returns null). */
async function measure(
  clients: number,
  op: (client: number) => Promise<void> | null,
  seconds = SECONDS,
): Promise<Run> {
  const lat: number[] = [];
  let failed = 0;
  let error: string | undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const p = op(client);
        if (p === null) return;
        try {
          await p;
          lat.push(performance.now() - t0);
        } catch (e) {
          failed += 1;
          error ??= e instanceof Error ? e.message : String(e);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return {
    perSecond: lat.length / elapsed,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    failed,
    writes: lat.length,
    ...(error === undefined ? {} : { error }),
  };
}

/** The best round by throughput, with the range of all rounds (the machine is shared). */
async function bestOf(rounds: number, run: () => Promise<Run>): Promise<Run & { range: string }> {
  const all: Run[] = [];
  for (let i = 0; i < rounds; i++) all.push(await run());
  const best = all.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const r = all.map((x) => x.perSecond);
  const range =
    rounds > 1 ? `, best of ${rounds}: ${fig(Math.min(...r))}–${fig(Math.max(...r))}/s` : '';
  return { ...best, range };
}

const fig = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function writeRow(name: string, clients: number, r: Run & { range?: string }): BenchRow {
  const failed = r.failed > 0 ? `, ${r.failed} failed` : '';
  return {
    suite: 'cluster',
    name: `${name}, ${plural(clients, 'client')}`,
    value: r.perSecond,
    unit: `writes/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms${r.range ?? ''}${failed})`,
  };
}

async function waitLeader(members: ClusterMember[]): Promise<ClusterMember> {
  for (const deadline = Date.now() + LEADER_WAIT_MS; Date.now() < deadline; ) {
    const l = members.find((m) => m.isLeader && m.epochReady);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`in-process cluster: no leader after ${LEADER_WAIT_MS / 1000} s`);
}

const suite: BenchSuite = async (report) => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-cluster-'));
  try {
    if (PARTS.has('client')) await clientCost(report);
    if (PARTS.has('floor')) await floor(dir, report);
    if (PARTS.has('raw') || PARTS.has('deposit')) await processes(dir, report);
    if (PARTS.has('inprocess')) await inProcess(dir, report);
    if (!PARTS.has('disk')) return;
    const raw = new Level<string, Uint8Array>(join(dir, 'raw'), { valueEncoding: 'view' });
    let k = 0;
    for (const clients of CLIENTS) {
      const r = await measure(clients, () => raw.put(`k${k++}`, randomBytes(256), { sync: true }));
      report({
        suite: 'cluster',
        name: `synced 256 B LevelDB put (the disk), ${clients} client(s)`,
        value: r.perSecond,
        unit: `puts/s (p50 ${r.p50.toFixed(2)} ms)`,
      });
    }
    await raw.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** One client's writes through the floor: raw sockets and fdatasync, no HTTP, Raft or crypto. */
async function floor(dir: string, report: (row: BenchRow) => void): Promise<void> {
  const f = await startFloor(dir);
  try {
    const put = () => f.put(randomBytes(256));
    await measure(1, put, 0.5);
    const r = await bestOf(ROUNDS, () => measure(1, put));
    report({
      suite: 'cluster',
      name: 'floor: 4 loopback hops + 3 parallel 256 B fdatasyncs, 1 client (no HTTP/Raft/crypto)',
      value: r.perSecond,
      unit: `writes/s (p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(1)} ms${r.range})`,
    });
  } finally {
    f.stop();
  }
}

/** Raw puts through the Raft layer of three members in this process (no HTTP). */
async function inProcess(dir: string, report: (row: BenchRow) => void): Promise<void> {
  const operator = new Operator();
  const c = await startLocalCluster({
    n: 3,
    dir: join(dir, 'local'),
    operatorKey: operator.publicKey,
  });
  try {
    const leader = await waitLeader(c.members);
    for (const clients of CLIENTS) {
      const r = await measure(clients, () => leader.benchPut(randomBytes(256)));
      report(writeRow('in-process Raft raw 256 B put (no HTTP)', clients, r));
    }
  } finally {
    await Promise.all(c.members.map((m) => m.close()));
  }
}

/** Over HTTP against a real 3-process cluster (`vigil cluster start`). */
async function processes(dir: string, report: (row: BenchRow) => void): Promise<void> {
  const operator = new Operator();
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'vigil.mjs'),
      'cluster',
      'start',
      '--nodes',
      '3',
      '--data-dir',
      join(dir, 'procs'),
      '--operator-key',
      Buffer.from(operator.publicKey).toString('hex'),
      '--insecure-dev-attestation',
    ],
    { env: { ...process.env, VIGIL_BENCH_RAW_PUT: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if ([1, 2, 3].every((i) => out.includes(`node-${i} http`))) resolve();
      });
      child.once('exit', () => reject(new Error(`cluster exited: ${out}`)));
    });
    const url = (out.match(/node-1 (http:\S+)/) ?? [])[1]!;
    let leader = '';
    for (const deadline = Date.now() + LEADER_WAIT_MS; !leader; ) {
      if (Date.now() > deadline)
        throw new Error(`3-process cluster: no leader after ${LEADER_WAIT_MS / 1000} s`);
      const s = (await httpJson('GET', `${url}/v1/cluster/status`)).body as Record<string, unknown>;
      if (s.epochReady && typeof s.leaderUrl === 'string') leader = s.leaderUrl;
      else await new Promise((r) => setTimeout(r, 50));
    }
    const post = async (path: string, body: unknown, status: number) => {
      const res = await httpJson('POST', `${leader}${path}`, body);
      if (res.status !== status) throw new Error(`${path}: ${res.status}`);
    };

    if (PARTS.has('raw')) {
      const vigil = await PutTarget.open(
        'Vigil raw 256 B put',
        `${leader}/bench/put`,
        () => descendants(child.pid!),
        { contentType: 'application/octet-stream', body: () => randomBytes(256), status: 204 },
      );
      try {
        const one = await sideBySide(join(dir, 'etcd'), vigil, report);
        if (one?.etcd && one.vigil.p50 <= one.etcd.p50) await atLatency(vigil, one.etcd, report);
        else if (one?.etcd)
          console.error(
            `[cluster] Vigil's single connection (p50 ${one.vigil.p50.toFixed(2)} ms) is already slower than etcd's (${one.etcd.p50.toFixed(2)} ms): no client count matches etcd's latency`,
          );
      } finally {
        vigil.close();
      }
      // the single client through node:http's agent, for comparison with the raw client
      const put = async () => {
        const res = await httpRequest('POST', `${leader}/bench/put`, randomBytes(256));
        if (res.status !== 204) throw new Error(`/bench/put: ${res.status}`);
      };
      report(
        writeRow(
          '3 processes, HTTP raw 256 B put via node:http agent',
          1,
          await bestOf(ROUNDS, () => measure(1, put)),
        ),
      );
    }
    if (!PARTS.has('deposit')) return;

    const att = (await httpJson('GET', `${leader}/v1/attestation`)).body as {
      cluster: Record<'clusterId' | 'clusterEncryptionKey' | 'receiptKey', string>;
    };
    const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
    const keys = {
      clusterId: hex(att.cluster.clusterId),
      clusterEncryptionKey: hex(att.cluster.clusterEncryptionKey),
      receiptKey: hex(att.cluster.receiptKey),
    };
    for (const clients of CLIENTS) {
      // deposits are CPU-bound (~10 ms of curve arithmetic per node): a few per client suffice
      const tenants = Array.from(
        { length: clients },
        (_, i) => new Tenant(`bench-${clients}-${i}`),
      );
      for (const t of tenants) {
        await post('/v1/tenants', commandToJson(operator.registerTenant(keys, t, testLimits)), 201);
      }
      const perClient = clients === 1 ? 120 : 4;
      const queues: Command[][] = tenants.map((t) =>
        Array.from({ length: perClient }, () =>
          t.deposit(keys, t.newWallet(), { group: 'rsa2048', iterations: 64 }),
        ),
      );
      const r = await measure(clients, (client) => {
        const cmd = queues[client]!.shift();
        return cmd === undefined ? null : post('/v1/deposits', commandToJson(cmd), 201);
      });
      report(writeRow('3 processes, HTTP deposit', clients, r));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** What one put sends and expects back. */
interface PutKind {
  contentType: string;
  body: () => Uint8Array;
  status: number;
}

/**
 * A cluster's leader written to by the raw client (raw-http.ts), one keep-alive connection per
 * benchmark client; a connection that fails is reopened on its next use. `pids` are the server
 * processes charged for the CPU.
 */
class PutTarget {
  readonly name: string;
  readonly url: string;
  readonly pids: () => number[];
  readonly kind: PutKind;
  readonly #conns: RawHttpConnection[];

  private constructor(
    name: string,
    url: string,
    pids: () => number[],
    kind: PutKind,
    conns: RawHttpConnection[],
  ) {
    this.name = name;
    this.url = url;
    this.pids = pids;
    this.kind = kind;
    this.#conns = conns;
  }

  static async open(
    name: string,
    url: string,
    pids: () => number[],
    kind: PutKind,
  ): Promise<PutTarget> {
    const n = Math.max(...PAIR_CLIENTS);
    const conns = await Promise.all(
      Array.from({ length: n }, () => RawHttpConnection.open(url, kind.contentType)),
    );
    return new PutTarget(name, url, pids, kind, conns);
  }

  /**
   * One put. A connection the server closed while idle (Vigil's after fastify's 72 s
   * keep-alive) is reopened first; a reply that takes over REQUEST_TIMEOUT_MS fails the put and
   * closes its connection.
   */
  async put(client: number): Promise<void> {
    let conn = this.#conns[client];
    if (!conn || conn.closed) {
      conn = await RawHttpConnection.open(this.url, this.kind.contentType);
      this.#conns[client] = conn;
    }
    let status: number;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.close();
    }, REQUEST_TIMEOUT_MS);
    try {
      status = await conn.post(this.kind.body());
    } catch (e) {
      conn.close();
      throw timedOut ? new Error(`${this.url}: no reply in ${REQUEST_TIMEOUT_MS} ms`) : e;
    } finally {
      clearTimeout(timer);
    }
    if (status !== this.kind.status) throw new Error(`${this.url}: ${status}`);
  }

  close(): void {
    for (const c of this.#conns) c?.close();
  }
}

/** Every process below `pid` (not `pid` itself): the cluster's members under its supervisor. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length && i < 64; i++) {
    for (const c of childPids(queue[i]!)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** One round of the side by side, with the servers' CPU per write in ms. */
interface Round extends Run {
  cpuMs: number;
  processes: number;
}

async function round(target: PutTarget, clients: number): Promise<Round> {
  const pids = target.pids();
  const cpu0 = cpuSeconds(pids);
  const r = await measure(clients, (client) => target.put(client), PAIR_SECONDS);
  const cpu = cpuSeconds(pids) - cpu0;
  return { ...r, cpuMs: r.writes > 0 ? (cpu * 1000) / r.writes : 0, processes: pids.length };
}

const median = (xs: number[]) => percentile(xs, 50);
const range = (xs: number[]) => `${fig(Math.min(...xs))}–${fig(Math.max(...xs))}`;

/** The medians over a target's rounds. */
function medians(rounds: Round[]): Round {
  const m = (f: (r: Round) => number) => median(rounds.map(f));
  return {
    perSecond: m((r) => r.perSecond),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    cpuMs: m((r) => r.cpuMs),
    processes: Math.max(...rounds.map((r) => r.processes)),
    failed: rounds.reduce((a, r) => a + r.failed, 0),
    writes: rounds.reduce((a, r) => a + r.writes, 0),
  };
}

const brief = (r: Round) =>
  `${fig(r.perSecond)}/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(1)} ms, CPU ${r.cpuMs.toFixed(2)} ms/write${r.failed > 0 ? `, ${r.failed} failed (${r.error})` : ''}`;

/**
 * Vigil (the 3-process cluster behind `vigil`) and, when `etcd` is on PATH, a 3-member etcd
 * cluster started under `dir`, driven by the same load generator in alternating rounds at each of
 * PAIR_CLIENTS connections. Reports each side's medians and the ratio; resolves with the
 * single-connection medians.
 */
async function sideBySide(
  dir: string,
  vigil: PutTarget,
  report: (row: BenchRow) => void,
): Promise<{ vigil: Round; etcd?: Round } | undefined> {
  const version = PARTS.has('etcd') ? etcdVersion() : null;
  if (PARTS.has('etcd') && version === null)
    console.log(`[cluster] etcd side by side SKIPPED: no etcd binary on PATH; ${ETCD_INSTALL}`);
  const cluster = version === null ? null : await startEtcd(dir);
  const etcd =
    cluster === null
      ? null
      : await PutTarget.open(
          `${version} kv put`,
          `${cluster.leaderUrl}/v3/kv/put`,
          () => cluster.pids,
          { contentType: 'application/json', body: etcdPutBody, status: 200 },
        );
  try {
    const targets = etcd ? [vigil, etcd] : [vigil];
    // Warm-up, the same for both: a fresh Node process runs its first seconds of writes on
    // unoptimised code and a young heap still growing (the first measured round after a 1 s
    // warm-up was ~35 % slower than the rest, etcd's within its noise); a server runs for months.
    for (const t of targets) {
      await measure(64, (client) => t.put(client), WARM_UP_SECONDS / 2);
      await measure(1, (client) => t.put(client), WARM_UP_SECONDS / 2);
    }
    let single: { vigil: Round; etcd?: Round } | undefined;
    for (const clients of PAIR_CLIENTS) {
      const rounds = targets.map((): Round[] => []);
      for (let i = 0; i < PAIR_ROUNDS; i++) {
        // Vigil first in even rounds, etcd first in odd ones: neither always follows the other
        for (const t of i % 2 === 0 ? [0, 1] : [1, 0])
          if (targets[t]) rounds[t]!.push(await round(targets[t]!, clients));
        console.error(
          `[cluster] ${plural(clients, 'connection')}, round ${i + 1}/${PAIR_ROUNDS}: ${targets.map((t, j) => `${t.name} ${brief(rounds[j]![i]!)}`).join(' | ')}`,
        );
      }
      const m = rounds.map(medians);
      const name = `${etcd ? 'side by side' : '3 processes, HTTP'}, ${plural(clients, 'connection')}:`;
      for (const [j, t] of targets.entries())
        report({
          suite: 'cluster',
          name: `${name} ${t.name}`,
          value: m[j]!.perSecond,
          unit: `writes/s (median of ${PAIR_ROUNDS} rounds of ${PAIR_SECONDS} s: p50 ${m[j]!.p50.toFixed(2)} ms, p99 ${m[j]!.p99.toFixed(1)} ms, CPU of its ${m[j]!.processes} server processes ${m[j]!.cpuMs.toFixed(2)} ms/write; rounds ${range(rounds[j]!.map((r) => r.perSecond))}/s${m[j]!.failed > 0 ? `, ${m[j]!.failed} failed` : ''})`,
        });
      if (clients === 1) single = { vigil: m[0]!, ...(m[1] ? { etcd: m[1] } : {}) };
      if (!etcd) continue;
      const ratios = rounds[0]!.map((v, i) => v.perSecond / rounds[1]![i]!.perSecond);
      const target = PAIR_TARGET[clients];
      const ratio = median(ratios);
      report({
        suite: 'cluster',
        name: `${name} Vigil / ${version}`,
        value: ratio,
        unit: `x writes/s (median of the rounds' ratios, rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; p50 ${m[0]!.p50.toFixed(2)} vs ${m[1]!.p50.toFixed(2)} ms, CPU per write ${m[0]!.cpuMs.toFixed(2)} vs ${m[1]!.cpuMs.toFixed(2)} ms)`,
        ...(target === undefined
          ? {}
          : {
              target: `>= ${target.toFixed(1)}x etcd`,
              met: ratio >= target && m[0]!.failed === 0,
            }),
      });
    }
    return single;
  } finally {
    etcd?.close();
    await cluster?.stop();
  }
}

/**
 * The most writes/s Vigil carries over 2, 4 or 8 clients while its median write stays within
 * etcd's single-connection median.
 */
async function atLatency(
  vigil: PutTarget,
  etcd: Round,
  report: (row: BenchRow) => void,
): Promise<void> {
  let best: (Run & { range: string; clients: number }) | undefined;
  for (const clients of [2, 4, 8]) {
    const r = await bestOf(ROUNDS, () => measure(clients, (client) => vigil.put(client)));
    console.error(
      `[cluster] ${clients} clients: ${fig(r.perSecond)}/s, p50 ${r.p50.toFixed(2)} ms`,
    );
    if (r.p50 > etcd.p50) break;
    if (!best || r.perSecond > best.perSecond) best = { ...r, clients };
  }
  if (best)
    report({
      ...writeRow(
        `3 processes, HTTP raw 256 B put at etcd's 1-connection latency (p50 <= ${etcd.p50.toFixed(2)} ms)`,
        best.clients,
        best,
      ),
      baseline: { name: 'etcd, 1 connection', value: etcd.perSecond, unit: 'writes/s' },
    });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 128, noDelay: true });

/** One request through the keep-alive agent; a Uint8Array body goes as application/octet-stream. */
function httpRequest(
  method: string,
  url: string,
  body?: Uint8Array | string,
  contentType = typeof body === 'string' ? 'application/json' : 'application/octet-stream',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers =
      body === undefined
        ? {}
        : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function httpJson(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await httpRequest(method, url, body === undefined ? undefined : JSON.stringify(body));
  return { status: res.status, body: JSON.parse(res.text || '{}') };
}

/**
 * What the load generator itself costs per request: one client's round trips to a no-op
 * node:http server in another process (two process wake-ups, as against the cluster), through
 * the raw client, node:http's keep-alive agent and fetch, with the client's CPU per request.
 */
async function clientCost(report: (row: BenchRow) => void): Promise<void> {
  const server = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:http').createServer((q, r) => q.resume().on('end', () => r.writeHead(204).end()));
       s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      server.once('exit', () => reject(new Error('no-op server exited')));
    });
    const url = `http://127.0.0.1:${port}/`;
    const raw = await RawHttpConnection.open(url);
    const clients: [string, () => Promise<void>][] = [
      [
        'raw HTTP/1.1 (test/bench/raw-http.ts)',
        async () => void (await raw.post(randomBytes(256))),
      ],
      [
        'node:http keep-alive agent',
        async () => void (await httpRequest('POST', url, randomBytes(256))),
      ],
      [
        'fetch (undici)',
        async () => {
          const res = await fetch(url, { method: 'POST', body: randomBytes(256) });
          await res.arrayBuffer();
        },
      ],
    ];
    for (const [name, op] of clients) {
      await measure(1, op, 0.5);
      let cpu = 0;
      const r = await bestOf(ROUNDS, async () => {
        const c0 = process.cpuUsage();
        const run = await measure(1, op, 1);
        const c = process.cpuUsage(c0);
        cpu = Math.min(cpu || Infinity, (c.user + c.system) / (run.perSecond * 1));
        return run;
      });
      report({
        suite: 'cluster',
        name: `client round trip to a no-op HTTP server, ${name}`,
        value: 1e6 / r.perSecond,
        unit: `µs per request (p50 ${(r.p50 * 1000).toFixed(0)} µs, client CPU ${cpu.toFixed(0)} µs${r.range})`,
      });
    }
    raw.close();
  } finally {
    server.kill('SIGTERM');
  }
}

export default suite;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const load = os.loadavg().map((l) => l.toFixed(1));
  console.error(
    `machine: ${os.cpus().length} x ${cpu}, node ${process.version}, load average ${load.join(' ')}`,
  );
  await suite((r) => console.log(formatRow(r)));
}
