/**
 * etcd as the cluster benchmark's in-run baseline: a 3-member etcd cluster on loopback, started
 * from the `etcd` binary on PATH (Debian: `apt-get install etcd-server`, etcd 3.4), each member
 * with its own temporary data directory and fsync on (etcd's default), written to through its
 * JSON gateway (`POST /v3/kv/put`) at the leader. Also: which processes to charge CPU to, read
 * from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** How to get etcd for the side-by-side comparison, printed when it is missing. */
export const ETCD_INSTALL =
  'install etcd 3.4 to compare in the same run: apt-get install etcd-server (Debian/Ubuntu; stop the etcd service the package may start on port 2379)';

/** "etcd 3.4.23" when an `etcd` binary is on PATH, else null. */
export function etcdVersion(): string | null {
  try {
    const out = execFileSync('etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
    return `etcd ${/Version:\s*(\S+)/.exec(out)?.[1] ?? '(unknown version)'}`;
  } catch {
    return null;
  }
}

export interface EtcdCluster {
  /** The leader's client URL, e.g. http://127.0.0.1:40123. */
  leaderUrl: string;
  /** The members' process ids (for CPU accounting). */
  pids: number[];
  stop(): Promise<void>;
}

/** A port the kernel just handed out on 127.0.0.1 (free now; etcd binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface MemberStatus {
  header: { member_id: string };
  leader: string;
}

async function status(clientUrl: string): Promise<MemberStatus> {
  const res = await fetch(`${clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  if (!res.ok) throw new Error(`${clientUrl}: status ${res.status}`);
  return (await res.json()) as MemberStatus;
}

/**
 * Starts three etcd members under `dir` and resolves once all three agree on a leader (at most
 * 30 s). The members log to `dir/member-N.log`.
 */
export async function startEtcd(dir: string): Promise<EtcdCluster> {
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const clientUrls = ports.map((p) => `http://127.0.0.1:${p.client}`);
  const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const token = `vigil-bench-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (const [i, p] of ports.entries()) {
      await mkdir(join(dir, `m${i}`), { recursive: true });
      const log = openSync(join(dir, `member-${i}.log`), 'a');
      const child = spawn(
        'etcd',
        [
          `--name=m${i}`,
          `--data-dir=${join(dir, `m${i}`)}`,
          `--listen-client-urls=${clientUrls[i]}`,
          `--advertise-client-urls=${clientUrls[i]}`,
          `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
          `--initial-cluster=${initialCluster}`,
          '--initial-cluster-state=new',
          `--initial-cluster-token=${token}`,
          '--logger=zap',
          '--log-level=warn',
        ],
        { stdio: ['ignore', log, log] },
      );
      closeSync(log);
      children.push(child);
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (children.some((c) => c.exitCode !== null))
        throw new Error(`an etcd member exited; see ${dir}/member-*.log`);
      const all = await Promise.all(clientUrls.map((u) => status(u).catch(() => null)));
      const leader = all[0]?.leader;
      if (leader && leader !== '0' && all.every((s) => s?.leader === leader)) {
        const i = all.findIndex((s) => s?.header.member_id === leader);
        if (i >= 0) return { leaderUrl: clientUrls[i]!, pids: children.map((c) => c.pid!), stop };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd: no leader after 30 s; see ${dir}/member-*.log`);
  } catch (e) {
    await stop();
    throw e;
  }
}

let etcdKey = 0;

/** One `PUT` body for etcd's JSON gateway: a fresh key and a random 256-byte value, base64. */
export function etcdPutBody(): Buffer {
  const key = Buffer.from(`bench/${etcdKey++}`).toString('base64');
  const value = randomBytes(256).toString('base64');
  return Buffer.from(`{"key":"${key}","value":"${value}"}`);
}

/** The process ids whose parent is `pid` (Linux /proc; empty elsewhere). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const stat = procStat(Number(e));
    if (stat && Number(stat[1]) === pid) out.push(Number(e));
  }
  return out;
}

/** /proc/<pid>/stat's fields after the command name (field 3 onward), or null. */
function procStat(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ: 100 on every Linux Node runs on). */
const TICKS = 100;

/** User + system CPU seconds the processes have used so far (0 for any that is gone). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = procStat(pid);
    // utime and stime are fields 14 and 15; the array starts at field 3
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS;
}
