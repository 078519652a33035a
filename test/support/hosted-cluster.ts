/**
 * A cluster of `vigil cluster node --storage host:unix:<socket>` processes, each beside its own
 * `vigil host` agent, started one by one (not by `vigil cluster start`) so a test can place each
 * node and its agent where it likes (its own network namespace: test/support/netns.ts), serve
 * attested TLS, and kill or restart an agent or a node on its own.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DevAttestationProvider,
  DevAttestationVerifier,
  KeyFileSealer,
} from '../../vault/index.ts';
import { AttestedTls } from '../../vault/tls/index.ts';
import { NodeCluster } from './cluster.ts';
import type { Json } from './http.ts';
import { startVigil, type VigilProcess } from './processes.ts';

/** Where slot i runs: a command prefix for its processes, and its node's network flags. */
export interface Placement {
  prefix: string[];
  nodeArgs: string[];
}

export interface HostedOptions {
  size?: 3 | 5;
  /** Attested HTTPS on the API and peer links (else plain HTTP, dev attestation only). */
  tls: boolean;
  /** Default: this machine's loopback, any ports, peers found through the hello files. */
  place?: (i: number) => Placement;
  /**
   * Seal with the aws-kms sealer against a KMS (fake) that trusts the dev attestation key it is
   * given, instead of a key file: nothing of a node's then needs its own disk (an enclave's).
   */
  kms?: (devAttestationKey: Uint8Array) => Promise<{ args: string[]; env: NodeJS.ProcessEnv }>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class HostedCluster extends NodeCluster {
  readonly root: string;
  readonly hosts: VigilProcess[] = [];
  readonly nodes: VigilProcess[] = [];
  /** With TLS: a client that pins each node's key through its (dev) attestation. */
  client: AttestedTls | undefined;
  readonly #o: HostedOptions;
  #sealer: { args: string[]; env: NodeJS.ProcessEnv } = { args: [], env: {} };

  private constructor(root: string, o: HostedOptions) {
    super(o.size ?? 3, join(root, 'nodes'));
    this.root = root;
    this.#o = o;
  }

  /**
   * Starts every host agent, then every node founding the cluster, and waits until each says it
   * is ready. The caller then waits for `founded()` (with TLS, through `client.fetch`).
   */
  static async start(o: HostedOptions): Promise<HostedCluster> {
    const c = new HostedCluster(await mkdtemp(join(tmpdir(), 'vigil-hosted-')), o);
    // one dev attestation key for all, made before any node starts: each node verifies its
    // peers' documents with it, and so does the client
    await mkdir(c.dataDir, { mode: 0o700 });
    const devKey = join(c.dataDir, 'dev-attestation.key');
    await new KeyFileSealer({ path: devKey }).storageKey();
    const dev = new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: new Uint8Array(await readFile(devKey)),
      warn: () => {},
    });
    if (o.kms) c.#sealer = await o.kms(dev.publicKey);
    if (o.tls) {
      c.client = new AttestedTls({
        verifier: new DevAttestationVerifier({
          insecureDevAttestation: true,
          trustedKeys: [dev.publicKey],
          warn: () => {},
        }),
      });
    }
    await Promise.all(c.slots.map((_, i) => c.startHost(i)));
    for (let i = 0; i < c.size; i++) c.startNode(i, true);
    await c.ready();
    return c;
  }

  socket(i: number): string {
    return join(this.root, `${this.slots[i]}.sock`);
  }

  hostDir(i: number): string {
    return join(this.root, `host-${this.slots[i]}`);
  }

  #placement(i: number): Placement {
    return this.#o.place?.(i) ?? { prefix: [], nodeArgs: [] };
  }

  /** Starts slot i's host agent (again) and waits until it serves. */
  async startHost(i: number): Promise<VigilProcess> {
    const p = startVigil(
      ['host', '--data-dir', this.hostDir(i), '--listen', `unix:${this.socket(i)}`],
      {},
      this.#placement(i).prefix,
    );
    this.hosts[i] = p;
    await p.waitFor(/vigil host: serving/, 30_000);
    return p;
  }

  #nodeArgs(i: number): string[] {
    const args = ['cluster', 'node', '--data-dir', this.dataDir, '--slot', this.slots[i]!];
    args.push(
      '--cluster-id',
      'hosted',
      '--insecure-dev-attestation',
      ...this.#placement(i).nodeArgs,
    );
    args.push('--storage', `host:unix:${this.socket(i)}`, '--tls', this.#o.tls ? 'on' : 'off');
    return [...args, ...this.#sealer.args];
  }

  /**
   * Starts slot i's node: a founder of the cluster, the lone founder of a recovered one
   * (`'recovered'`: its host agent holds the copy its --recover run made), or (`false`) a new
   * member joining the cluster.
   */
  startNode(i: number, found: boolean | 'recovered'): VigilProcess {
    const args = this.#nodeArgs(i);
    if (found === 'recovered') args.push('--found', this.slots[i]!, '--boot', 'recovered');
    else if (found) {
      args.push('--found', this.slots.join(','), '--boot', 'b1');
      args.push('--operator-key', hex(this.operator.publicKey));
    }
    const p = startVigil(args, this.#sealer.env, this.#placement(i).prefix);
    this.nodes[i] = p;
    return p;
  }

  /** `vigil cluster node --recover` for slot i: resolves with the view it prints, or rejects. */
  async recoverSlot(i: number): Promise<Json> {
    const p = startVigil(
      [...this.#nodeArgs(i), '--recover'],
      this.#sealer.env,
      this.#placement(i).prefix,
    );
    const code = await p.exited;
    const last = p.output().trim().split('\n').at(-1) ?? '';
    if (code !== 0) throw new Error(`--recover of ${this.slots[i]} exited ${code}: ${p.output()}`);
    return JSON.parse(last) as Json;
  }

  /** Every node's own directory emptied, as an enclave's memory is when it stops (the dev
   *  attestation key stays: it stands for the Nitro hardware, not for the enclave). */
  async forgetNodeMemory(): Promise<void> {
    for (const slot of this.slots)
      await rm(join(this.dataDir, slot), { recursive: true, force: true });
  }

  /** Waits until every node (or only slot `i`'s) said it is ready. */
  async ready(i?: number): Promise<void> {
    const which = i === undefined ? this.slots.map((_, k) => k) : [i];
    await Promise.all(
      which.map((k) => this.nodes[k]!.waitFor(new RegExp(`ready ${this.slots[k]} `), 90_000)),
    );
  }

  /** SIGKILLs slot i's host agent and waits for its node to exit (it never runs without it). */
  async killHost(i: number): Promise<void> {
    this.hosts[i]!.child.kill('SIGKILL');
    await this.nodes[i]!.exited;
  }

  /** A fresh host agent on slot i's disk and its node restarted: waits until it is a member. */
  async rejoin(i: number): Promise<Json[]> {
    await this.startHost(i);
    this.startNode(i, false);
    await this.ready(i);
    return this.until(`${this.slots[i]} back as a new member`, () => this.converged(), 90_000);
  }

  async destroy(): Promise<void> {
    const all = [...this.nodes, ...this.hosts].filter((p) => p !== undefined);
    for (const p of all) p.child.kill('SIGKILL');
    await Promise.all(all.map((p) => p.exited));
    await this.client?.close();
    await rm(this.root, { recursive: true, force: true });
  }
}
