/**
 * In-process clusters (tests, benchmarks): N members in one process over real loopback TCP
 * links, dev attestation, sealed LevelDB storage with fsync. `vigil cluster start` runs the
 * same members as separate processes (process.ts), which also builds members on Nitro.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import type { KvStore, RaftConfig, SocketTransport } from '../../cluster/index.ts';
import {
  type AttestationProvider,
  DevAttestationProvider,
  DevAttestationVerifier,
  StorageBox,
} from '../enclave/index.ts';
import type { VaultError } from '../errors.ts';
import type { ClusterSecrets, LogCommand } from './codec.ts';
import { newIdentity, PeerVerifier } from './identity.ts';
import { ClusterMember } from './member.ts';
import type { QuorumView } from './quorum.ts';
import type { RecoveredRecords } from './recover.ts';

export const DEFAULT_LIMITS: ClusterSecrets['limits'] = {
  pingNonceTtlMs: 60_000,
  claimNonceTtlMs: 10 * 60_000,
  claimIntervalMs: 60_000,
  maxTenants: 1_000,
};

/** The genesis entry of a brand-new vault: cluster keys generated once, then replicated. */
export function newGenesis(
  operatorKey: Uint8Array,
  limits: Partial<ClusterSecrets['limits']> = {},
): LogCommand {
  return {
    kind: 'genesis',
    secrets: {
      clusterId: randomBytes(32),
      clusterSecretKey: randomBytes(32),
      receiptSecretKey: schnorr.utils.randomSecretKey(randomBytes(48)),
      operatorKey,
      limits: { ...DEFAULT_LIMITS, ...limits },
    },
    members: [], // filled by the proposing leader with the founding directory
  };
}

/** What a member attests itself with and judges its peers by. */
export interface NodeAttestation {
  provider: AttestationProvider;
  verifier: PeerVerifier;
}

export interface DevAttestationOptions {
  /** Receives the insecure-mode warning and refused peers; default: silent (tests). */
  log?: (line: string) => void;
  /** Trusted images' PCRs demanded of peers (a dev policy, to rehearse a production one). */
  images?: ReadonlyArray<Readonly<Record<number, string>>>;
}

/** The INSECURE dev attestation: every node holding `signingKey` is trusted. */
export function devAttestation(
  signingKey: Uint8Array,
  o: DevAttestationOptions = {},
): NodeAttestation {
  const log = o.log ?? (() => {});
  const provider = new DevAttestationProvider({
    insecureDevAttestation: true,
    signingKey,
    warn: log,
  });
  const inner = new DevAttestationVerifier({
    insecureDevAttestation: true,
    trustedKeys: [provider.publicKey],
    warn: () => {}, // the provider has said it already
  });
  return {
    provider,
    verifier: new PeerVerifier({ verifier: inner, images: o.images, log }),
  };
}

export interface LocalMemberOptions {
  dir: string;
  slot: string;
  generation: number;
  attestation: NodeAttestation;
  storageKey: Uint8Array;
  /** The store of a Raft directory when it is not a local LevelDB (a host agent's). */
  openStore?: (dir: string) => Promise<KvStore>;
  clusterId: string;
  /** Peer-link listen address and port (default 127.0.0.1, any port). */
  host?: string;
  port?: number;
  sockets?: SocketTransport;
  genesis?: LogCommand;
  /** This founder's copy of a recovered vault (see `MemberOptions.recovered`). */
  recovered?: RecoveredRecords;
  onHalt?: (e: VaultError) => void;
  onQuorum?: (q: QuorumView) => void;
  onFsync?: (s: number) => void;
  commitTimeoutMs?: number;
  snapshotEvery?: number;
  raft?: Partial<RaftConfig>;
  /** This member's monotonic clock (tests skew or freeze it). */
  monotonicClock?: () => number;
}

export async function listenLocalMember(o: LocalMemberOptions): Promise<ClusterMember> {
  const identity = await newIdentity(o.attestation.provider);
  return ClusterMember.listen({
    identity,
    slot: o.slot,
    generation: o.generation,
    dir: join(o.dir, o.slot, `raft-${identity.id}`),
    openStore: o.openStore,
    cipher: new StorageBox(o.storageKey),
    verifier: o.attestation.verifier,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    ...(o.sockets ? { sockets: o.sockets } : {}),
    clusterId: o.clusterId,
    genesis: o.genesis,
    recovered: o.recovered,
    onHalt: o.onHalt,
    onQuorum: o.onQuorum,
    onFsync: o.onFsync,
    commitTimeoutMs: o.commitTimeoutMs,
    snapshotEvery: o.snapshotEvery,
    raft: o.raft,
    monotonicClock: o.monotonicClock,
  });
}

/**
 * A new identity for `old`'s slot, one generation on, listening but not started (a restarted
 * node: it must be admitted, then `start`ed with the directory its admission answered).
 */
export function listenNextGeneration(
  c: Pick<LocalMemberOptions, 'dir' | 'attestation' | 'storageKey' | 'clusterId'>,
  old: { slot: string; generation: number },
  more: Partial<LocalMemberOptions> = {},
): Promise<ClusterMember> {
  return listenLocalMember({ ...c, slot: old.slot, generation: old.generation + 1, ...more });
}

/** Founds a cluster of `n` members in this process; `httpUrl` names each one's API address. */
export async function startLocalCluster(opts: {
  n: number;
  dir: string;
  operatorKey: Uint8Array;
  limits?: Partial<ClusterSecrets['limits']>;
  /** A recovered vault instead of new keys: the same for every founder, or each slot's copy. */
  recovered?: RecoveredRecords | ((slot: string) => RecoveredRecords | undefined);
  httpUrl?: (slot: string) => string;
  /** The host peers dial for each slot (default: the listen host, 127.0.0.1). */
  advertiseHost?: (slot: string) => string | undefined;
  onFsync?: (s: number) => void;
  commitTimeoutMs?: number;
  snapshotEvery?: number;
  snapshotChunkBytes?: number;
  /** Each slot's monotonic clock (tests skew, speed up or freeze it; default the real one). */
  clocks?: (slot: string) => (() => number) | undefined;
}): Promise<{
  members: ClusterMember[];
  attestation: NodeAttestation;
  storageKey: Uint8Array;
  clusterId: string;
}> {
  const attestation = devAttestation(randomBytes(32));
  const storageKey = randomBytes(32);
  const clusterId = randomBytes(8).toString('hex');
  const genesis = newGenesis(opts.operatorKey, opts.limits);
  const members: ClusterMember[] = [];
  for (let i = 1; i <= opts.n; i++) {
    const slot = `node-${i}`;
    const r = opts.recovered;
    members.push(
      await listenLocalMember({
        dir: opts.dir,
        slot,
        recovered: typeof r === 'function' ? r(slot) : r,
        generation: 1,
        attestation,
        storageKey,
        clusterId,
        genesis,
        onFsync: opts.onFsync,
        commitTimeoutMs: opts.commitTimeoutMs,
        snapshotEvery: opts.snapshotEvery,
        raft: opts.snapshotChunkBytes ? { snapshotChunkBytes: opts.snapshotChunkBytes } : undefined,
        monotonicClock: opts.clocks?.(slot),
      }),
    );
  }
  const founders = await Promise.all(
    members.map((m) =>
      m.record(opts.httpUrl?.(m.slot) ?? `http://${m.slot}.invalid`, opts.advertiseHost?.(m.slot)),
    ),
  );
  for (const m of members) m.setFounders(founders);
  await Promise.all(members.map((m) => m.start()));
  return { members, attestation, storageKey, clusterId };
}
