/**
 * One cluster node as an OS process (`vigil cluster node`, spawned by `vigil cluster start`).
 * Layout of the data directory D:
 *   D/dev-attestation.key   shared dev signing key (insecure dev attestation only)
 *   D/<slot>/storage.key    this slot's storage key (key-file sealer, development)
 *   D/<slot>/generation     restarts of this slot; each start is a new identity
 *   D/<slot>/raft-<id>/     the Raft log and applied state of one identity (sealed LevelDB)
 *   D/<slot>/hello.json     this slot's current identity, URLs and pid (for peers and status)
 *   D/<slot>/recovered.bin  a recovered vault (sealed) waiting to be the genesis of a new cluster
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KeyFileSealer, StorageBox } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { buildVaultApp } from '../http/app.ts';
import { clusterApi, memberFromJson, memberToJson, RaftMetrics } from './api.ts';
import type { LogCommand, Member } from './codec.ts';
import { devAttestation, listenLocalMember, newGenesis } from './local.ts';
import type { ClusterMember } from './member.ts';

export interface NodeProcessOptions {
  dataDir: string;
  slot: string;
  host: string;
  operatorKey: Uint8Array | undefined;
  /** Found a new cluster with these slots (all must start with the same boot token). */
  found?: { slots: string[]; boot: string };
  clusterId: string;
  log: (line: string) => void;
}

export interface Hello {
  slot: string;
  id: string;
  url: string;
  pid: number;
  generation: number;
  boot: string;
  member: ReturnType<typeof memberToJson>;
}

export async function readHello(dataDir: string, slot: string): Promise<Hello | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, slot, 'hello.json'), 'utf8')) as Hello;
  } catch {
    return null;
  }
}

export async function slotStorageKey(dataDir: string, slot: string): Promise<Uint8Array> {
  await mkdir(join(dataDir, slot), { recursive: true, mode: 0o700 });
  return new KeyFileSealer({ path: join(dataDir, slot, 'storage.key') }).storageKey();
}

async function nextGeneration(dir: string): Promise<number> {
  const path = join(dir, 'generation');
  const prev = Number((await readFile(path, 'utf8').catch(() => '0')).trim()) || 0;
  await writeFile(path, `${prev + 1}\n`);
  return prev + 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningNode {
  member: ClusterMember;
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function runNodeProcess(o: NodeProcessOptions): Promise<RunningNode> {
  const slotDir = join(o.dataDir, o.slot);
  await mkdir(slotDir, { recursive: true, mode: 0o700 });
  const devKey = await new KeyFileSealer({
    path: join(o.dataDir, 'dev-attestation.key'),
  }).storageKey();
  const attestation = devAttestation(devKey);
  const storageKey = await slotStorageKey(o.dataDir, o.slot);
  const box = new StorageBox(storageKey);
  const generation = await nextGeneration(slotDir);

  let genesis: LogCommand | undefined;
  if (o.found) {
    const recovered = await readFile(join(slotDir, 'recovered.bin')).catch(() => null);
    if (recovered) {
      genesis = { kind: 'restore', state: box.open('recovered.bin', recovered), members: [] };
    } else if (o.operatorKey) {
      genesis = newGenesis(o.operatorKey);
    } else {
      throw new Error('founding a new vault needs --operator-key');
    }
  }
  const metrics = new RaftMetrics();
  const member = await listenLocalMember({
    dir: o.dataDir,
    slot: o.slot,
    generation,
    attestation,
    storageKey,
    clusterId: o.clusterId,
    genesis,
    onFsync: (s) => metrics.fsyncSeconds.observe(s),
  });
  metrics.attach(member);
  let url = '';
  const app = await buildVaultApp({
    backend: member,
    attestation: attestation.provider,
    cluster: clusterApi(member, metrics, () => url),
    rateLimitPerMinute: 1_000_000,
    logger: false,
  });
  if (process.env.VIGIL_BENCH_RAW_PUT === '1') {
    // Benchmark-only (npm run bench:cluster): a raw put through Raft that changes no vault state.
    app.post('/bench/raw-put', { schema: { hide: true } }, async (req) => {
      const hex = (req.body as { payload?: unknown })?.payload;
      if (typeof hex !== 'string' || !/^([0-9a-f]{2}){1,1024}$/.test(hex)) {
        throw new VaultError('MALFORMED', 'payload: up to 1 KiB of hex');
      }
      await member.benchPut(new Uint8Array(Buffer.from(hex, 'hex')));
      return { ok: true };
    });
  }
  await app.listen({ host: o.host, port: 0 });
  const address = app.server.address();
  url = `http://${o.host}:${typeof address === 'object' && address ? address.port : 0}`;
  const record = member.record(url);
  const boot = o.found?.boot ?? '';
  const hello: Hello = {
    slot: o.slot,
    id: member.id,
    url,
    pid: process.pid,
    generation,
    boot,
    member: memberToJson(record),
  };
  await writeFile(join(slotDir, 'hello.json.tmp'), JSON.stringify(hello));
  await rename(join(slotDir, 'hello.json.tmp'), join(slotDir, 'hello.json'));

  if (o.found) {
    const founders: Member[] = [];
    for (const slot of o.found.slots) {
      for (;;) {
        const h = await readHello(o.dataDir, slot);
        if (h && h.boot === boot) {
          founders.push(memberFromJson(h.member));
          break;
        }
        await sleep(50);
      }
    }
    member.setFounders(founders);
    await member.start();
    // consumed: the new cluster holds it now (a retired copy stays for the operator)
    await rename(join(slotDir, 'recovered.bin'), join(slotDir, 'recovered.bin.used')).catch(
      () => {},
    );
  } else {
    await member.start(await join_(o, record));
  }
  o.log(`ready ${o.slot} ${member.id} ${url}`);
  return {
    member,
    app,
    url,
    async close() {
      await app.close();
      await member.close();
    },
  };
}

/** Asks the live members (through their HTTP API; a follower redirects to the leader) to admit us. */
async function join_(o: NodeProcessOptions, self: Member): Promise<Member[]> {
  const body = JSON.stringify({ member: memberToJson(self) });
  for (let attempt = 0; ; attempt++) {
    for (const slot of await readdir(o.dataDir)) {
      if (slot === o.slot) continue;
      const h = await readHello(o.dataDir, slot);
      if (!h) continue;
      try {
        const res = await fetch(`${h.url}/v1/cluster/join`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        if (res.ok) {
          const out = (await res.json()) as { members: unknown[] };
          return out.members.map(memberFromJson);
        }
      } catch {
        /* try the next member */
      }
    }
    await sleep(Math.min(1_000, 100 * (attempt + 1)));
  }
}
