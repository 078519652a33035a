/**
 * Real local clusters for the process fault tests: `vigil cluster start` (one process per node),
 * or nodes started one by one (test/support/hosted-cluster.ts) seen through the same base: read
 * every node's status, wait for convergence, stream deposits and claims at it, claim and solve a
 * wallet, and leave no process or directory behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  claimToJson,
  depositToJson,
  openRelease,
  parseRelease,
  pingToJson,
  readHello,
  solutionToJson,
  tenantRegistrationToJson,
} from '../../vault/index.ts';
import {
  Claimant,
  Operator,
  type Tenant,
  type TestWallet,
} from '../../vault/node/actors.test-support.ts';
import { solve } from '../../vdf/index.ts';
import { fetchJson, type Json, postJson, sleep } from './http.ts';
import { startVigil, type VigilProcess } from './processes.ts';

export type ClusterKeys = Parameters<Tenant['deposit']>[0];

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const urlsOf = (nodes: Json[]) => nodes.map((n) => n.url as string);
const started: ProcessCluster[] = [];

/** For `afterAll`: kills whatever a failed test left running and removes the data directories. */
export async function cleanupClusters(): Promise<void> {
  for (const c of started.splice(0)) await c.destroy();
}

/**
 * What every multi-process cluster of these tests shares, however its nodes were started: each
 * slot's node found through its hello file under `dataDir`, read, waited on and written to.
 */
export class NodeCluster {
  readonly size: number;
  readonly dataDir: string;
  readonly operator = new Operator();
  readonly slots: string[];
  /** Every node pid seen: after `stop()` none may be alive. */
  readonly pids = new Set<number>();
  /** Set once the founding cluster converged. */
  keys!: ClusterKeys;
  #last: Json[] = [];

  constructor(size: number, dataDir: string) {
    this.size = size;
    this.dataDir = dataDir;
    this.slots = Array.from({ length: size }, (_, i) => `node-${i + 1}`);
  }

  /** Waits for the founding cluster to converge and reads the cluster's keys from it. */
  async founded(ms = 60_000): Promise<Json[]> {
    const nodes = await this.until('the founding cluster', () => this.converged(), ms);
    const att = (await fetchJson(`${nodes[0]!.url}/v1/attestation`)).json;
    this.keys = {
      clusterId: Buffer.from(att.cluster.clusterId, 'hex'),
      clusterEncryptionKey: Buffer.from(att.cluster.clusterEncryptionKey, 'hex'),
      receiptKey: Buffer.from(att.cluster.receiptKey, 'hex'),
    };
    return nodes;
  }

  /** Each slot's current node: its `/v1/cluster/status` plus pid, or `role: 'unreachable'`. */
  async statuses(): Promise<Json[]> {
    const out = await Promise.all(
      this.slots.map(async (slot): Promise<Json | null> => {
        const h = await readHello(this.dataDir, slot);
        if (!h) return null;
        this.pids.add(h.pid);
        try {
          return { ...(await fetchJson(`${h.url}/v1/cluster/status`)).json, pid: h.pid };
        } catch {
          return { slot, id: h.id, pid: h.pid, url: h.url, role: 'unreachable' };
        }
      }),
    );
    return out.filter((s): s is Json => s !== null);
  }

  /**
   * Converged: every slot answers and holds the epoch, one leader, everyone applied the same
   * index, and the voters are exactly the live identities. (A replacement that is still a learner
   * while its dead predecessor is still a voter leaves fewer live voters than it seems; pausing
   * one of them could rightly stop the cluster.)
   */
  async converged(): Promise<Json[] | undefined> {
    const s = await this.statuses();
    this.#last = s;
    if (s.length !== this.size || s.some((n) => n.role === 'unreachable' || !n.epochReady)) {
      return undefined;
    }
    const leaders = s.filter((n) => n.role === 'leader');
    if (leaders.length !== 1) return undefined;
    const ids = new Set(s.map((n) => n.id as string));
    const { voters, learners } = leaders[0]! as { voters: string[]; learners?: string[] };
    if (voters.length !== this.size || !voters.every((v) => ids.has(v))) return undefined;
    if ((learners?.length ?? 0) > 0) return undefined;
    return new Set(s.map((n) => n.appliedIndex)).size === 1 ? s : undefined;
  }

  /** Polls `f` until it returns something truthy; a timeout names `what` and the last statuses. */
  async until<T>(
    what: string,
    f: () => Promise<T | undefined | null | false>,
    ms = 45_000,
  ): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await f().catch(() => undefined);
      if (v) return v;
      if (Date.now() > end) {
        const brief = this.#last.map((n) => ({
          slot: n.slot,
          id: n.id,
          role: n.role,
          term: n.term,
          applied: n.appliedIndex,
          voters: n.voters,
          learners: n.learners,
          epochReady: n.epochReady,
        }));
        throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(brief)}`);
      }
      await sleep(100);
    }
  }

  /** Registers `tenant` through `url` (a follower redirects to the leader); returns the status. */
  async registerTenant(url: string, tenant: Tenant): Promise<number> {
    const reg = this.operator.registerTenant(this.keys, tenant);
    if (reg.type !== 'registerTenant') throw new Error('unreachable');
    return (await postJson(`${url}/v1/tenants`, tenantRegistrationToJson(reg.registration))).status;
  }

  /** Records each slot's current node pid (from its hello file). */
  protected async notePids(): Promise<void> {
    for (const slot of this.slots) {
      const h = await readHello(this.dataDir, slot);
      if (h) this.pids.add(h.pid);
    }
  }
}

export class ProcessCluster extends NodeCluster {
  readonly supervisor: VigilProcess;

  private constructor(size: number, dataDir: string) {
    super(size, dataDir);
    this.supervisor = startVigil([
      'cluster',
      'start',
      '--nodes',
      String(size),
      '--data-dir',
      dataDir,
      '--operator-key',
      hex(this.operator.publicKey),
      '--insecure-dev-attestation',
    ]);
  }

  /** Starts `vigil cluster start --nodes <size>` and waits for the founding cluster to converge. */
  static async start(size: 3 | 5): Promise<{ cluster: ProcessCluster; nodes: Json[] }> {
    const c = new ProcessCluster(size, await mkdtemp(join(tmpdir(), `vigil-cluster${size}-`)));
    started.push(c);
    await c.supervisor.waitFor(new RegExp(`node-${size} http`), 60_000);
    return { cluster: c, nodes: await c.founded() };
  }

  /** `vigil cluster status --json`, run as its own process. */
  async statusCli(): Promise<Json[]> {
    const p = startVigil(['cluster', 'status', '--data-dir', this.dataDir, '--json']);
    const code = await p.exited;
    if (code !== 0) throw new Error(`vigil cluster status exited ${code}: ${p.output()}`);
    return (JSON.parse(p.output()) as { nodes: Json[] }).nodes;
  }

  /** SIGTERM to the supervisor; returns its exit code and the node pids still alive after it. */
  async stop(): Promise<{ code: number | null; alive: number[] }> {
    await this.notePids();
    this.supervisor.child.kill('SIGTERM');
    const code = await this.supervisor.exited;
    return { code, alive: [...this.pids].filter(isAlive) };
  }

  async destroy(): Promise<void> {
    this.supervisor.child.kill('SIGKILL');
    // a SIGKILLed supervisor's children outlive it: kill every node we know of
    await this.notePids();
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writers depositing new wallets of `tenant` (every fifth one also claimed) at the nodes in
 * `live`, round robin; only acknowledged writes are recorded. A failed request (a node died or
 * stopped under us) is simply followed by the next one, usually at another node.
 */
export class WriteStream {
  readonly acked: string[] = [];
  readonly claims: string[] = [];
  live: string[];
  #stop = false;
  readonly #writers: Promise<void>[];
  readonly #cluster: NodeCluster;

  constructor(cluster: NodeCluster, tenant: Tenant, live: string[], writers = 4) {
    this.#cluster = cluster;
    this.live = live;
    this.#writers = Array.from({ length: writers }, (_, k) => this.#write(k, tenant));
  }

  async #write(k: number, tenant: Tenant): Promise<void> {
    const keys = this.#cluster.keys;
    for (let i = 0; !this.#stop; i++) {
      const w = tenant.newWallet();
      const cmd = tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 });
      if (cmd.type !== 'deposit') throw new Error('unreachable');
      const url = this.live[(k + i) % this.live.length]!;
      try {
        const d = await postJson(`${url}/v1/deposits`, depositToJson(cmd.deposit));
        if (d.status !== 201) {
          await sleep(50);
          continue;
        }
        const id = hex(w.walletId);
        this.acked.push(id);
        if (i % 5 !== 0) continue;
        const nonce = await postJson(`${url}/v1/wallets/${id}/claim-nonce`, {});
        if (nonce.status !== 200) continue;
        const c = new Claimant(w).claim(keys, Buffer.from(nonce.json.nonce, 'hex'));
        if (c.type !== 'claim') throw new Error('unreachable');
        const res = await postJson(`${url}/v1/claims`, claimToJson(c.claim));
        if (res.status === 201) this.claims.push(res.json.claim.claimId);
      } catch {
        await sleep(50);
      }
    }
  }

  /** Waits until `n` more deposits were acknowledged than when called. */
  async more(n: number, what: string): Promise<void> {
    const before = this.acked.length;
    await this.#cluster.until(what, async () => this.acked.length >= before + n);
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#writers);
  }
}

const NOT_PROPOSED = new Set(['OVERLOADED', 'EPOCH_NOT_READY', 'NOT_READY']);

/**
 * Deposits `perTenant` new wallets for each of `tenants` (registered already) through `url`, one
 * writer per tenant (a tenant's deposits must arrive in sequence order), each deposit prepared
 * just before it is sent: the curve work of the next overlaps the cluster's work on the others.
 * Every deposit must be acknowledged (201); returns how many were.
 */
export async function depositMany(
  url: string,
  keys: ClusterKeys,
  tenants: Tenant[],
  perTenant: number,
): Promise<number> {
  let acked = 0;
  const wallet = tenants[0]!.newWallet(); // one key set, a fresh wallet id per deposit
  await Promise.all(
    tenants.map(async (t) => {
      for (let i = 0; i < perTenant; i++) {
        const w = { ...wallet, walletId: randomBytes(32) };
        const d = t.deposit(keys, w, { group: 'rsa2048', iterations: 64 });
        if (d.type !== 'deposit') throw new Error('unreachable');
        const body = depositToJson(d.deposit);
        let res = await postJson(`${url}/v1/deposits`, body);
        // refused before it was proposed (busy, or no epoch yet): the same deposit again
        while (res.status === 503 && NOT_PROPOSED.has(res.json.error?.code)) {
          await sleep(100);
          res = await postJson(`${url}/v1/deposits`, body);
        }
        if (res.status !== 201)
          throw new Error(`deposit: ${res.status} ${JSON.stringify(res.json)}`);
        acked += 1;
      }
    }),
  );
  return acked;
}

/** Every node in `nodes` holds every acknowledged deposit and knows every acknowledged claim. */
export async function missingWrites(nodes: Json[], stream: WriteStream): Promise<string[]> {
  const missing: string[] = [];
  for (const n of nodes) {
    for (const id of stream.acked) {
      const got = await fetchJson(`${n.url}/v1/wallets/${id}`);
      if (got.status !== 200) missing.push(`${n.id} wallet ${id}: ${got.status}`);
    }
    for (const claimId of stream.claims) {
      const got = await fetchJson(`${n.url}/v1/claims/${claimId}`);
      if (got.status !== 200) missing.push(`${n.id} claim ${claimId}: ${got.status}`);
    }
  }
  return missing;
}

/** Each node's status of one claim (they must agree once the cluster converged). */
export async function claimStatuses(nodes: Json[], claimId: string): Promise<string[]> {
  return Promise.all(
    nodes.map(async (n) => (await fetchJson(`${n.url}/v1/claims/${claimId}`)).json.status),
  );
}

/** The status of one claim that every node in `nodes` agrees on, or all of them when they differ. */
export async function agreedClaimStatus(nodes: Json[], claimId: string): Promise<string> {
  const all = await claimStatuses(nodes, claimId);
  return new Set(all).size === 1 ? all[0]! : `nodes disagree: ${all.join(', ')}`;
}

/**
 * A ping by `tenant`: its nonce asked at `nonceUrl` (retried through the documented 503 of a
 * leader that does not hold the epoch yet), the signed ping posted at `pingUrl`.
 */
export async function pingTenant(
  cluster: NodeCluster,
  tenant: Tenant,
  nonceUrl: string,
  pingUrl: string,
): Promise<{ status: number; json: Json }> {
  const pn = await cluster.until('a ping nonce', async () => {
    const r = await postJson(`${nonceUrl}/v1/tenants/${tenant.name}/ping-nonce`, {});
    return r.status !== 503 && r;
  });
  if (pn.status !== 200) throw new Error(`ping nonce: ${pn.status} ${JSON.stringify(pn.json)}`);
  const ping = tenant.ping(cluster.keys, Buffer.from(pn.json.nonce, 'hex'));
  if (ping.type !== 'ping') throw new Error('unreachable');
  return postJson(`${pingUrl}/v1/pings`, pingToJson(ping.ping));
}

/** A wallet deposited, claimed and its VDF solved: the solution is ready to submit. */
export interface SolvedClaim {
  wallet: TestWallet;
  claimant: Claimant;
  claimId: string;
  seed: Uint8Array;
  solution: ReturnType<typeof solutionToJson>;
}

/** Deposits `w` with the smallest T its tenant's policy allows, claims it and solves the VDF. */
export async function depositClaimSolve(
  url: string,
  keys: ClusterKeys,
  tenant: Tenant,
  iterations: number,
): Promise<SolvedClaim> {
  const wallet = tenant.newWallet();
  const d = tenant.deposit(keys, wallet, { group: 'rsa2048', iterations });
  if (d.type !== 'deposit') throw new Error('unreachable');
  const dep = await postJson(`${url}/v1/deposits`, depositToJson(d.deposit));
  if (dep.status !== 201) throw new Error(`deposit: ${dep.status} ${JSON.stringify(dep.json)}`);
  const id = hex(wallet.walletId);
  const nonce = await postJson(`${url}/v1/wallets/${id}/claim-nonce`, {});
  if (nonce.status !== 200) throw new Error(`claim nonce: ${nonce.status}`);
  const claimant = new Claimant(wallet);
  const c = claimant.claim(keys, Buffer.from(nonce.json.nonce, 'hex'));
  if (c.type !== 'claim') throw new Error('unreachable');
  const res = await postJson(`${url}/v1/claims`, claimToJson(c.claim));
  if (res.status !== 201) throw new Error(`claim: ${res.status} ${JSON.stringify(res.json)}`);
  const claim = res.json.claim;
  const seed = new Uint8Array(Buffer.from(claim.seed, 'hex'));
  const r = await solve({
    group: claim.group,
    seed,
    iterations: claim.iterations,
    workers: 'never',
  });
  const claimId = new Uint8Array(Buffer.from(claim.claimId, 'hex'));
  const solution = solutionToJson({ claimId, y: r.output, proof: r.proof });
  return { wallet, claimant, claimId: claim.claimId, seed, solution };
}

/**
 * POSTs the solution with an exactly-once session (`x-vigil-client`/`x-vigil-seq`), so a retry
 * of a request whose outcome was unknown gets the first reply instead of a second decision.
 * `ms` is longer than the node's 10 s commit timeout, so a stalled commit answers for itself.
 */
export async function submitSolution(
  url: string,
  s: SolvedClaim,
  session: { client: string; seq: number },
  ms = 15_000,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}/v1/claims/${s.claimId}/solution`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-vigil-client': session.client,
      'x-vigil-seq': String(session.seq),
    },
    body: JSON.stringify({ y: s.solution.y, proof: s.solution.proof }),
    signal: AbortSignal.timeout(ms),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** Opens a release JSON with the claimant's ephemeral key: the x2 it carries, checked against Q2. */
export function openReleaseJson(keys: ClusterKeys, s: SolvedClaim, release: unknown): bigint {
  const x2 = openRelease({
    clusterId: keys.clusterId,
    release: parseRelease(release),
    seed: s.seed,
    ephemeralSecretKey: s.claimant.ephemeralSecretKey,
    ephemeralKey: s.claimant.ephemeralKey,
    q2: s.wallet.q2,
  });
  return BigInt(`0x${hex(x2)}`);
}

/**
 * Submits the solution round robin to `urls` with one session until some node answers 200, and
 * returns the x2 that release carries. Each try gives up after 3 s: a follower may redirect to a
 * stopped leader, which accepts the connection and never answers.
 */
export async function releaseWithRetries(
  cluster: NodeCluster,
  urls: string[],
  s: SolvedClaim,
  session: { client: string; seq: number },
): Promise<bigint> {
  let i = 0;
  const release = await cluster.until(`the release of claim ${s.claimId}`, async () => {
    const r = await submitSolution(urls[i++ % urls.length]!, s, session, 3_000);
    return r.status === 200 && r.json.release;
  });
  return openReleaseJson(cluster.keys, s, release);
}
