/**
 * `vigil cluster start|node|status|recover` (docs/cluster.md). `start`, `status` and `recover`
 * manage a local development cluster (dev attestation, key-file sealing, one data directory);
 * `node` is also how an operator runs each production node on its own machine.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseHostAddress } from '../../cluster/index.ts';
import {
  chooseFounder,
  parseClusterNodeConfig,
  type RawFlags,
  type RecoveryView,
  readHello,
  readRecoveryView,
  recoverNodeProcess,
  recoverVault,
  recoveryViewFromJson,
  retireRaftDirs,
  runNodeProcess,
  StorageBox,
  slotStorageKey,
  superviseCluster,
  VaultError,
} from '../../vault/index.ts';
import { CliExit } from '../exit.ts';
import { isProcessAlive, runUntilSignal } from '../signals.ts';
import { withTransportOptions } from './transport-options.ts';

function operatorKey(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined) return undefined;
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new CliExit(2, '--operator-key: 32 bytes of lowercase hex');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function requireDevMode(flags: { insecureDevAttestation?: boolean }): void {
  if (flags.insecureDevAttestation !== true && process.env.VIGIL_INSECURE_DEV_ATTESTATION !== '1') {
    throw new CliExit(
      2,
      'a local cluster runs with the INSECURE dev attestation only: pass --insecure-dev-attestation',
    );
  }
}

async function slotsOf(dataDir: string): Promise<string[]> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  return names
    .filter((n) => /^node-\d+$/.test(n))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

/** A local (dev) cluster answers pages served from this machine, on any port. */
const LOCAL_CORS_ORIGINS = 'http://localhost:*,http://127.0.0.1:*';

export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('run and inspect a Raft cluster of vault nodes (local, or one node per machine)');

  cluster
    .command('start')
    .description('start a local cluster: one process per node, each printed with its URL')
    .requiredOption('--data-dir <dir>', 'the cluster directory')
    .option('--nodes <n>', '3 or 5', '3')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--operator-key <hex>', "the operator's BIP-340 key (required for a new vault)")
    .option('--insecure-dev-attestation', 'use the INSECURE development attestation')
    .option(
      '--cors-origins <list>',
      'origins whose web pages may call the read-only and claim routes',
      LOCAL_CORS_ORIGINS,
    )
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      requireDevMode(flags);
      const nodes = Number(flags.nodes);
      if (nodes !== 3 && nodes !== 5) throw new CliExit(2, '--nodes must be 3 or 5');
      operatorKey(flags.operatorKey as string | undefined);
      let sup: Awaited<ReturnType<typeof superviseCluster>>;
      try {
        sup = await superviseCluster({
          dataDir: resolve(String(flags.dataDir)),
          nodes,
          host: String(flags.host),
          operatorKeyHex: flags.operatorKey as string | undefined,
          corsOrigins: flags.corsOrigins as string,
          vigilScript: process.argv[1]!,
          log: (l) => console.log(l),
        });
      } catch (e) {
        throw new CliExit(1, (e as Error).message);
      }
      console.log(`cluster supervisor pid=${process.pid}`);
      await runUntilSignal(() => {
        console.log('stopping the cluster');
        return sup.stop();
      });
      console.log('cluster stopped');
    });

  withTransportOptions(cluster.command('node'))
    .description(
      'run one cluster node: on its own machine with --peers (production: Nitro, KMS), ' +
        'or spawned by `vigil cluster start` (docs/cluster.md, docs/configuration.md)',
    )
    .option('--data-dir <dir>', 'data directory; the node keeps <dir>/<slot>/ (env VIGIL_DATA_DIR)')
    .option('--slot <name>', "this node's stable name, e.g. node-1 (env VIGIL_SLOT)")
    .option('--cluster-id <id>', 'the same on every node of a cluster (env VIGIL_CLUSTER_ID)')
    .option('--host <host>', 'listen address, HTTP and Raft (env VIGIL_HOST; default 127.0.0.1)')
    .option('--port <port>', 'HTTP port (env VIGIL_PORT; default 0: any)')
    .option('--raft-port <port>', 'Raft peer-link port (env VIGIL_RAFT_PORT; default 0: any)')
    .option(
      '--advertise-host <host>',
      'the address peers reach this node at (env VIGIL_ADVERTISE_HOST; default --host)',
    )
    .option(
      '--peers <list>',
      "the other nodes' HTTP addresses: slot@host:port,... (env VIGIL_PEERS)",
    )
    .option('--found <slots>', 'found a new cluster with these slots (env VIGIL_FOUND)')
    .option('--boot <token>', 'founding token, the same on every founder (env VIGIL_BOOT)')
    .option(
      '--operator-key <hex>',
      "the operator's BIP-340 key; required to found a new vault (env VIGIL_OPERATOR_KEY)",
    )
    .option('--sealer <kind>', 'key-file (development) or aws-kms (env VIGIL_SEALER)')
    .option('--key-file <path>', 'storage key file for the key-file sealer (env VIGIL_KEY_FILE)')
    .option('--kms-key-id <id>', 'KMS key for the aws-kms sealer (env VIGIL_KMS_KEY_ID)')
    .option('--kms-region <region>', 'KMS region (env VIGIL_KMS_REGION)')
    .option('--kms-endpoint <url>', 'KMS endpoint, e.g. a vsock proxy (env VIGIL_KMS_ENDPOINT)')
    .option(
      '--expected-pcrs <list>',
      "PCRs every peer's Nitro document must carry: 0=<hex>,1=<hex>,... (env VIGIL_EXPECTED_PCRS)",
    )
    .option(
      '--insecure-dev-attestation',
      'use the INSECURE development attestation instead of Nitro (env VIGIL_INSECURE_DEV_ATTESTATION=1)',
    )
    .option(
      '--cors-origins <list>',
      'origins whose web pages may call the read-only and claim routes (env VIGIL_CORS_ORIGINS; default none)',
    )
    .option(
      '--storage <where>',
      'local (LevelDB under --data-dir) or host:<unix:/path | host:port> of `vigil host` (env VIGIL_STORAGE)',
    )
    .option(
      '--kms-credentials <source>',
      "default (the SDK's chain) or host (passed by the host agent) (env VIGIL_KMS_CREDENTIALS)",
    )
    .option(
      '--recover',
      "after a whole-cluster stop: rebuild this slot's vault from its stores (host agent's or disk's), print its view as JSON and exit (env VIGIL_RECOVER=1)",
    )
    .action(async (flags: RawFlags) => {
      const log = (l: string) => console.log(l);
      let node: Awaited<ReturnType<typeof runNodeProcess>>;
      try {
        const config = { ...parseClusterNodeConfig(flags, process.env), log };
        if (config.recover) {
          process.stdout.write(`${JSON.stringify(await recoverNodeProcess(config))}\n`);
          return;
        }
        node = await runNodeProcess(config);
      } catch (e) {
        if (e instanceof VaultError) throw new CliExit(2, `vigil cluster node: ${e.message}`);
        throw e;
      }
      await runUntilSignal(() => node.close());
    });

  cluster
    .command('status')
    .description(
      "each node's id, URL, pid, role, term, commit and applied index, and peers' progress",
    )
    .requiredOption('--data-dir <dir>', 'the cluster directory')
    .option('--json', 'print JSON: {"nodes": [...]}')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const dataDir = resolve(flags.dataDir);
      const nodes: Record<string, unknown>[] = [];
      for (const slot of await slotsOf(dataDir)) {
        const h = await readHello(dataDir, slot);
        if (!h) continue;
        try {
          const r = await fetch(`${h.url}/v1/cluster/status`, {
            signal: AbortSignal.timeout(2_000),
          });
          nodes.push({ ...((await r.json()) as object), slot, pid: h.pid });
        } catch {
          nodes.push({ id: h.id, slot, url: h.url, pid: h.pid, role: 'unreachable' });
        }
      }
      if (flags.json) {
        console.log(JSON.stringify({ nodes }));
        return;
      }
      for (const n of nodes) {
        const line = [n.slot, n.id, n.url, `pid=${n.pid}`, n.role];
        if (n.role !== 'unreachable')
          line.push(`term=${n.term}`, `commit=${n.commitIndex}`, `applied=${n.appliedIndex}`);
        console.log(line.join('  '));
        for (const p of (n.peers as Record<string, unknown>[] | undefined) ?? []) {
          console.log(
            `    peer ${p.id} match=${p.match} next=${p.next} ${p.state} inflight=${p.inflightMessages}`,
          );
        }
      }
    });

  cluster
    .command('recovery-view')
    .description(
      "print the view a host-stored node's --recover run left with its host agent (run on the parent instance)",
    )
    .requiredOption('--storage <where>', "host:<unix:/path | host:port> of the slot's `vigil host`")
    .requiredOption('--slot <name>', 'the slot')
    .action(async (flags: { storage: string; slot: string }) => {
      if (!flags.storage.startsWith('host:')) throw new CliExit(2, '--storage: host:<address>');
      let view: RecoveryView | null;
      try {
        view = await readRecoveryView(parseHostAddress(flags.storage.slice(5)), flags.slot);
      } catch (e) {
        throw new CliExit(1, `recovery-view: ${(e as Error).message}`);
      }
      if (view === null) throw new CliExit(1, `${flags.slot}: no --recover run left a view here`);
      process.stdout.write(`${JSON.stringify(view)}\n`);
    });

  cluster
    .command('recover')
    .description(
      'restart a stopped cluster from its disks: a new epoch, deposits kept, pending claims void; ' +
        'host-stored nodes: choose the founder from their --recover views (docs/operator-guide.md §5)',
    )
    .option('--data-dir <dir>', 'the local cluster directory (its supervisor must be stopped)')
    .option(
      '--views <files>',
      'host-stored nodes: the JSON views their `vigil cluster node --recover` printed, comma-separated',
    )
    .option('--slots <list>', 'with --views: every slot of the cluster, comma-separated')
    .action(async (flags: { dataDir?: string; views?: string; slots?: string }) => {
      if (flags.views !== undefined) {
        await chooseFounderCommand(flags.views, flags.slots);
        return;
      }
      if (flags.dataDir === undefined) throw new CliExit(2, 'recover: --data-dir or --views');
      const dataDir = resolve(flags.dataDir);
      const slots = await slotsOf(dataDir);
      for (const s of slots) {
        const h = await readHello(dataDir, s);
        if (h && isProcessAlive(h.pid))
          throw new CliExit(1, `${s} (pid ${h.pid}) is still running: stop the cluster first`);
      }
      for (const s of slots) {
        // a node on a host agent keeps its Raft state (and its generation) with the agent, not
        // here: recover reads only local Raft directories, so it would see "no disk" and mislead
        const files = await readdir(join(dataDir, s)).catch(() => [] as string[]);
        const hosted = !files.includes('generation') && !files.some((f) => f.startsWith('raft-'));
        if (hosted && files.includes('hello.json')) {
          throw new CliExit(
            1,
            `${s} kept its records with a host agent (--storage host:): recover reads local disks only; start each node with --recover, then choose the founder with --views (docs/operator-guide.md §5)`,
          );
        }
        // recover unseals every slot here, which only a key-file sealer allows
        if (await stat(join(dataDir, s, 'kms-data-key.blob')).catch(() => null)) {
          throw new CliExit(
            1,
            `${s} is sealed by AWS KMS, which only its node can open: start each node with --recover, then choose the founder with --views (docs/operator-guide.md §5)`,
          );
        }
      }
      const boxes = await Promise.all(
        slots.map(async (s) => ({
          slot: s,
          box: new StorageBox(await slotStorageKey(dataDir, s)),
        })),
      );
      let r: Awaited<ReturnType<typeof recoverVault>>;
      try {
        r = await recoverVault(boxes.map((b) => ({ dir: join(dataDir, b.slot), cipher: b.box })));
      } catch (e) {
        throw new CliExit(1, `recover failed: ${(e as Error).message}`);
      }
      await retireRaftDirs(boxes.map((b) => join(dataDir, b.slot)));
      console.log(
        `recovered from ${r.disks} disks: applied state of ${r.source} at index ${r.appliedIndex}, ` +
          `${r.replayed} later log entries replayed; vault of ${r.records} records, digest ` +
          `${Buffer.from(r.digest).toString('hex')}; start the cluster again to begin a new epoch`,
      );
    });
}

/** Which slot founds the recovered cluster, from the views of a majority of slots. */
async function chooseFounderCommand(files: string, slotList: string | undefined): Promise<void> {
  if (slotList === undefined) throw new CliExit(2, 'recover --views needs --slots');
  const slots = slotList.split(',').map((s) => s.trim());
  const views: RecoveryView[] = [];
  for (const file of files.split(',')) {
    try {
      views.push(recoveryViewFromJson(JSON.parse(await readFile(file.trim(), 'utf8'))));
    } catch (e) {
      throw new CliExit(2, `recover: ${file}: ${(e as Error).message}`);
    }
  }
  let founder: string;
  try {
    founder = chooseFounder(views, slots);
  } catch (e) {
    throw new CliExit(1, `recover: ${(e as Error).message}`);
  }
  const v = views.find((x) => x.slot === founder)!;
  process.stdout.write(
    `${JSON.stringify({
      founder,
      digest: v.digest,
      records: v.records,
      lastTerm: v.lastTerm,
      lastIndex: v.lastIndex,
      join: slots.filter((s) => s !== founder),
    })}\n`,
  );
}
