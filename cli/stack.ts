/**
 * The local stack behind `npm start`: a 3-node vault cluster (dev attestation, key-file sealers,
 * LevelDB under the data directory) and a cosigner registered as a tenant, each a real process
 * running the `vigil` CLI. `stack.json` in the data directory tells `vigil demo` and `vigil wallet
 * create --stack` where they are; the vault nodes are reached through stable ports (stack-fronts.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import { KeyFileSealer } from '../vault/index.ts';
import { type Child, spawnVigil } from './child.ts';
import { startProvider } from './provider.ts';
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

async function secretKeyFile(path: string): Promise<Uint8Array> {
  return new KeyFileSealer({ path }).storageKey();
}

/** The stack's operator key, which registers tenants; never created here (a new one is useless). */
export async function readOperatorKey(dataDir: string): Promise<Uint8Array> {
  const path = join(resolve(dataDir), 'operator.key');
  if (!existsSync(path))
    throw new Error(`no operator key at ${path}: is this a \`vigil start\` data folder?`);
  return secretKeyFile(path);
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

    const provider = await startProvider({
      dataDir: join(dataDir, 'cosigner'),
      port: opts.cosignerPort,
      vaultUrls,
      tenant: 'demo-provider',
      devAttestationKey: devKey,
      operatorSecret,
      log: opts.log,
      label: 'cosigner',
    });
    const cosigner = provider.child;
    children.push(cosigner);
    const info: StackInfo = {
      dataDir,
      vaultUrls,
      cosignerUrl: provider.url,
      nodes,
      cosignerPid: cosigner.process.pid!,
      supervisorPid: cluster.process.pid!,
      tenant: provider.tenant,
      devAttestationKey: devKey,
    };
    await writeFile(join(dataDir, STACK_FILE), `${JSON.stringify(info, null, 2)}\n`);
    let stopping: Promise<void> | undefined;
    const clusterDown = cluster.exited.then(() => {
      if (!stopping) opts.log('the cluster supervisor exited');
    });
    // A cosigner that dies leaves the stack up (the vault still serves claims) but must not go
    // unnoticed: the banner said it pings every 2 s.
    void cosigner.exited.then((code) => {
      if (stopping) return;
      opts.log(
        `the cosigner (pid ${info.cosignerPid}) exited (${code ?? 'killed'}): no more pings, ` +
          'no new wallets or signatures; restart the stack (Ctrl-C, npm start) to bring it back',
      );
    });
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
