/**
 * The local stack behind `npm start`: a 3-node vault cluster (dev attestation, key-file sealers,
 * LevelDB under the data directory) and a cosigner registered as a tenant, each a real process
 * running the `vigil` CLI. `stack.json` in the data directory tells `vigil demo` and `vigil wallet
 * create --stack` where they are; the vault nodes are reached through stable ports (stack-fronts.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import {
  KeyFileSealer,
  signTenantRegistration,
  type TenantLimits,
  tenantRegistrationToJson,
} from '../vault/index.ts';
import { openStackFronts, type StackFronts } from './stack-fronts.ts';

export interface StackInfo {
  dataDir: string;
  vaultUrls: string[];
  /**
   * The vault nodes in slot order: `url` is the stable address the stack forwards (the one
   * wallets record), `nodeUrl` and `pid` the node process as first started (the supervisor gives
   * a node it restarts a new port and pid).
   */
  nodes: { slot: string; url: string; nodeUrl: string; pid: number }[];
  cosignerUrl: string;
  cosignerPid: number;
  supervisorPid: number;
  tenant: string;
  /** Ed25519 key of the cluster's INSECURE dev attestation: what a wallet pins locally. */
  devAttestationKey: string;
}

export const STACK_FILE = 'stack.json';
export const DEMO_LIMITS: TenantLimits = {
  groups: ['class1024', 'rsa2048'],
  minIterations: 16,
  maxIterations: 1_000_000_000,
  maxWallets: 100_000,
  maxClaims: 100,
};

interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function spawnVigil(args: string[], log: (line: string) => void, label: string): Child {
  const child = spawn(process.execPath, [process.argv[1]!, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'warn' },
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const line of d.toString().split('\n')) if (line.trim()) log(`[${label}] ${line}`);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    process: child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((ok, fail) => {
        const check = () => {
          const m = text.match(pattern);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`${label}: no ${pattern} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiters.add(check);
        exited.then((code) => {
          if (!waiters.delete(check)) return;
          clearTimeout(timer);
          fail(new Error(`${label} exited (${code}) before it was ready`));
        });
        check();
      });
    },
  };
}

async function secretKeyFile(path: string): Promise<Uint8Array> {
  return new KeyFileSealer({ path }).storageKey();
}

/** Retries while the cluster is still electing a leader or applying its genesis (503s). */
async function untilReady<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  let last = '';
  for (;;) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (err) {
      // fetch's network failures (a node still binding its port) are TypeErrors; others are final.
      if (!(err instanceof TypeError)) throw err;
      last = err.message;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: the cluster was not ready in 90 s ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function registerTenant(
  vaultUrl: string,
  operatorSecret: Uint8Array,
  t: { tenant: string; tenantKey: string; pingKey: string },
): Promise<void> {
  const clusterId = await untilReady('reading the cluster id', async () => {
    const res = await fetch(`${vaultUrl}/v1/attestation`);
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { cluster?: { clusterId?: string } };
    return body.cluster?.clusterId;
  });
  const registration = signTenantRegistration(
    Buffer.from(clusterId, 'hex'),
    {
      tenant: t.tenant,
      tenantKey: Buffer.from(t.tenantKey, 'hex'),
      pingKey: Buffer.from(t.pingKey, 'hex'),
      limits: DEMO_LIMITS,
    },
    operatorSecret,
    crypto.getRandomValues(new Uint8Array(32)),
  );
  await untilReady(`registering tenant ${t.tenant}`, async () => {
    const res = await fetch(`${vaultUrl}/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tenantRegistrationToJson(registration)),
    });
    // 409: registered by an earlier start of this stack. 5xx: no leader yet, try again.
    if (res.status === 201 || res.status === 409) return true;
    if (res.status >= 500) return undefined;
    throw new Error(`registering tenant ${t.tenant}: HTTP ${res.status} ${await res.text()}`);
  });
}

export interface RunningStack {
  info: StackInfo;
  /** Resolves when the stack stops by itself (a process died) or after stop(). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(opts: {
  dataDir: string;
  cosignerPort: number;
  log: (line: string) => void;
}): Promise<RunningStack> {
  const dataDir = resolve(opts.dataDir);
  const clusterDir = join(dataDir, 'cluster');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const operatorSecret = await secretKeyFile(join(dataDir, 'operator.key'));
  const operatorKey = hex(schnorr.getPublicKey(operatorSecret));

  if (existsSync(join(clusterDir, 'node-1', 'generation'))) {
    // A whole-cluster restart from disk is an explicit recovery (P4): a new epoch voids claims.
    opts.log(
      'restarting the cluster from disk: `vigil cluster recover` (pending claims are voided)',
    );
    const recover = spawnVigil(
      ['cluster', 'recover', '--data-dir', clusterDir],
      opts.log,
      'recover',
    );
    const code = await recover.exited;
    if (code !== 0) throw new Error(`vigil cluster recover failed (exit ${code})`);
  }

  const children: Child[] = [];
  let fronts: StackFronts | undefined;
  const stopAll = async () => {
    await fronts?.close();
    for (const c of children.reverse()) {
      if (c.process.exitCode === null) c.process.kill('SIGTERM');
      await Promise.race([c.exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (c.process.exitCode === null) c.process.kill('SIGKILL');
    }
  };
  try {
    const cluster = spawnVigil(
      [
        'cluster',
        'start',
        '--nodes',
        '3',
        '--data-dir',
        clusterDir,
        '--insecure-dev-attestation',
        '--operator-key',
        operatorKey,
      ],
      opts.log,
      'cluster',
    );
    children.push(cluster);
    await cluster.waitFor(/(^node-\d+ http\S+ .*\n[\s\S]*){3}/m, 120_000);
    // In slot order, so "vault node-2" here is node-2 in `vigil cluster status` too.
    const started = [...cluster.output().matchAll(/^(node-\d+) (http:\/\/\S+) id=\S+ pid=(\d+)/gm)]
      .map((m) => ({ slot: m[1]!, nodeUrl: m[2]!, pid: Number(m[3]) }))
      .sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
    if (started.length < 3) throw new Error('the cluster did not report its node URLs');
    fronts = await openStackFronts({
      dataDir,
      clusterDir,
      slots: started.map((n) => n.slot),
    });
    const vaultUrls = fronts.urls;
    const nodes = started.map((n, i) => ({ ...n, url: vaultUrls[i]! }));
    const devKey = hex(
      ed25519.getPublicKey(await secretKeyFile(join(clusterDir, 'dev-attestation.key'))),
    );

    const cosigner = spawnVigil(
      [
        'cosigner',
        'start',
        '--data-dir',
        join(dataDir, 'cosigner'),
        '--port',
        String(opts.cosignerPort),
        '--vault',
        vaultUrls[0]!,
        '--tenant',
        'demo-provider',
        '--ping-interval',
        '2',
        '--insecure-dev-attestation',
        '--dev-attestation-key',
        devKey,
        '--groups',
        'rsa2048',
        '--min-iterations',
        '16',
        '--max-iterations',
        String(DEMO_LIMITS.maxIterations),
        '--pool-size',
        '2',
      ],
      opts.log,
      'cosigner',
    );
    children.push(cosigner);
    const m = await cosigner.waitFor(
      /cosigner listening on (\S+)\ntenant (\S+)\ntenant key (\S+)\nping key (\S+)/,
      120_000,
    );
    const [, cosignerUrl, tenant, tenantKey, pingKey] = m as unknown as string[];
    await registerTenant(vaultUrls[0]!, operatorSecret, {
      tenant: tenant!,
      tenantKey: tenantKey!,
      pingKey: pingKey!,
    });
    const info: StackInfo = {
      dataDir,
      vaultUrls,
      cosignerUrl: cosignerUrl!,
      nodes,
      cosignerPid: cosigner.process.pid!,
      supervisorPid: cluster.process.pid!,
      tenant: tenant!,
      devAttestationKey: devKey,
    };
    await writeFile(join(dataDir, STACK_FILE), `${JSON.stringify(info, null, 2)}\n`);
    const clusterDown = cluster.exited.then(() => opts.log('the cluster supervisor exited'));
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        await stopAll();
        await rm(join(dataDir, STACK_FILE), { force: true });
      })();
      return stopping;
    };
    return { info, stopped: clusterDown.then(stop), stop };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export async function readStack(dataDir: string): Promise<StackInfo | null> {
  try {
    return JSON.parse(await readFile(join(resolve(dataDir), STACK_FILE), 'utf8')) as StackInfo;
  } catch {
    return null;
  }
}
