/**
 * `vigil cluster start`: one child process per node (`vigil cluster node`), each printed with its
 * URL; a child that dies is restarted as a new member (new identity, P4); SIGINT/SIGTERM stop
 * every child and wait for it. A cluster whose members are all gone is never restarted from its
 * disks here: that is `vigil cluster recover`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLUSTER_NODE_ENV } from './config.ts';
import { readHello } from './process.ts';

/**
 * Children are configured by their flags alone: a VIGIL_PORT or VIGIL_PEERS meant for some
 * other node must not make every local child bind one port or dial remote peers.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.values(CLUSTER_NODE_ENV)) delete env[name];
  return env;
}

export interface SupervisorOptions {
  dataDir: string;
  nodes: number;
  host: string;
  operatorKeyHex: string | undefined;
  /** Passed to every node as `--cors-origins` (absent: none). */
  corsOrigins?: string;
  /** The `vigil` entry script to run children with. */
  vigilScript: string;
  log: (line: string) => void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function anyLive(dataDir: string, slots: string[]): Promise<boolean> {
  for (const s of slots) {
    const h = await readHello(dataDir, s);
    if (!h) continue;
    try {
      const r = await fetch(`${h.url}/v1/cluster/status`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) return true;
    } catch {
      /* not this one */
    }
  }
  return false;
}

export async function superviseCluster(o: SupervisorOptions): Promise<{ stop(): Promise<void> }> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const idPath = join(o.dataDir, 'cluster-id');
  let clusterId = (await readFile(idPath, 'utf8').catch(() => '')).trim();
  if (!clusterId) {
    clusterId = randomBytes(8).toString('hex');
    await writeFile(idPath, `${clusterId}\n`);
  }
  const slots = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
  const fresh = !(
    await Promise.all(slots.map((s) => exists(join(o.dataDir, s, 'generation'))))
  ).some(Boolean);
  const recovered = (
    await Promise.all(slots.map((s) => exists(join(o.dataDir, s, 'recovered'))))
  ).some(Boolean);
  const found = fresh || recovered;
  if (!found && !(await anyLive(o.dataDir, slots))) {
    throw new Error(
      'no member of this cluster is running: a restart of the whole cluster from disk goes through `vigil cluster recover`',
    );
  }
  const boot = randomBytes(8).toString('hex');
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (slot: string, founding: boolean) => {
    const args = [o.vigilScript, 'cluster', 'node', '--data-dir', o.dataDir, '--slot', slot];
    args.push('--host', o.host, '--cluster-id', clusterId, '--insecure-dev-attestation');
    if (founding) args.push('--found', slots.join(','), '--boot', boot);
    if (o.operatorKeyHex) args.push('--operator-key', o.operatorKeyHex);
    if (o.corsOrigins) args.push('--cors-origins', o.corsOrigins);
    const child = spawn(process.execPath, args, {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(slot, child);
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = line.match(/^ready (\S+) (\S+) (\S+)$/);
        if (m) o.log(`${m[1]} ${m[3]} id=${m[2]} pid=${child.pid}`);
      }
    });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${slot}] ${d.toString()}`));
    child.on('exit', (code, signal) => {
      if (children.get(slot) !== child || stopping) return;
      o.log(`${slot} exited (${signal ?? code}); restarting it as a new member`);
      setTimeout(() => {
        if (!stopping) launch(slot, false);
      }, 300);
    });
  };
  for (const s of slots) launch(s, found);

  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const hard = setTimeout(() => c.kill('SIGKILL'), 5_000);
              c.once('exit', () => {
                clearTimeout(hard);
                resolve();
              });
              c.kill('SIGTERM');
              c.kill('SIGCONT'); // a stopped child must run to handle SIGTERM
            }),
        ),
      );
    },
  };
}
