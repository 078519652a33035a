/**
 * One cluster node as an OS process (`vigil cluster node`): spawned by `vigil cluster start` on a
 * laptop (siblings share one data directory and find each other through it), or started by an
 * operator on its own machine with `--peers` (peers found through their HTTP API). Layout of the
 * data directory D:
 *   D/dev-attestation.key   dev signing key (insecure dev attestation only; every node needs it)
 *   D/<slot>/storage.key    this slot's storage key (key-file sealer, development)
 *   D/<slot>/kms-data-key.blob  the KMS-wrapped storage key (aws-kms sealer)
 *   D/<slot>/generation     restarts of this slot; each start is a new identity
 *   D/<slot>/raft-<id>/     the Raft log and applied state of one identity (sealed LevelDB)
 *   D/<slot>/hello.json     this slot's current identity, URLs and pid (for peers and status)
 *   D/<slot>/recovered/     a recovered vault (sealed records) waiting to found a new cluster
 * With `--storage host:<address>` the Raft directories live with the host agent instead, under
 * the same relative names (<slot>/raft-<id>) in its own data directory, and so do the generation
 * and the KMS-wrapped key (<slot>/meta) and a recovered vault (<slot>/recovered-*, pointed at
 * from <slot>/meta; slot-recovery.ts): an enclave's own directory is memory.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  bumpHostCounter,
  HostClient,
  HostError,
  HostKvStore,
  type KvStore,
} from '../../cluster/index.ts';
import {
  hostCredentialProvider,
  KeyFileSealer,
  NitroAttestationProvider,
  NitroAttestationVerifier,
  StorageBox,
} from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { buildVaultApp } from '../http/app.ts';
import { sealerFor, socketsFor, tlsFor } from '../node/serve.ts';
import { AttestedTls } from '../tls/index.ts';
import { clusterApi, memberFromJson, memberToJson, RaftMetrics } from './api.ts';
import type { LogCommand, Member } from './codec.ts';
import type { ClusterNodeConfig } from './config.ts';
import { PeerVerifier } from './identity.ts';
import { devAttestation, listenLocalMember, type NodeAttestation, newGenesis } from './local.ts';
import type { ClusterMember } from './member.ts';
import { openRecovered, type RecoveredRecords, retireRecovered } from './recover.ts';
import {
  hostBlobKeeper,
  hostMetaNamespace,
  openHostRecovered,
  type RecoveryView,
  recoverHostedSlot,
  recoverLocalSlot,
  retireHostRecovered,
} from './slot-recovery.ts';

export interface NodeProcessOptions extends ClusterNodeConfig {
  log: (line: string) => void;
}

type Fetch = typeof fetch;

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

/** `[::1]` → `::1` for sockets; URLs keep the brackets. */
const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1');
const urlHost = (host: string) => (bare(host).includes(':') ? `[${bare(host)}]` : host);

/**
 * The node's attestation: Nitro (fails at start where there is no NSM, never falling back) or
 * the insecure dev one, each with the peer policy that decides whom to trust.
 */
async function nodeAttestation(o: NodeProcessOptions): Promise<NodeAttestation> {
  const a = o.attestation;
  if (a.kind === 'nitro') {
    const provider = new NitroAttestationProvider();
    try {
      await provider.attest({ nonce: new Uint8Array(32) });
    } catch (e) {
      throw new VaultError(
        'ATTESTATION_UNAVAILABLE',
        `nitro attestation is unavailable: ${(e as Error).message}; ` +
          'a development node needs --insecure-dev-attestation',
        503,
      );
    }
    const verifier = new PeerVerifier({
      verifier: new NitroAttestationVerifier({ allowDebug: false }),
      images: a.images,
      log: o.log,
    });
    return { provider, verifier };
  }
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const signingKey = await new KeyFileSealer({
    path: join(o.dataDir, 'dev-attestation.key'),
  }).storageKey();
  return devAttestation(signingKey, { log: o.log, images: a.images });
}

/** Where a node finds the other nodes' hellos: sibling files, or their HTTP API. */
interface PeerFinder {
  hello(slot: string): Promise<Hello | null>;
  /** HTTP URLs to ask for admission. */
  joinUrls(): Promise<string[]>;
}

function siblingFinder(o: NodeProcessOptions): PeerFinder {
  return {
    hello: (slot) => readHello(o.dataDir, slot),
    async joinUrls() {
      const urls: string[] = [];
      for (const slot of await readdir(o.dataDir)) {
        if (slot === o.slot) continue;
        const h = await readHello(o.dataDir, slot);
        if (h) urls.push(h.url);
      }
      return urls;
    },
  };
}

const MAX_HELLO_BYTES = 300_000;

/** A peer's hello as served over HTTP: untrusted until its member's attestation verifies. */
export function helloFromJson(v: unknown): Hello {
  const o = (v ?? {}) as Record<string, unknown>;
  const member = memberFromJson(o.member);
  const { slot, url, boot, pid, generation } = o;
  if (typeof slot !== 'string' || slot !== member.slot)
    throw new VaultError('MALFORMED', "hello.slot must be its member's slot");
  if (typeof url !== 'string' || url !== member.httpUrl)
    throw new VaultError('MALFORMED', "hello.url must be its member's httpUrl");
  if (typeof boot !== 'string' || boot.length > 64)
    throw new VaultError('MALFORMED', 'hello.boot: a string');
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(generation))
    throw new VaultError('MALFORMED', 'hello.pid and hello.generation: integers');
  return {
    slot,
    id: member.id,
    url,
    pid: pid as number,
    generation: generation as number,
    boot,
    member: memberToJson(member),
  };
}

function httpFinder(o: NodeProcessOptions, peerFetch: Fetch): PeerFinder {
  const others = (o.peers ?? []).filter((p) => p.slot !== o.slot);
  // every node of a cluster serves the same scheme: attested HTTPS, or plain HTTP in dev
  const scheme = o.tls ? 'https' : 'http';
  const refusals = new Set<string>();
  const base = (p: { host: string; port: number }) => `${scheme}://${urlHost(p.host)}:${p.port}`;
  return {
    async hello(slot) {
      const p = others.find((x) => x.slot === slot);
      if (!p) return null;
      try {
        const res = await peerFetch(`${base(p)}/v1/cluster/hello`, {
          signal: AbortSignal.timeout(5_000),
        });
        const text = await res.text();
        if (!res.ok || text.length > MAX_HELLO_BYTES) return null;
        const h = helloFromJson(JSON.parse(text));
        if (h.slot !== slot) {
          o.log(`${base(p)} answers as ${h.slot}, not ${slot}: check --peers`);
          return null;
        }
        return h;
      } catch (e) {
        // not up yet, or not a vault node: asked again; a node whose TLS key is not attested
        // is refused, and said once
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        if (cause?.code === 'TLS_NOT_ATTESTED' && !refusals.has(cause.message ?? '')) {
          refusals.add(cause.message ?? '');
          o.log(`refused ${slot}: TLS_NOT_ATTESTED: ${cause.message}`);
        }
        return null;
      }
    },
    joinUrls: async () => others.map(base),
  };
}

export interface RunningNode {
  member: ClusterMember;
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** The host agent of `--storage host:<address>`: its connection, and the store it keeps for a dir. */
async function hostAgent(
  o: NodeProcessOptions,
): Promise<{ client: HostClient; openStore: (dir: string) => Promise<KvStore> } | null> {
  if (o.storage.kind !== 'host') return null;
  // Without its store the node cannot go on; it exits, and comes back as a new member (P4).
  const fatal = (e: Error) => {
    console.error(`vigil cluster node ${o.slot}: storage failed, exiting: ${e.message}`);
    setImmediate(() => process.exit(1));
  };
  let client: HostClient;
  try {
    client = await HostClient.connect(o.storage.address, { onLost: fatal });
  } catch (e) {
    const why = e instanceof HostError ? e.message : String(e);
    throw new VaultError('HOST_UNAVAILABLE', `cannot reach the host agent: ${why}`, 503);
  }
  o.log('storage: the Raft log and vault records are kept by the host agent (sealed, checked)');
  return {
    client,
    openStore: (dir) => HostKvStore.open(client, relative(o.dataDir, dir), { onBroken: fatal }),
  };
}

/** What every start of a slot needs first: its attestation, its host agent and its storage key. */
async function openSlot(o: NodeProcessOptions) {
  const attestation = await nodeAttestation(o);
  const slotDir = join(o.dataDir, o.slot);
  await mkdir(slotDir, { recursive: true, mode: 0o700 });
  const host = await hostAgent(o);
  const credentials =
    host && o.kmsCredentials === 'host'
      ? hostCredentialProvider(() => host.client.credentials())
      : undefined;
  const sockets = socketsFor(o.transport);
  // an enclave's own disk is memory: the wrapped data key is kept by the host agent
  const blob = o.storage.kind === 'host' ? hostBlobKeeper(o.storage.address, o.slot) : undefined;
  const sealer = sealerFor(o.sealer, slotDir, attestation.provider, sockets, credentials, blob);
  if (sealer.insecure) {
    o.log('storage key sealed by a local key file: for development only, not for production');
  }
  const storageKey = await sealer.storageKey();
  return { attestation, slotDir, host, sockets, storageKey, box: new StorageBox(storageKey) };
}

/**
 * `vigil cluster node --recover`: rebuilds this slot's vault from the stores its host agent (or
 * its own disk) holds, leaves the copy beside them and returns the view to report
 * (slot-recovery.ts).
 */
export async function recoverNodeProcess(o: NodeProcessOptions): Promise<RecoveryView> {
  const { host, box, slotDir } = await openSlot(o);
  try {
    return o.storage.kind === 'host'
      ? await recoverHostedSlot(o.storage.address, o.slot, box)
      : await recoverLocalSlot(slotDir, o.slot, box);
  } finally {
    await host?.client.close();
  }
}

export async function runNodeProcess(o: NodeProcessOptions): Promise<RunningNode> {
  const { attestation, slotDir, host, sockets, storageKey, box } = await openSlot(o);
  const hostAddress = o.storage.kind === 'host' ? o.storage.address : null;
  // an enclave's own disk is memory: its generation is kept by the host agent
  const generation = hostAddress
    ? await bumpHostCounter(hostAddress, hostMetaNamespace(o.slot), 'generation')
    : await nextGeneration(slotDir);
  // Peers' HTTPS keys are trusted through their attestation, judged by this node's peer policy.
  const peerTls = new AttestedTls({
    verifier: attestation.verifier,
    sockets,
    allowPlainHttp: o.attestation.kind === 'insecure-dev',
  });
  const finder = o.peers ? httpFinder(o, peerTls.fetch) : siblingFinder(o);

  let genesis: LogCommand | undefined;
  let recovered: RecoveredRecords | undefined;
  if (o.found) {
    recovered =
      (hostAddress
        ? await openHostRecovered(hostAddress, o.slot, box)
        : await openRecovered(slotDir, box)) ?? undefined;
    if (recovered) {
      o.log(`founding from the recovered vault: ${recovered.count} records`);
    } else if (o.operatorKey) {
      genesis = newGenesis(o.operatorKey);
    } else {
      throw new VaultError('CONFIG_INVALID', 'founding a new vault needs --operator-key', 500);
    }
  }
  const metrics = new RaftMetrics();
  const member = await listenLocalMember({
    dir: o.dataDir,
    slot: o.slot,
    generation,
    attestation,
    storageKey,
    openStore: host?.openStore,
    clusterId: o.clusterId,
    host: bare(o.host),
    port: o.raftPort,
    sockets,
    genesis,
    recovered,
    onHalt: (e) => {
      // the node can no longer apply the log: say why and exit (the supervisor restarts the
      // slot as a new member, which gets the cluster's vault by snapshot)
      console.error(`vigil cluster node ${o.slot}: halted: ${e.message}`);
      setImmediate(() => process.exit(1));
    },
    onFsync: (s) => metrics.fsyncSeconds.observe(s),
    onQuorum: (q) => {
      if (q.state === 'lost')
        console.error(`vigil cluster node ${o.slot}: quorum lost: ${q.advice}`);
      else if (q.state === 'ok') console.error(`vigil cluster node ${o.slot}: a leader is known`);
    },
  });
  metrics.attach(member);
  let url = '';
  let hello: Hello | null = null;
  const tls = tlsFor(o.tls, o.log);
  const app = await buildVaultApp({
    ...(tls ? { tls } : {}),
    backend: member,
    attestation: attestation.provider,
    cluster: clusterApi(member, metrics, () => url),
    rateLimitPerMinute: 1_000_000,
    corsOrigins: o.corsOrigins,
    logger: { level: 'warn' }, // unexpected errors are logged (never request bodies)
  });
  // How peers started with --peers learn this node's attested record (verified before use).
  app.get('/v1/cluster/hello', async () => {
    if (hello === null) throw new VaultError('CLUSTER_NOT_READY', 'not listening yet', 503);
    return hello;
  });
  try {
    await app.listen(sockets.listenTarget('http', { host: o.host, port: o.port }));
  } catch (e) {
    await member.close();
    await host?.client.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  url = `${tls ? 'https' : 'http'}://${urlHost(o.advertiseHost)}:${port}`;
  // peers dial the advertised address, not the (possibly wildcard) listen address
  const record: Member = await member.record(url, bare(o.advertiseHost));
  const boot = o.found?.boot ?? '';
  hello = {
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
    member.setPhase('waiting for the other founders of this cluster');
    o.log(`${o.slot}: waiting for the other founders`);
    member.setFounders(await founders(o, finder, attestation.verifier, record, boot));
    await member.start();
    // consumed: the new cluster holds it now (a retired copy stays for the operator)
    if (recovered && hostAddress) await retireHostRecovered(hostAddress, o.slot);
    else if (recovered) await retireRecovered(slotDir);
  } else {
    member.setPhase('asking the cluster to admit this node');
    o.log(`${o.slot}: asking the cluster to admit ${member.id}`);
    await member.start(await join_(finder, record, peerTls.fetch));
    // a copy this slot's --recover run left was not the founder's: never found from it later
    if (hostAddress) await retireHostRecovered(hostAddress, o.slot);
  }
  o.log(`ready ${o.slot} ${member.id} ${url}`);
  return {
    member,
    app,
    url,
    async close() {
      await app.close();
      await member.close();
      await host?.client.close();
      await peerTls.close();
    },
  };
}

/**
 * Every founder's record from this founding (same boot token), each admitted only once its
 * attestation verifies: an address that answers with a bad document is refused (logged) and
 * asked again, never trusted.
 */
async function founders(
  o: NodeProcessOptions,
  finder: PeerFinder,
  verifier: PeerVerifier,
  self: Member,
  boot: string,
): Promise<Member[]> {
  const out: Member[] = [];
  for (const slot of o.found?.slots ?? []) {
    if (slot === o.slot) {
      out.push(self);
      continue;
    }
    for (;;) {
      const h = await finder.hello(slot);
      if (h && h.boot === boot) {
        const m = memberFromJson(h.member);
        // a replayed record of another founder would give one identity two votes
        if (out.some((f) => f.id === m.id)) {
          o.log(`${slot} answers with ${m.id}, already a founder: refused`);
        } else if (verifier.admits(m)) {
          out.push(m);
          break;
        }
      }
      await sleep(h ? 500 : 50);
    }
  }
  return out;
}

/** Asks the live members (through their HTTP API; a follower redirects to the leader) to admit us. */
async function join_(finder: PeerFinder, self: Member, peerFetch: Fetch): Promise<Member[]> {
  const body = JSON.stringify({ member: memberToJson(self) });
  for (let attempt = 0; ; attempt++) {
    for (const url of await finder.joinUrls()) {
      try {
        const res = await peerFetch(`${url}/v1/cluster/join`, {
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
