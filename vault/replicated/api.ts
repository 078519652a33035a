/** The replicated backend's cluster API for the HTTP layer: status, joins, Raft metrics. */
import { Gauge, Histogram, type Registry } from 'prom-client';
import { VaultError } from '../errors.ts';
import type { ClusterApi } from '../http/app.ts';
import { parseHex, toHex } from '../protocol/index.ts';
import type { Member } from './codec.ts';
import type { ClusterMember } from './member.ts';

export function memberToJson(m: Member) {
  return {
    id: m.id,
    publicKey: toHex(m.publicKey),
    host: m.host,
    port: m.port,
    httpUrl: m.httpUrl,
    attestation: toHex(m.attestation),
    slot: m.slot,
    generation: m.generation,
  };
}

function hexOf(name: string, v: string): string {
  if (!/^([0-9a-f]{2})+$/.test(v)) throw new VaultError('BAD_HEX', `member.${name}: hex`);
  return v;
}

export function memberFromJson(v: unknown): Member {
  const o = (v ?? {}) as Record<string, unknown>;
  const str = (k: string, max = 1024) => {
    const x = o[k];
    if (typeof x !== 'string' || x.length === 0 || x.length > max)
      throw new VaultError('MALFORMED', `member.${k}: a string`);
    return x;
  };
  const int = (k: string) => {
    const x = o[k];
    if (!Number.isSafeInteger(x) || (x as number) < 0)
      throw new VaultError('MALFORMED', `member.${k}: an integer`);
    return x as number;
  };
  return {
    id: str('id', 64),
    publicKey: parseHex('publicKey', str('publicKey', 64), 32),
    host: str('host', 256),
    port: int('port'),
    httpUrl: str('httpUrl'),
    attestation: new Uint8Array(
      Buffer.from(hexOf('attestation', str('attestation', 128 * 1024)), 'hex'),
    ),
    slot: str('slot', 64),
    generation: int('generation'),
  };
}

/** Raft metrics; the fsync histogram exists before the node so the storage can feed it. */
export class RaftMetrics {
  readonly fsyncSeconds = new Histogram({
    name: 'vigil_raft_fsync_seconds',
    help: 'Duration of each synced Raft write (entries + hard state)',
    buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.5],
    registers: [],
  });
  #member: ClusterMember | null = null;

  attach(member: ClusterMember): void {
    this.#member = member;
  }

  register(registry: Registry): void {
    registry.registerMetric(this.fsyncSeconds);
    const get = () => this.#member?.status();
    const gauge = (name: string, help: string, f: (g: Gauge) => void, labelNames: string[] = []) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          f(this as unknown as Gauge);
        },
      });
    gauge('vigil_raft_term', 'Current Raft term', (g) => g.set(get()?.term ?? 0));
    gauge(
      'vigil_cluster_quorum_lost',
      '1 when no leader is known for 10 s and no majority of the voters is reachable',
      (g) => g.set(this.#member?.quorum().state === 'lost' ? 1 : 0),
    );
    gauge('vigil_raft_is_leader', '1 on the leader', (g) =>
      g.set(get()?.role === 'leader' ? 1 : 0),
    );
    gauge(
      'vigil_raft_leader',
      'The leader this node knows (label)',
      (g) => {
        const s = get();
        if (s?.leader) g.set({ leader: s.leader }, 1);
      },
      ['leader'],
    );
    gauge('vigil_raft_commit_index', 'Commit index', (g) => g.set(get()?.commitIndex ?? 0));
    gauge('vigil_raft_applied_index', 'Applied index', (g) => g.set(get()?.appliedIndex ?? 0));
    gauge('vigil_raft_last_index', 'Last log index', (g) => g.set(get()?.lastIndex ?? 0));
    const peer = (name: string, help: string, pick: (p: PeerView) => number) =>
      gauge(
        name,
        help,
        (g) => {
          for (const p of get()?.peers ?? []) g.set({ peer: p.id }, pick(p));
        },
        ['peer'],
      );
    peer(
      'vigil_raft_peer_match_index',
      'Per follower: highest index known replicated (leader only)',
      (p) => p.match,
    );
    peer(
      'vigil_raft_peer_next_index',
      'Per follower: next index to send (leader only)',
      (p) => p.next,
    );
    peer(
      'vigil_raft_peer_inflight_messages',
      'Per follower: appends in flight (leader only)',
      (p) => p.inflightMessages,
    );
    peer(
      'vigil_raft_peer_inflight_bytes',
      'Per follower: bytes in flight (leader only)',
      (p) => p.inflightBytes,
    );
  }
}

type PeerView = ReturnType<ClusterMember['status']>['peers'][number];

export function clusterApi(
  member: ClusterMember,
  metrics: RaftMetrics,
  httpUrl: () => string,
): ClusterApi {
  return {
    status() {
      const s = member.status();
      const links = Object.fromEntries(member.linkStats());
      return {
        id: s.id,
        slot: member.slot,
        url: httpUrl(),
        pid: process.pid,
        role: s.role,
        term: s.term,
        leader: s.leader,
        leaderUrl: s.leader === s.id ? httpUrl() : member.leaderUrl(),
        commitIndex: s.commitIndex,
        appliedIndex: s.appliedIndex,
        lastIndex: s.lastIndex,
        snapshotIndex: s.snapshotIndex,
        voters: s.conf.voters,
        learners: s.conf.learners,
        epochReady: member.epochReady,
        quorum: member.quorum(),
        peers: s.peers.map((p) => ({
          id: p.id,
          voter: p.voter,
          match: p.match,
          next: p.next,
          state: p.state,
          inflightMessages: p.inflightMessages,
          inflightBytes: p.inflightBytes,
          recentActive: p.recentActive,
          link: links[p.id] ?? null,
        })),
        read: 'local',
      };
    },
    members() {
      const s = member.status();
      const voters = new Set(s.conf.voters);
      return {
        members: [...member.state.members.values()].map((m) => ({
          id: m.id,
          url: m.httpUrl,
          voter: voters.has(m.id),
        })),
        leaderUrl: s.leader === s.id ? httpUrl() : member.leaderUrl(),
      };
    },
    async join(body) {
      const directory = await member.admit(memberFromJson((body as { member?: unknown })?.member));
      return { members: directory.map(memberToJson) };
    },
    registerMetrics(registry) {
      metrics.register(registry);
    },
    // only a node started for `npm run bench:cluster` has it (never in production)
    ...(process.env.VIGIL_BENCH_RAW_PUT === '1'
      ? { benchPut: (payload: Uint8Array) => member.benchPut(payload) }
      : {}),
  };
}
