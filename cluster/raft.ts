import {
  applyConfChange,
  bootstrapChanges,
  confChangeProblem,
  decodeConfChange,
  encodeConfChange,
  quorum,
} from './conf.ts';
import { ClusterError } from './errors.ts';
import { entryBytes, RaftLog } from './log.ts';
import { Progress } from './progress.ts';
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Heartbeat,
  Message,
  NodeId,
  PeerStatus,
  Ready,
  Role,
  Snapshot,
  SnapshotChunk,
  StagedChunk,
  Status,
  VoteRequest,
} from './types.ts';

export interface RaftConfig {
  /** Ticks without a leader before campaigning; the actual timeout is random in [e, 2e). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Soft cap on the entry bytes in one append message. */
  readonly maxMsgBytes: number;
  /** Pipelining window per follower, in messages and in bytes. */
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  /** Proposals are refused while this many bytes are appended but not committed. */
  readonly maxUncommittedBytes: number;
  /** Cap on committed entry bytes handed to the applier in one Ready. */
  readonly maxApplyBytes: number;
  /** The shell's target size for one streamed snapshot chunk (what each side holds at once). */
  readonly snapshotChunkBytes: number;
  readonly maxEntryBytes: number;
  /**
   * Ticks an entry `admit` refuses stays refused by this node (docs/raft.md §Admission): then it
   * is admitted, so a refused entry delays the log but cannot stall it forever when the nodes
   * that could admit it crashed and the rest cannot (a frozen clock beside a crashed node).
   */
  readonly admitPatienceTicks: number;
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxMsgBytes: 1 << 20,
  maxInflightMessages: 64,
  maxInflightBytes: 8 << 20,
  maxUncommittedBytes: 32 << 20,
  maxApplyBytes: 4 << 20,
  snapshotChunkBytes: 1 << 20,
  maxEntryBytes: 1 << 20,
  admitPatienceTicks: 30,
};

export interface RaftInit {
  readonly id: NodeId;
  readonly config?: Partial<RaftConfig>;
  /** Seeded randomness from the shell: a uniform integer in [0, n). */
  readonly random: (n: number) => number;
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: Entry[];
  readonly applied: number;
  /**
   * Membership for a brand-new node with no snapshot yet: the founding voters, or empty for a
   * node that will join as a learner. Persisted through the first Ready as a snapshot at index 0.
   */
  readonly bootstrap?: ConfState;
  /**
   * Admission of an entry not yet known committed (docs/raft.md §Admission): a follower stores
   * and acknowledges an append only up to the first entry this refuses, and a leader counts its
   * own copy only up to there. The vault refuses a quorum-clock entry beyond the node's own clock,
   * so such an entry commits only once a majority's clocks have reached it. Must be cheap; its
   * answer may change from false to true as the node's clock advances, never back.
   */
  readonly admit?: (entry: Entry) => boolean;
}

export interface Proposal {
  readonly clientId?: string;
  readonly seq?: number;
  readonly data: Uint8Array;
}

const EMPTY_CONF: ConfState = { voters: [], learners: [] };
const EMPTY_CHUNK = new Uint8Array();
const SNAPSHOT_RESEND_HEARTBEATS = 3;
const REPLICATE_STALL_HEARTBEATS = 3;

/**
 * The Raft core: pure and deterministic. Inputs are `tick`, `step`, `propose`, `proposeConfChange`,
 * `transferLeadership`, `compact`; outputs come out of `ready()` and are acknowledged by
 * `advance()`. See docs/raft.md for the rules the shell must follow.
 */
export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  private readonly random: (n: number) => number;
  private readonly admit: (entry: Entry) => boolean;

  term: number;
  vote: NodeId;
  leader: NodeId = '';
  role: Role = 'follower';
  readonly log: RaftLog;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  private baseConf: ConfState;
  private confHistory: { index: number; conf: ConfState }[] = [];
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  private transferee: NodeId = '';
  private needBroadcast = false;
  private msgs: Message[] = [];
  private prevHard: HardState;
  private pendingSnapshot: { snapshot: Snapshot; install: boolean } | null = null;
  /** The snapshot being received: chunks below `nextSeq` are staged by the shell. */
  private incoming: { meta: Snapshot['meta']; nextSeq: number } | null = null;
  private stagedChunks: StagedChunk[] = [];
  /** Highest index known durable on this node (the leader counts itself only up to here). */
  private stableLast: number;
  /** The shell's clock reading (`setClock`), reported in every response. */
  private clock = 0;
  /** Leader: entries below this index passed its own `admit` (see `selfAdmitted`). */
  private selfAdmittedTo = 0;
  /** The entry this node's `admit` last refused, and for how many ticks since. */
  private refused: { index: number; term: number; ticks: number } | null = null;

  constructor(init: RaftInit) {
    this.id = init.id;
    this.config = { ...DEFAULT_RAFT_CONFIG, ...init.config };
    this.random = init.random;
    this.admit = init.admit ?? (() => true);
    let snapshot = init.snapshot;
    let entries = init.entries;
    let commit = init.hardState.commit;
    if (snapshot === null) {
      snapshot = { meta: { index: 0, term: 0, conf: EMPTY_CONF } };
      this.pendingSnapshot = { snapshot, install: false };
      if (entries.length === 0 && (init.bootstrap?.voters.length ?? 0) > 0) {
        entries = bootstrapChanges(init.bootstrap!.voters).map((cc, i) => ({
          index: i + 1,
          term: 0,
          type: 'conf' as const,
          clientId: '',
          seq: 0,
          data: encodeConfChange(cc),
        }));
        commit = entries.length;
      }
    }
    this.log = new RaftLog(snapshot, entries, commit, init.applied);
    if (entries !== init.entries) this.log.unstableFrom = 1;
    this.term = init.hardState.term;
    this.vote = init.hardState.vote;
    this.prevHard = { term: this.term, vote: this.vote, commit: init.hardState.commit };
    this.stableLast = this.log.unstableFrom - 1;
    this.baseConf = snapshot.meta.conf;
    this.rebuildConfHistory();
    this.becomeFollower(this.term, '');
  }

  // ---------------------------------------------------------------- membership

  conf(): ConfState {
    return this.confHistory.at(-1)?.conf ?? this.baseConf;
  }

  /** The membership in force at `index` (the last conf entry at or below it). */
  confAt(index: number): ConfState {
    for (let i = this.confHistory.length - 1; i >= 0; i--) {
      if (this.confHistory[i]!.index <= index) return this.confHistory[i]!.conf;
    }
    return this.baseConf;
  }

  private rebuildConfHistory(): void {
    let conf = this.baseConf;
    this.confHistory = [];
    for (const e of this.log.entries) {
      if (e.type !== 'conf') continue;
      conf = applyConfChange(conf, decodeConfChange(e.data));
      this.confHistory.push({ index: e.index, conf });
    }
    this.syncProgress();
  }

  /** Entries from `from` on were (re)written: conf entries above it may have been replaced. */
  private onAppended(from: number): void {
    this.log.lastAppendFrom = 0;
    this.confHistory = this.confHistory.filter((c) => c.index < from);
    let conf = this.conf();
    for (let i = from; i <= this.log.lastIndex(); i++) {
      const e = this.log.entry(i)!;
      if (e.type !== 'conf') continue;
      conf = applyConfChange(conf, decodeConfChange(e.data));
      this.confHistory.push({ index: e.index, conf });
    }
    this.syncProgress();
  }

  private isVoter(id: NodeId = this.id): boolean {
    return this.conf().voters.includes(id);
  }

  private syncProgress(): void {
    if (this.role !== 'leader') return;
    const conf = this.conf();
    const members = new Set([...conf.voters, ...conf.learners]);
    members.delete(this.id);
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      if (!this.progress.has(id)) this.progress.set(id, new Progress(id, this.log.lastIndex() + 1));
    }
    if (this.transferee !== '' && !this.progress.has(this.transferee)) this.transferee = '';
  }

  // ---------------------------------------------------------------- role changes

  private resetTerm(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
    }
    this.leader = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.config.electionTicks + this.random(this.config.electionTicks);
    this.votes = new Map();
    this.progress = new Map();
    this.transferee = '';
    this.uncommittedBytes = 0;
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.resetTerm(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    // Pre-vote probes term+1 without touching our term or vote (Raft thesis §9.6).
    this.votes = new Map();
    this.leader = '';
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    this.resetTerm(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.resetTerm(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.selfAdmittedTo = this.log.committed + 1;
    this.syncProgress();
    // Conservative: no membership change until an entry of this term has committed.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendLocal([{ type: 'noop', clientId: '', seq: 0, data: new Uint8Array() }]);
    this.bcastAppend();
  }

  private campaign(kind: 'pre' | 'real', transfer: boolean): void {
    if (kind === 'pre') this.becomePreCandidate();
    else this.becomeCandidate();
    const type = kind === 'pre' ? 'preVote' : 'vote';
    const term = kind === 'pre' ? this.term + 1 : this.term;
    if (this.poll(this.id, true) === 'won') return;
    for (const voter of this.conf().voters) {
      if (voter === this.id) continue;
      this.send({
        type,
        term,
        from: this.id,
        to: voter,
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        transfer,
      });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.isVoter(from)) return 'pending';
    this.votes.set(from, granted);
    const voters = this.conf().voters.length;
    let yes = 0;
    let no = 0;
    for (const v of this.votes.values()) v ? yes++ : no++;
    if (yes >= quorum(voters)) {
      if (this.role === 'preCandidate') this.campaign('real', false);
      else this.becomeLeader();
      return 'won';
    }
    if (no > voters - quorum(voters)) {
      this.becomeFollower(this.term, '');
      return 'lost';
    }
    return 'pending';
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.refused !== null) {
      this.refused.ticks++;
      // the leader's own refusal may have run out of patience
      if (this.role === 'leader' && this.maybeCommit()) this.needBroadcast = true;
    }
    if (this.role === 'leader') {
      this.tickLeader();
      return;
    }
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.isVoter()) {
      this.electionElapsed = 0;
      this.campaign(this.config.preVote ? 'pre' : 'real', false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, '');
        return;
      }
      this.transferee = ''; // a transfer that did not finish within an election timeout is abandoned
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf().voters) {
      if (v === this.id) active++;
      else if (this.progress.get(v)?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active >= quorum(this.conf().voters.length);
  }

  /** Start an election now (tests, bootstrap of a single node). */
  campaignNow(): void {
    if (this.role !== 'leader' && this.isVoter())
      this.campaign(this.config.preVote ? 'pre' : 'real', false);
  }

  /**
   * The shell's clock reading (any monotonic unit; the vault uses ms of its epoch-relative
   * estimate). It goes out in this node's responses; a leader may now count its own copy of
   * entries its `admit` refused before.
   */
  setClock(now: number): void {
    if (now <= this.clock) return;
    this.clock = now;
    if (this.role === 'leader' && this.maybeCommit()) this.needBroadcast = true;
  }

  /**
   * Leader only (0 elsewhere): the highest reading a majority of voters have reported reaching,
   * this node's own reading included. A value proposed at or below it can be admitted by that
   * majority at once.
   */
  quorumClock(): number {
    if (this.role !== 'leader') return 0;
    const voters = this.conf().voters;
    if (voters.length === 0) return 0;
    return this.majorityReached(voters, (v) =>
      v === this.id ? this.clock : (this.progress.get(v)?.clock ?? 0),
    );
  }

  /**
   * Leader only (0 elsewhere): the lowest reading any voter has reported, this node's own
   * included. A value at or below it every voter admits at once: no follower cuts an append at it.
   */
  lowestClock(): number {
    if (this.role !== 'leader') return 0;
    const voters = this.conf().voters;
    if (voters.length === 0) return 0;
    return Math.min(
      ...voters.map((v) => (v === this.id ? this.clock : (this.progress.get(v)?.clock ?? 0))),
    );
  }

  propose(p: Proposal): { index: number; term: number } {
    this.checkCanPropose();
    if (p.data.length > this.config.maxEntryBytes) {
      throw new ClusterError('CLUSTER_TOO_LARGE', 'command is above the entry size cap');
    }
    const entry = {
      type: 'normal' as const,
      clientId: p.clientId ?? '',
      seq: p.seq ?? 0,
      data: p.data,
    };
    const bytes = entryBytes({ ...entry, index: 0, term: 0 });
    if (
      this.uncommittedBytes > 0 &&
      this.uncommittedBytes + bytes > this.config.maxUncommittedBytes
    ) {
      throw new ClusterError('CLUSTER_OVERLOADED', 'too many uncommitted entries; retry later');
    }
    const e = this.appendLocal([entry])[0]!;
    this.needBroadcast = true;
    return { index: e.index, term: e.term };
  }

  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    this.checkCanPropose();
    const refuse = (why: string): never => {
      throw new ClusterError('CLUSTER_CONF_CHANGE', why);
    };
    if (this.pendingConfIndex > this.log.committed)
      refuse('a membership change is still uncommitted');
    if (this.log.term(this.log.committed) !== this.term) {
      refuse('the leader has not yet committed an entry of its term');
    }
    const problem = confChangeProblem(this.conf(), cc);
    if (problem !== null) refuse(problem);
    if (cc.op === 'remove' && cc.node === this.id)
      refuse('transfer leadership before removing the leader');
    if (cc.op === 'promote') {
      const pr = this.progress.get(cc.node);
      if (pr === undefined || pr.match < this.log.committed)
        refuse('the learner has not caught up yet');
    }
    const e = this.appendLocal([
      { type: 'conf', clientId: '', seq: 0, data: encodeConfChange(cc) },
    ])[0]!;
    this.pendingConfIndex = e.index;
    this.maybeCommit();
    this.needBroadcast = true;
    return { index: e.index, term: e.term };
  }

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader')
      throw new ClusterError('CLUSTER_NOT_LEADER', 'not the leader', this.leader);
    if (to === this.id) return;
    if (!this.isVoter(to))
      throw new ClusterError('CLUSTER_CONF_CHANGE', 'transferee is not a voter');
    this.transferee = to;
    this.electionElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex())
      this.send({ type: 'timeoutNow', term: this.term, from: this.id, to });
    else this.sendAppend(to, true);
  }

  /**
   * Entries up to `index` (≤ applied) are dropped: the shell's store holds the applied state at
   * `index` and can stream it (`snapshot` messages) to a follower that needs what was dropped.
   */
  compact(index: number): void {
    if (index <= this.log.snapIndex) return;
    if (index > this.log.applied) {
      throw new ClusterError('CLUSTER_INVARIANT', 'cannot snapshot beyond the applied index');
    }
    const snapshot = {
      meta: { index, term: this.log.term(index)!, conf: this.confAt(index) },
    };
    this.baseConf = snapshot.meta.conf;
    this.confHistory = this.confHistory.filter((c) => c.index > index);
    this.log.compact(snapshot);
    this.pendingSnapshot = { snapshot, install: false };
  }

  private checkCanPropose(): void {
    if (this.role !== 'leader') {
      throw new ClusterError('CLUSTER_NOT_LEADER', 'this node is not the leader', this.leader);
    }
    if (this.transferee !== '') {
      throw new ClusterError('CLUSTER_TRANSFERRING', 'leadership transfer in progress; retry');
    }
  }

  private appendLocal(entries: Omit<Entry, 'index' | 'term'>[]): Entry[] {
    let index = this.log.lastIndex();
    const out = entries.map((e) => ({ ...e, index: ++index, term: this.term }));
    this.log.append(out);
    this.log.lastAppendFrom = 0;
    for (const e of out) {
      this.uncommittedBytes += entryBytes(e);
      if (e.type === 'conf') {
        this.confHistory.push({
          index: e.index,
          conf: applyConfChange(this.conf(), decodeConfChange(e.data)),
        });
        this.syncProgress();
      }
    }
    return out;
  }

  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if (m.type === 'preVote' || m.type === 'vote') {
        const inLease =
          this.config.checkQuorum &&
          this.leader !== '' &&
          this.electionElapsed < this.config.electionTicks;
        if (inLease && !m.transfer) return; // a disruptive candidate while we hear a live leader
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // neither changes our term
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, '');
      }
    } else if (m.term < this.term) {
      if (
        (this.config.checkQuorum || this.config.preVote) &&
        (m.type === 'append' || m.type === 'heartbeat')
      ) {
        // Tell a stale leader about the newer term, so a returning node cannot hang on to leadership.
        this.send({
          type: 'appendResp',
          term: this.term,
          from: this.id,
          to: m.from,
          reject: true,
          index: 0,
          hint: 0,
          clock: this.clock,
        });
      } else if (m.type === 'preVote') {
        this.send({
          type: 'preVoteResp',
          term: this.term,
          from: this.id,
          to: m.from,
          reject: true,
        });
      }
      return;
    }

    if (m.type === 'preVote' || m.type === 'vote') {
      this.handleVote(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private handleVote(m: VoteRequest): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === '' && this.leader === '') ||
      (m.type === 'preVote' && m.term > this.term);
    const respType = m.type === 'preVote' ? 'preVoteResp' : 'voteResp';
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.send({ type: respType, term: m.term, from: this.id, to: m.from, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, term: this.term, from: this.id, to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'preVoteResp':
        if (this.role === 'preCandidate') this.poll(m.from, !m.reject);
        return;
      case 'voteResp':
        if (this.role === 'candidate') this.poll(m.from, !m.reject);
        return;
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshotChunk(m);
        return;
      case 'timeoutNow':
        if (this.isVoter()) this.campaign('real', true);
        return;
      default:
        return;
    }
  }

  private reply(m: Message, fields: Pick<AppendResponse, 'reject' | 'index' | 'hint'>): void {
    const h = { term: this.term, from: this.id, to: m.from, clock: this.clock };
    this.send({ type: 'appendResp', ...h, ...fields });
  }

  /**
   * The prefix of an append's entries this follower may store: an entry the leader already
   * reports committed, or one this log holds in the same term, was admitted by a majority; any
   * other must pass `admit`, and the append is cut before the first that does not.
   */
  private admitted(m: AppendRequest): readonly Entry[] {
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.index <= m.commit || this.log.matchTerm(e.index, e.term)) continue;
      if (!this.admits(e)) return m.entries.slice(0, i);
    }
    return m.entries;
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.log.committed) {
      this.reply(m, { reject: false, index: this.log.committed, hint: 0 });
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, this.admitted(m));
    if (lastNew < 0) {
      this.reply(m, {
        reject: true,
        index: m.prevIndex,
        hint: Math.min(m.prevIndex, this.log.lastIndex()),
      });
      return;
    }
    if (this.log.lastAppendFrom > 0) this.onAppended(this.log.lastAppendFrom);
    this.log.commitTo(Math.min(m.commit, lastNew));
    this.reply(m, { reject: false, index: lastNew, hint: 0 });
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const h = { term: this.term, from: this.id, to: m.from, clock: this.clock };
    this.send({ type: 'heartbeatResp', ...h });
  }

  private handleSnapshotChunk(m: SnapshotChunk): void {
    if (m.meta.index <= this.log.committed) {
      this.incoming = null;
      this.reply(m, { reject: false, index: this.log.committed, hint: 0 });
      return;
    }
    const inc = this.incoming;
    const same = inc !== null && inc.meta.index === m.meta.index && inc.meta.term === m.meta.term;
    if (m.seq === 0) this.incoming = { meta: m.meta, nextSeq: 0 };
    const cur = this.incoming;
    const resp = (nextSeq: number): void =>
      this.send({
        type: 'snapshotResp',
        term: this.term,
        from: this.id,
        to: m.from,
        snapshotIndex: m.meta.index,
        nextSeq,
      });
    if (cur === null || (m.seq !== 0 && !same) || m.seq !== cur.nextSeq) {
      resp(cur !== null && same ? cur.nextSeq : 0);
      return;
    }
    this.stagedChunks.push({ meta: m.meta, seq: m.seq, chunk: m.chunk });
    cur.nextSeq += 1;
    if (!m.last) {
      resp(cur.nextSeq);
      return;
    }
    this.incoming = null;
    if (this.log.matchTerm(cur.meta.index, cur.meta.term)) {
      this.log.commitTo(cur.meta.index); // we already hold that prefix: just fast-forward
    } else {
      const snapshot = { meta: cur.meta };
      this.log.restore(snapshot);
      this.baseConf = cur.meta.conf;
      this.rebuildConfHistory();
      this.pendingSnapshot = { snapshot, install: true };
    }
    this.reply(m, { reject: false, index: cur.meta.index, hint: 0 });
  }

  /**
   * The shell could not stream the snapshot `to` asked for (its point-in-time view is gone):
   * probe again, which starts a transfer of the current snapshot.
   */
  reportSnapshotFailure(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr?.state === 'snapshot') pr.becomeProbe();
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return; // not a member (anymore)
    if (m.type === 'appendResp' || m.type === 'heartbeatResp')
      pr.clock = Math.max(pr.clock, m.clock);
    switch (m.type) {
      case 'appendResp': {
        pr.recentActive = true;
        if (m.reject) {
          if (pr.maybeDecrease(m.index, m.hint)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from, false);
          }
          return;
        }
        const oldPaused = pr.isPaused(
          this.config.maxInflightMessages,
          this.config.maxInflightBytes,
        );
        if (pr.maybeUpdate(m.index)) {
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) pr.becomeReplicate();
          // the new commit index goes out with the next Ready's appends, together with whatever
          // is proposed until then (one message per follower, not an empty one first)
          if (this.maybeCommit()) this.needBroadcast = true;
          else if (pr.sentCommit < Math.min(pr.match, this.log.committed)) {
            // committed while this follower was paused (probing) or behind: tell it now, as the
            // broadcast would have (an empty append; the shell holds it, dropped if moot)
            this.sendAppend(m.from, true);
          }
          while (this.sendAppend(m.from, false)) {}
          if (m.from === this.transferee && pr.match === this.log.lastIndex()) {
            this.send({ type: 'timeoutNow', term: this.term, from: this.id, to: m.from });
          }
        } else if (oldPaused) {
          while (this.sendAppend(m.from, false)) {}
        }
        return;
      }
      case 'heartbeatResp': {
        pr.recentActive = true;
        if (pr.state === 'probe') pr.probeSent = false;
        if (pr.state === 'replicate' && pr.inflight.length > 0) {
          // Appends can be lost: a window that stays full across heartbeats is re-probed.
          if (++pr.snapshotStalled >= REPLICATE_STALL_HEARTBEATS) pr.becomeProbe();
        }
        if (pr.state === 'snapshot') {
          if (++pr.snapshotStalled >= SNAPSHOT_RESEND_HEARTBEATS) {
            pr.snapshotStalled = 0;
            this.sendSnapshotChunk(pr);
          }
          return;
        }
        // a probe may have to be empty: it tests prevIndex = next - 1 for a follower that is behind
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, pr.state === 'probe');
        return;
      }
      case 'snapshotResp': {
        pr.recentActive = true;
        if (pr.state !== 'snapshot' || m.snapshotIndex !== pr.snapshotIndex) return;
        pr.snapshotSeq = m.nextSeq;
        pr.snapshotStalled = 0;
        this.sendSnapshotChunk(pr);
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- leader replication

  private send(m: Message): void {
    this.msgs.push(m);
  }

  /** Send to every peer; in replicate state fill the pipelining window, not just one message. */
  private bcastAppend(): void {
    for (const id of this.progress.keys()) {
      if (this.sendAppend(id, true)) while (this.sendAppend(id, false)) {}
    }
  }

  private bcastHeartbeat(): void {
    for (const pr of this.progress.values()) {
      const commit = Math.min(pr.match, this.log.committed);
      pr.sentCommit = Math.max(pr.sentCommit, commit);
      this.send({ type: 'heartbeat', term: this.term, from: this.id, to: pr.id, commit });
    }
  }

  /** Send the next append to `to` if flow control allows; true when something was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined) return false;
    if (pr.isPaused(this.config.maxInflightMessages, this.config.maxInflightBytes)) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      if (prevIndex > this.log.lastIndex()) {
        pr.becomeProbe();
        return false;
      }
      pr.becomeSnapshot(this.log.snapshot!);
      this.sendSnapshotChunk(pr);
      return false;
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex(), this.config.maxMsgBytes);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entryBytes(e);
    this.send({
      type: 'append',
      term: this.term,
      from: this.id,
      to,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed,
    });
    pr.sentAppend(prevIndex + entries.length, bytes, entries.length);
    pr.sentCommit = Math.max(pr.sentCommit, this.log.committed);
    return entries.length > 0;
  }

  /** Asks the shell to send chunk `snapshotSeq` of the pinned snapshot (it fills the chunk). */
  private sendSnapshotChunk(pr: Progress): void {
    this.send({
      type: 'snapshot',
      term: this.term,
      from: this.id,
      to: pr.id,
      meta: pr.snapshot!.meta,
      seq: pr.snapshotSeq,
      last: false,
      chunk: EMPTY_CHUNK,
    } satisfies SnapshotChunk);
  }

  private readonly majorityScratch: number[] = [];

  /**
   * The highest value a majority of voters have reached: the quorum-th largest reading. Asked on
   * every acknowledgement, so it sorts a reused array in place (a map and sort per call were ~3 KB
   * of garbage per client write).
   */
  private majorityReached(voters: readonly NodeId[], reading: (v: NodeId) => number): number {
    const values = this.majorityScratch;
    values.length = 0;
    for (const v of voters) {
      // insertion sort, descending: a handful of voters
      const x = reading(v);
      let i = values.length;
      values.push(x);
      while (i > 0 && values[i - 1]! < x) {
        values[i] = values[i - 1]!;
        i--;
      }
      values[i] = x;
    }
    return values[quorum(voters.length) - 1]!;
  }

  /** Advance the commit index to the quorum-durable index if that entry is of our term. */
  private maybeCommit(): boolean {
    const voters = this.conf().voters;
    if (voters.length === 0) return false;
    const index = this.majorityReached(voters, (v) =>
      v === this.id ? this.selfAdmitted() : (this.progress.get(v)?.match ?? 0),
    );
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    for (let i = this.log.committed + 1; i <= index; i++) {
      this.uncommittedBytes -= entryBytes(this.log.entry(i)!);
    }
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    this.log.commitTo(index);
    return true;
  }

  /** `admit`, or the entry has been refused for `admitPatienceTicks` already. */
  private admits(e: Entry): boolean {
    if (this.admit(e)) return true;
    const r = this.refused;
    if (r !== null && r.index === e.index && r.term === e.term) {
      return r.ticks >= this.config.admitPatienceTicks;
    }
    this.refused = { index: e.index, term: e.term, ticks: 0 };
    return false;
  }

  /** The leader's own acknowledgement: durable entries up to the first its `admit` refuses. */
  private selfAdmitted(): number {
    let i = Math.max(this.selfAdmittedTo, this.log.committed + 1);
    while (i <= this.stableLast && this.admits(this.log.entry(i)!)) i++;
    this.selfAdmittedTo = i;
    return i - 1;
  }

  // ---------------------------------------------------------------- outputs

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  hasReady(): boolean {
    const hs = this.hardState();
    return (
      this.msgs.length > 0 ||
      this.needBroadcast ||
      this.pendingSnapshot !== null ||
      this.stagedChunks.length > 0 ||
      !sameHardState(hs, this.prevHard) ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.log.committed > this.log.applying
    );
  }

  /**
   * Committed entries wait to be handed out: a leader whose write is in flight may take the next
   * Ready for them (they are on a majority's disks already), see docs/raft.md §3.
   */
  hasUnappliedCommits(): boolean {
    return this.log.committed > this.log.applying;
  }

  ready(): Ready {
    if (this.needBroadcast && this.role === 'leader') this.bcastAppend();
    this.needBroadcast = false;
    const hs = this.hardState();
    const entries = this.log.unstable();
    const committed = this.log.nextCommitted(this.log.lastIndex(), this.config.maxApplyBytes);
    const rd: Ready = {
      hardState: sameHardState(hs, this.prevHard) ? null : hs,
      entries,
      snapshot: this.pendingSnapshot,
      snapshotChunks: this.stagedChunks,
      messages: this.msgs,
      committed,
      mustSync:
        entries.length > 0 ||
        this.pendingSnapshot !== null ||
        hs.term !== this.prevHard.term ||
        hs.vote !== this.prevHard.vote,
    };
    this.msgs = [];
    this.stagedChunks = [];
    this.pendingSnapshot = null;
    this.prevHard = hs;
    this.log.unstableFrom = this.log.lastIndex() + 1;
    if (committed.length > 0) this.log.applying = committed.at(-1)!.index;
    return rd;
  }

  /**
   * The shell has persisted, sent and applied everything in `rd`. A shell may take further Readies
   * before advancing earlier ones, but advances them in the order it took them.
   */
  advance(rd: Ready): void {
    if (rd.snapshot?.install)
      this.stableLast = Math.max(this.stableLast, rd.snapshot.snapshot.meta.index);
    const last = rd.entries.at(-1);
    if (last !== undefined) {
      // entries handed out but truncated since are not durable in their current form
      this.stableLast = Math.min(last.index, this.log.unstableFrom - 1, this.log.lastIndex());
    }
    this.stableLast = Math.min(this.stableLast, this.log.lastIndex());
    const applied = rd.committed.at(-1);
    if (applied !== undefined) this.log.applied = Math.max(this.log.applied, applied.index);
    if (this.role === 'leader' && this.maybeCommit()) this.needBroadcast = true;
  }

  status(): Status {
    const peers: PeerStatus[] = [];
    if (this.role === 'leader') {
      const voters = this.conf().voters;
      for (const pr of this.progress.values()) {
        peers.push({
          id: pr.id,
          voter: voters.includes(pr.id),
          match: pr.match,
          next: pr.next,
          state: pr.state,
          inflightMessages: pr.inflight.length,
          inflightBytes: pr.inflightBytes,
          recentActive: pr.recentActive,
        });
      }
    }
    return {
      id: this.id,
      term: this.term,
      role: this.role,
      leader: this.leader,
      vote: this.vote,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapIndex,
      conf: this.conf(),
      peers,
    };
  }
}

/**
 * Messages a shell may send before persisting their Ready: the leader's appends, heartbeats,
 * snapshot chunks and TimeoutNow promise nothing about the sender's disk (the leader counts its
 * own copy only once persisted). Votes and every response must wait for the write.
 */
export function canSendBeforePersist(m: Message): boolean {
  return (
    m.type === 'append' ||
    m.type === 'heartbeat' ||
    m.type === 'snapshot' ||
    m.type === 'timeoutNow'
  );
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
