/**
 * `npm run bench:cluster`: a 3-node cluster on loopback with fsync on (in one process, real TCP
 * peer links, sealed LevelDB). Writes/s with p50 and p99 at 1 and 64 concurrent clients for
 * vault deposits (through Raft and the vault state machine, answered after commit + apply) and
 * for raw 256-byte puts through the Raft layer (`ClusterMember.benchPut`, benchmark-only: a log
 * entry that changes no state but pays every Raft cost: sealing, leader fsync, replication over
 * the encrypted links, follower fsync, commit, apply). Beside: a synced 256-byte LevelDB put
 * measured in the same run, and etcd 3.4's reference figures from the issue.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { Command } from '../../vault/index.ts';
import { Operator, Tenant, testLimits } from '../../vault/node/actors.test-support.ts';
import { startLocalCluster } from '../../vault/replicated/local.ts';
import type { ClusterMember } from '../../vault/replicated/member.ts';
import { repoRoot } from '../support/processes.ts';
import { type BenchRow, type BenchSuite, formatRow } from './report.ts';

const ETCD = { oneClient: 548, sixtyFour: 2_986, p99ms: 55 };
const SECONDS = 3;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

async function measure(clients: number, next: () => (() => Promise<unknown>) | null): Promise<Run> {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const op = next();
        if (op === null) return;
        const t0 = performance.now();
        await op();
        lat.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: lat.length / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function waitLeader(members: ClusterMember[]): Promise<ClusterMember> {
  for (;;) {
    const l = members.find((m) => m.isLeader && m.epochReady);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const suite: BenchSuite = async (report) => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-cluster-'));
  const row = (name: string, value: number, unit: string, extra: Partial<BenchRow> = {}) =>
    report({ suite: 'cluster', name, value, unit, ...extra });
  let members: ClusterMember[] = [];
  try {
    const raw = new Level<string, Uint8Array>(join(dir, 'raw'), { valueEncoding: 'view' });
    let k = 0;
    const level1 = await measure(
      1,
      () => () => raw.put(`k${k++}`, randomBytes(256), { sync: true }),
    );
    const level64 = await measure(
      64,
      () => () => raw.put(`k${k++}`, randomBytes(256), { sync: true }),
    );
    await raw.close();
    const levelBase = (r: Run) => ({
      name: 'synced LevelDB put',
      value: r.perSecond,
      unit: 'puts/s',
    });

    const operator = new Operator();
    const c = await startLocalCluster({ n: 3, dir, operatorKey: operator.publicKey });
    members = c.members;
    const leader = await waitLeader(members);

    for (const clients of [1, 64]) {
      const r = await measure(clients, () => () => leader.benchPut(randomBytes(256)));
      const lvl = clients === 1 ? level1 : level64;
      const etcd = clients === 1 ? ETCD.oneClient : ETCD.sixtyFour;
      row(`raw 256 B put via Raft, ${clients} client(s)`, r.perSecond, 'writes/s', {
        baseline: levelBase(lvl),
        target: `>= 1.5x etcd 3.4 (${etcd}/s), p99 <= ${ETCD.p99ms} ms`,
        met: r.perSecond >= 1.5 * etcd && r.p99 <= ETCD.p99ms,
      });
      row(`raw put p50 / p99, ${clients} client(s)`, r.p50, `ms p50 (p99 ${r.p99.toFixed(1)} ms)`);
    }

    // deposits: prepared ahead (the clients' own crypto is not the cluster's cost)
    const keys = leader.publicKeys;
    const prepared: Command[] = [];
    const tenants = Array.from({ length: 6 }, (_, i) => new Tenant(`bench${i}`));
    for (const t of tenants) await leader.submit(operator.registerTenant(keys, t, testLimits));
    for (const t of tenants) {
      for (let i = 0; i < testLimits.maxWallets - 1; i++) {
        if (prepared.length >= 5_000) break;
        prepared.push(t.deposit(keys, t.newWallet(), { group: 'rsa2048', iterations: 64 }));
      }
    }
    // per tenant, deposits must arrive in sequence order: one queue per tenant, clients share them
    for (const clients of [1, 64]) {
      let failed = 0;
      const r = await measure(clients, () => {
        const cmd = prepared.shift();
        if (cmd === undefined) return null;
        return () =>
          leader.submit(cmd).catch(() => {
            failed += 1;
          });
      });
      const lvl = clients === 1 ? level1 : level64;
      const etcd = clients === 1 ? ETCD.oneClient : ETCD.sixtyFour;
      row(`deposits via Raft, ${clients} client(s)`, r.perSecond, 'writes/s', {
        baseline: levelBase(lvl),
        target: `>= 1.5x etcd 3.4 (${etcd}/s), p99 <= ${ETCD.p99ms} ms`,
        met: r.perSecond >= 1.5 * etcd && r.p99 <= ETCD.p99ms,
      });
      row(
        `deposit p50 / p99, ${clients} client(s)`,
        r.p50,
        `ms p50 (p99 ${r.p99.toFixed(1)} ms, ${failed} rejected)`,
      );
    }
    await Promise.all(members.map((m) => m.close()));
    members = [];
    await processes(dir, operator, report, { level1, level64 });
    row('etcd 3.4 reference, 1 connection', ETCD.oneClient, 'writes/s');
    row('etcd 3.4 reference, 64 connections', ETCD.sixtyFour, `writes/s (p99 ${ETCD.p99ms} ms)`);
  } finally {
    await Promise.all(members.map((m) => m.close()));
    await rm(dir, { recursive: true, force: true });
  }
};

/** The same over HTTP against a real 3-process cluster (`vigil cluster start`). */
async function processes(
  dir: string,
  operator: Operator,
  report: (row: BenchRow) => void,
  levels: { level1: Run; level64: Run },
): Promise<void> {
  const dataDir = join(dir, 'procs');
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'vigil.mjs'),
      'cluster',
      'start',
      '--nodes',
      '3',
      '--data-dir',
      dataDir,
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
    let leaderUrl = '';
    for (;;) {
      const s = (await httpJson('GET', `${url}/v1/cluster/status`)).body as Record<string, unknown>;
      if (s.epochReady && typeof s.leaderUrl === 'string') {
        leaderUrl = s.leaderUrl;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const clients of [1, 64]) {
      const r = await measure(clients, () => async () => {
        const res = await httpJson('POST', `${leaderUrl}/bench/raw-put`, {
          payload: randomBytes(256).toString('hex'),
        });
        if (res.status !== 200) throw new Error(`raw put: ${res.status}`);
      });
      const lvl = clients === 1 ? levels.level1 : levels.level64;
      const etcd = clients === 1 ? ETCD.oneClient : ETCD.sixtyFour;
      report({
        suite: 'cluster',
        name: `3 processes, HTTP raw 256 B put, ${clients} client(s)`,
        value: r.perSecond,
        unit: `writes/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms)`,
        baseline: { name: 'synced LevelDB put', value: lvl.perSecond, unit: 'puts/s' },
        target: `>= 1.5x etcd 3.4 (${etcd}/s), p99 <= ${ETCD.p99ms} ms`,
        met: r.perSecond >= 1.5 * etcd && r.p99 <= ETCD.p99ms,
      });
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

function httpJson(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export default suite;

if (import.meta.url === `file://${process.argv[1]}`) {
  await suite((r) => console.log(formatRow(r)));
}
