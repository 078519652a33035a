/**
 * One vault node of a Raft cluster: the replicated state machine under a `RaftNode`, attested
 * encrypted peer links, the in-memory epoch secret, and the leader's housekeeping (genesis, new
 * epochs, promoting caught-up learners, removing replaced members). It is the HTTP layer's
 * `VaultBackend`: a write is proposed on the leader and answered once committed and applied
 * here; a follower redirects it.
 */
import { randomBytes } from 'node:crypto';
import {
  type KvStore,
  MAX_INTRODUCTION_BYTES,
  type NodeId,
  type PeerAddress,
  PeerNetwork,
  quorum,
  type RaftConfig,
  RaftNode,
  RaftStorage,
  SESSION_CONFLICT,
  type SocketTransport,
  type Status,
  type Transport,
  type ValueCipher,
} from '../../cluster/index.ts';
import type { AttestationVerifier } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import type { ClientSession } from '../http/app.ts';
import { NotLeaderError } from '../http/errors.ts';
import {
  type Answer,
  type Command,
  type CommandResult,
  clockNotReached,
  type Effect,
  encodeCommand,
  type IssuedNonce,
  type UnsignedReceipt,
  type VaultMachine,
  verifyVdf,
} from '../machine/index.ts';
import {
  bytesEqual,
  type Deposit,
  type DepositReceipt,
  type Solution,
  toHex,
} from '../protocol/index.ts';
import {
  type ClusterSecrets,
  decodeReply,
  EPOCH_ID_BYTES,
  encodeLogCommand,
  type LogCommand,
  type Member,
  RANDOM_BYTES,
} from './codec.ts';
import { DepositWorkers } from './deposit-workers.ts';
import { EpochKeeper } from './epochs.ts';
import { attestMember, type Identity, memberAttested } from './identity.ts';
import { decodeIntroduction, encodeIntroduction, introductionRefusal } from './introductions.ts';
import {
  decodeEpochs,
  encodeEpochAck,
  encodeEpochs,
  TAG_EPOCH_ACK,
  TAG_EPOCHS,
  TAG_RAFT,
  tagged,
} from './links.ts';
import { type QuorumView, quorumView } from './quorum.ts';
import { admitTimeEntries, ClockReading, nextQuorumTime } from './quorum-clock.ts';
import type { RecoveredRecords } from './recover.ts';
import { clusterPublicKeys, EPOCH_BOUND, ReplicatedState, recoveryRecord } from './state.ts';

export interface MemberOptions {
  identity: Identity;
  slot: string;
  generation: number;
  /** Raft storage directory (fresh per identity). */
  dir: string;
  /** Where the store for `dir` lives when not in a local LevelDB there (a host agent's). */
  openStore?: (dir: string) => Promise<KvStore>;
  cipher: ValueCipher;
  verifier: AttestationVerifier;
  host: string;
  /** Peer-link port (0: any). */
  port: number;
  /** How peer links are listened for and dialled (default TCP). */
  sockets?: SocketTransport;
  clusterId: string;
  /** What the first leader proposes as genesis: new keys (ignored when `recovered` is set). */
  genesis?: LogCommand;
  /**
   * Founding a recovered cluster: this founder's copy of the recovered vault. The genesis entry
   * carries its digest only; a founder whose copy differs halts instead of applying it.
   */
  recovered?: RecoveredRecords;
  /**
   * A member whose epoch secrets can come from no peer (a one-member cluster restarted from its
   * disk): entries of epochs it does not hold are applied as rejected, never waited for (P4).
   */
  voidUnknownEpochs?: boolean;
  onEffects?: (effects: Effect[]) => void;
  /** Told once if this member stops applying (its recovered vault differs from the cluster's). */
  onHalt?: (e: VaultError) => void;
  /** Called when this node's view of its quorum changes state (quorum.ts). */
  onQuorum?: (q: QuorumView) => void;
  tickMs?: number;
  /** How long a write waits for commit + apply before answering "unknown outcome" (503). */
  commitTimeoutMs?: number;
  /** Compact the Raft log after this many applied entries (default 5,000). */
  snapshotEvery?: number;
  raft?: Partial<RaftConfig>;
  onFsync?: (seconds: number) => void;
  /** This node's monotonic clock in ms (tests skew, speed up or freeze it; default the real one). */
  monotonicClock?: () => number;
}

const NO_EPOCH = new Uint8Array(EPOCH_ID_BYTES);
/** Solution attempts one claim may make per minute on one node. */
const SOLVE_ATTEMPTS = 10;
/**
 * Introductions of unknown dialers checked per second (each may cost an attestation check): an
 * honest dialer refused for want of budget retries within 3 s.
 */
const INTRODUCTIONS_PER_SECOND = 20;

export class ClusterMember {
  readonly id: NodeId;
  readonly slot: string;
  readonly generation: number;
  readonly epochs = new EpochKeeper();
  readonly state: ReplicatedState;
  readonly #opts: MemberOptions;
  #network!: PeerNetwork;
  #node: RaftNode | undefined;
  /** What this member is doing before Raft runs (answered with 503 meanwhile). */
  #phase = 'waiting to join or found a cluster';
  /** Latched once the member first holds the vault and has applied all it knew committed. */
  #caughtUp = false;
  #raftHandler: (from: NodeId, bytes: Uint8Array) => void = () => {};
  #timer: NodeJS.Timeout | undefined;
  #httpUrl = '';
  #port = 0;
  #busy = false;
  #closed = false;
  readonly #epochAcks = new Map<string, Set<string>>();
  #pendingEpoch: { epochId: Uint8Array; since: number } | null = null;
  #founders: readonly Member[] | undefined;
  /**
   * The directory this member was admitted with (plus members that introduced themselves on a
   * link, `#vouch`), and every member id its replayed log has named. A joiner replaying an old
   * part of the log sees an old membership, which may not list the leader that admitted it, and
   * a lagging member has not yet seen a newer member that now leads (issue 11 item 11): these
   * stay peers until the replay has added and then removed them.
   */
  #directory = new Map<string, Member>();
  readonly #replayedIds = new Set<string>();
  /** This node's attested record, sent in the handshake of every link it dials. */
  #self: Member | undefined;
  #introductions = { second: 0, count: 0 };
  #leaderSeenAt = Date.now();
  #quorumState: QuorumView['state'] = 'ok';
  #depositWorkers: DepositWorkers | undefined;
  readonly #solveAttempts = new Map<string, { since: number; count: number }>();
  readonly #genesis: LogCommand | undefined;
  readonly #reading: ClockReading;
  #timePending = false;

  private constructor(opts: MemberOptions) {
    this.#opts = opts;
    this.id = opts.identity.id;
    this.slot = opts.slot;
    this.generation = opts.generation;
    this.state = new ReplicatedState({
      epochs: this.epochs,
      onMembers: (members) => this.#setPeers(members),
      voidUnknownEpochs: opts.voidUnknownEpochs,
      onEffects: opts.onEffects,
      onHalt: opts.onHalt,
    });
    this.#reading = new ClockReading(opts.monotonicClock);
    this.#genesis = opts.recovered
      ? { kind: 'recovered', digest: opts.recovered.digest, members: [] }
      : opts.genesis;
  }

  /** Starts the peer links (bound port known afterwards) but not Raft: see `start`. */
  static async listen(opts: MemberOptions): Promise<ClusterMember> {
    const m = new ClusterMember(opts);
    m.#network = new PeerNetwork({
      clusterId: opts.clusterId,
      selfId: m.id,
      staticKey: opts.identity.staticKey,
      listen: { host: opts.host, port: opts.port },
      ...(opts.sockets ? { transport: opts.sockets } : {}),
      peers: new Map(),
      onMessage: (from, bytes) => m.#onLink(from, bytes),
      onLinkChange: (peer, up) => {
        if (up) m.#sendEpochs(peer);
      },
      introduction: () => m.#introduction(),
      vouch: (key, intro) => m.#vouch(key, intro),
    });
    m.#port = await m.#network.start();
    return m;
  }

  /** Founding a cluster: every founder gets the same list (this member included) before start. */
  setFounders(founders: readonly Member[]): void {
    this.#founders = founders;
    this.state.seedMembers(founders);
  }

  get port(): number {
    return this.#port;
  }

  /**
   * This node's directory record (for joining and for founders' lists), attested: its document
   * binds every field. `host` is the address peers dial (default: the listen host).
   */
  async record(httpUrl: string, host: string = this.#opts.host): Promise<Member> {
    this.#httpUrl = httpUrl;
    this.#self = await attestMember(this.#opts.identity, {
      host,
      port: this.#port,
      httpUrl,
      slot: this.slot,
      generation: this.generation,
    });
    return this.#self;
  }

  /** Starts Raft; a joiner first learns the directory from the member that admitted it. */
  async start(directory?: readonly Member[]): Promise<void> {
    this.#phase = 'starting Raft';
    if (directory) {
      for (const d of directory) this.#directory.set(d.id, d);
      this.#setPeers(this.state.members);
    }
    const transport: Transport = {
      send: (to, bytes) => void this.#network.send(to, tagged(TAG_RAFT, bytes)),
      flush: () => this.#network.flush(),
      onMessage: (h) => {
        this.#raftHandler = h;
      },
    };
    const { dir, cipher, openStore } = this.#opts;
    const storage = openStore
      ? RaftStorage.on(await openStore(dir), cipher)
      : await RaftStorage.open(dir, cipher);
    const recovered = this.#opts.recovered;
    // a founder of a recovered vault starts with its copy of the records, marked as pending
    if (recovered)
      await storage.importState(recovered.records(), [recoveryRecord(recovered.digest)]);
    const founders = this.#founders;
    this.#node = await RaftNode.start({
      id: this.id,
      storage,
      transport,
      machine: this.state,
      tickMs: this.#opts.tickMs ?? 50,
      config: { electionTicks: 10, heartbeatTicks: 2, ...this.#opts.raft },
      bootstrap: founders ? { voters: founders.map((f) => f.id).sort(), learners: [] } : undefined,
      snapshotEvery: this.#opts.snapshotEvery ?? 5_000,
      onFsync: this.#opts.onFsync,
      clock: () => this.clockReading(),
      admit: admitTimeEntries(() => this.#reading.now()),
    });
    this.#timer = setInterval(() => void this.#housekeeping(), 200);
  }

  /** Notes what the member waits for before Raft starts (said in its 503 answers). */
  setPhase(phase: string): void {
    this.#phase = phase;
  }

  get raft(): RaftNode {
    return this.#started();
  }

  status(): Status {
    return this.#started().status();
  }

  #started(): RaftNode {
    if (this.#node === undefined) {
      throw new VaultError(
        'CLUSTER_STARTING',
        `this node's Raft has not started: ${this.#phase}`,
        503,
      );
    }
    return this.#node;
  }

  /**
   * Why this member cannot serve the vault API yet (null once it can): Raft not started, no
   * vault yet, or a new member still catching up (a replay or a streamed snapshot).
   */
  notReady(): string | null {
    if (this.#caughtUp) return null;
    if (this.#node === undefined) return `Raft has not started: ${this.#phase}`;
    if (this.state.machine === null)
      return 'the vault is not here yet (genesis or snapshot pending)';
    const st = this.#node.status();
    if (st.appliedIndex < st.commitIndex || st.commitIndex === 0) {
      return `catching up: applied ${st.appliedIndex} of ${st.commitIndex} committed entries`;
    }
    this.#caughtUp = true;
    return null;
  }

  linkStats() {
    return this.#network.stats();
  }

  /** This node's quorum-clock reading (ms), raised to the committed quorum time it applied. */
  clockReading(): number {
    this.#reading.adopt(this.state.machine?.quorumTime ?? 0);
    return this.#reading.now();
  }

  /** True once this node holds the secret of the vault's current epoch. */
  get epochReady(): boolean {
    const e = this.state.machine?.epochId;
    return e !== undefined && e !== null && this.epochs.has(e);
  }

  get isLeader(): boolean {
    return this.#node?.status().role === 'leader';
  }

  leaderUrl(): string | null {
    const leader = this.#node?.status().leader ?? '';
    if (leader === '' || leader === this.id) return null;
    return this.state.members.get(leader)?.httpUrl ?? null;
  }

  // ── VaultBackend ──────────────────────────────────────────────────────

  get machine(): Pick<VaultMachine, 'wallet' | 'claim' | 'lastIndex'> {
    const m = this.state.machine;
    if (m === null) return { wallet: () => null, claim: () => null, lastIndex: 0 };
    return m;
  }

  async receipt(walletId: Uint8Array): Promise<DepositReceipt | null> {
    const r = this.state.machine?.receipt(walletId) ?? null;
    return r === null ? null : this.#signReceipt(r);
  }

  /** A result as answered to a client: a deposit's receipt signed (machine/receipts.ts). */
  async #answer(result: CommandResult): Promise<Answer> {
    if (result.type !== 'deposited') return result;
    return { type: 'deposited', receipt: await this.#signReceipt(result.receipt) };
  }

  /** In the deposit workers; on this thread only if they failed. */
  async #signReceipt(r: UnsignedReceipt): Promise<DepositReceipt> {
    const workers = this.#workers();
    if (workers !== null) {
      try {
        return await workers.signReceipt(r);
      } catch (e) {
        if (!(e instanceof VaultError) || e.code !== 'INTERNAL') throw e;
      }
    }
    return this.state.signReceipt(r);
  }

  /** The deposit workers, started once the vault's keys are here (null before, or closed). */
  #workers(): DepositWorkers | null {
    const secrets = this.state.secrets;
    if (secrets === null || this.#closed) return null;
    this.#depositWorkers ??= new DepositWorkers({
      ...secrets,
      receiptKey: clusterPublicKeys(secrets).receiptKey,
    });
    return this.#depositWorkers;
  }

  get publicKeys() {
    const s = this.state.secrets;
    if (s === null)
      throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet', 503);
    return clusterPublicKeys(s);
  }

  async submit(command: Command, session?: ClientSession): Promise<Answer> {
    const epochId = this.state.machine?.epochId ?? NO_EPOCH;
    // An epoch-bound entry stamped with an epoch whose secret no node holds could never be
    // applied: the proposer must hold it (the secret is on a majority before its epoch begins).
    if (EPOCH_BOUND.has(command.type) && !this.epochs.has(epochId)) {
      throw new VaultError('EPOCH_NOT_READY', 'this node does not hold the current epoch yet', 503);
    }
    if (command.type === 'beginEpoch' || command.type === 'time') {
      throw new VaultError('FORBIDDEN', "epochs and quorum time are the cluster's own", 403);
    }
    if (command.type === 'solve') this.#precheckSolution(command.solution);
    // encoded once: the deposit workers check these bytes and the log entry carries them
    const encoded = encodeCommand(command);
    const prechecked =
      command.type === 'deposit' && (await this.#precheck(command.deposit, encoded));
    const reply = await this.#propose(
      {
        kind: 'vault',
        timestamp: Date.now(),
        epochId,
        random: randomBytes(RANDOM_BYTES),
        command,
        prechecked,
        encoded,
      },
      session && { clientId: sessionKey(command, session.clientId), seq: session.seq },
    );
    if (reply === null) {
      // a retry older than the client's latest request: its reply is no longer kept
      throw new VaultError('STALE_RETRY', 'a newer request of this client was applied', 409);
    }
    // A release is answered only once its applied state is on this node's disk, so a
    // `vigil cluster recover` (which cannot replay it without the epoch secret) still finds the
    // share released. Pings and claims need no such wait: a recovery voids every claim of their
    // epoch, and their nonces die with its secret.
    if (command.type === 'solve') {
      await this.#started()
        .whenApplyDurable()
        .catch(() => {
          throw new VaultError('CLUSTER_UNAVAILABLE', 'the node stopped; retry', 503);
        });
    }
    return this.#answer(reply);
  }

  /**
   * On the leader, a deposit's stateless checks run once, in the deposit workers; true when
   * they passed (the entry says so and no replica repeats them). False when they could not run
   * (no vault yet, unknown tenant, workers unavailable): every replica then checks in apply.
   */
  async #precheck(deposit: Deposit, encoded: Uint8Array): Promise<boolean> {
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    const tenantKey = this.state.machine?.tenantKey(deposit.tenant) ?? null;
    const workers = this.#workers();
    if (tenantKey === null || workers === null) return false;
    try {
      await workers.verify(encoded, tenantKey);
      return true;
    } catch (e) {
      if (e instanceof VaultError && e.code !== 'NODE_CLOSED' && e.code !== 'INTERNAL') throw e;
      return false;
    }
  }

  /**
   * Nonces are minted on the leader (a follower redirects, as for writes): a follower may not
   * have applied yet the deposit a client was just answered for, and would refuse its nonce.
   */
  /**
   * A solution is verified here before it is proposed (every replica verifies it again in apply):
   * a wrong one costs this node one check and never reaches the log, and each claim gets at most
   * SOLVE_ATTEMPTS attempts per minute on this node, so nobody makes the cluster verify junk at
   * will (issue 11 item 5). A clock-gated claim's solution sent before its delay is refused
   * first, as apply would refuse it, and counts no attempt: a client waiting for the delay
   * submits again every so often (client-lib's submitUntilReleased) and costs no verification.
   */
  #precheckSolution(sol: Solution): void {
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    const claim = this.state.machine?.claim(sol.claimId);
    if (claim?.status !== 'live') return; // apply refuses it without verifying
    if (claim.releasableInSeconds !== null && claim.releasableInSeconds > 0) {
      throw clockNotReached(claim.releasableInSeconds);
    }
    const key = toHex(sol.claimId);
    const now = Date.now();
    let a = this.#solveAttempts.get(key);
    if (a === undefined || now - a.since >= 60_000) {
      if (this.#solveAttempts.size >= 10_000) this.#solveAttempts.clear();
      a = { since: now, count: 0 };
      this.#solveAttempts.set(key, a);
    }
    if (++a.count > SOLVE_ATTEMPTS) {
      throw new VaultError(
        'SOLVE_RATE',
        'too many solution attempts for this claim; retry later',
        429,
      );
    }
    const verdict = verifyVdf(
      {
        group: claim.group,
        seed: claim.seed,
        iterations: claim.iterations,
        output: sol.y,
        proof: sol.proof,
      },
      { maxIterations: claim.iterations },
    );
    if (!verdict.valid) {
      throw new VaultError('VDF_PROOF_INVALID', `VDF proof rejected: ${verdict.reason}`);
    }
  }

  mintPingNonce(tenant: string): IssuedNonce {
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    return this.#machineOrThrow().mintPingNonce(tenant, this.#nonceContext());
  }

  mintClaimNonce(walletId: Uint8Array): IssuedNonce {
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    return this.#machineOrThrow().mintClaimNonce(walletId, this.#nonceContext());
  }

  #machineOrThrow(): VaultMachine {
    const m = this.state.machine;
    if (m === null)
      throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet', 503);
    return m;
  }

  #nonceContext() {
    const epochId = this.state.machine?.epochId ?? null;
    const secret = epochId ? this.epochs.get(epochId) : undefined;
    if (!epochId || !secret) {
      throw new VaultError('EPOCH_NOT_READY', 'this node does not hold the current epoch yet', 503);
    }
    return {
      epochId,
      epochSecret: secret,
      timestamp: Date.now(),
      random: randomBytes(RANDOM_BYTES),
    };
  }

  async #propose(c: LogCommand, session?: ClientSession): Promise<CommandResult | null> {
    if (this.#closed) throw new VaultError('NODE_CLOSED', 'the node is shutting down', 503);
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    // Only a client's own retries need exactly-once (sessions); the member's proposals are never
    // retried, so they carry none and cost no session record on any replica.
    let bytes: Uint8Array;
    try {
      bytes = await withTimeout(
        this.#started().propose(encodeLogCommand(c), session),
        this.#opts.commitTimeoutMs ?? 10_000,
      );
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'CLUSTER_NOT_LEADER') throw new NotLeaderError(this.leaderUrl());
      if (code === 'COMMIT_TIMEOUT') {
        const msg = 'not committed in time (no majority?); the outcome is unknown, retry';
        throw new VaultError('COMMIT_TIMEOUT', msg, 503);
      }
      if (code === 'CLUSTER_OVERLOADED')
        throw new VaultError('OVERLOADED', 'the cluster is busy; retry', 503);
      const unavailable = new VaultError(
        'CLUSTER_UNAVAILABLE',
        'the command was not committed; retry',
        503,
      );
      unavailable.cause = e; // for the node's log: why (the client is told only to retry)
      throw unavailable;
    }
    if (bytes.length === 0) return null; // a retry older than the session's latest: no reply kept
    if (bytesEqual(bytes, SESSION_CONFLICT)) {
      const msg = 'this client already used that sequence number for another request';
      throw new VaultError('SESSION_CONFLICT', msg, 409);
    }
    const reply = decodeReply(bytes);
    if (!reply.ok) throw reply.error;
    return reply.result;
  }

  /**
   * Benchmark-only: a raw put through Raft (commit on a majority of synced disks, apply on the
   * leader) that changes no vault state. Not reachable over HTTP.
   */
  async benchPut(payload: Uint8Array): Promise<void> {
    await this.#propose({ kind: 'benchPut', payload });
  }

  // ── membership ────────────────────────────────────────────────────────

  /** On the leader: admit a new member (verified attestation) as a learner. */
  async admit(candidate: Member): Promise<Member[]> {
    if (!this.isLeader) throw new NotLeaderError(this.leaderUrl());
    if (!memberAttested(this.#opts.verifier, candidate)) {
      throw new VaultError('ATTESTATION_REJECTED', 'the joining node failed attestation', 403);
    }
    // Before genesis a joiner would replay it from the log, and a recovered genesis cannot be
    // applied without the founders' copy: joiners wait for the vault (then get it by snapshot).
    if (this.state.machine === null) {
      throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet; retry', 503);
    }
    // a replayed record of an identity its slot has since replaced is refused, not re-added
    const newer = [...this.state.members.values()].find(
      (m) =>
        m.slot === candidate.slot && m.id !== candidate.id && m.generation >= candidate.generation,
    );
    if (newer) {
      throw new VaultError(
        'STALE_MEMBER',
        `slot ${candidate.slot} already has generation ${newer.generation}`,
        409,
      );
    }
    if (!this.state.members.has(candidate.id)) {
      await this.#propose({ kind: 'addMember', member: candidate });
    }
    const conf = this.#started().status().conf;
    if (!conf.voters.includes(candidate.id) && !conf.learners.includes(candidate.id)) {
      await this.#started().proposeConfChange({ op: 'addLearner', node: candidate.id });
    }
    return [...this.state.members.values()];
  }

  #setPeers(replayed: ReadonlyMap<string, Member>): void {
    if (!this.#network) return;
    for (const id of replayed.keys()) this.#replayedIds.add(id);
    const members = new Map(replayed);
    for (const [id, m] of this.#directory) {
      if (!this.#replayedIds.has(id)) members.set(id, m);
    }
    const peers = new Map<string, PeerAddress>();
    for (const m of members.values()) {
      if (m.id === this.id) continue;
      if (!memberAttested(this.#opts.verifier, m)) continue; // never admit an unattested key
      peers.set(m.id, { publicKey: m.publicKey, host: m.host, port: m.port });
    }
    this.#network.setPeers(peers);
  }

  /** What this node says when it dials: its cluster and attested record (nothing before both). */
  #introduction(): Uint8Array {
    const clusterId = this.state.secrets?.clusterId;
    if (this.#self === undefined || clusterId === undefined) return new Uint8Array(0);
    const intro = encodeIntroduction({ clusterId, record: this.#self });
    // a document too large for the handshake: links still work, only to known peers
    return intro.length <= MAX_INTRODUCTION_BYTES ? intro : new Uint8Array(0);
  }

  /**
   * A key outside the peer set dialled in with an introduction (introductions.ts): a member this
   * node's replay has not reached yet, e.g. a newer member that now leads (issue 11 item 11). It
   * becomes a peer like a member of the admission directory: until the replay adds and removes it.
   */
  #vouch(remoteStatic: Uint8Array, bytes: Uint8Array): string | undefined {
    const second = Math.floor(Date.now() / 1_000);
    if (this.#introductions.second !== second) this.#introductions = { second, count: 0 };
    if (++this.#introductions.count > INTRODUCTIONS_PER_SECOND) return undefined;
    const intro = decodeIntroduction(bytes);
    const refusal = introductionRefusal(intro, {
      remoteStatic,
      clusterId: this.state.secrets?.clusterId ?? null,
      members: this.state.members,
      replayedIds: this.#replayedIds,
      verifier: this.#opts.verifier,
    });
    if (refusal !== null || intro === null) return undefined;
    this.#directory.set(intro.record.id, intro.record);
    this.#setPeers(this.state.members);
    return intro.record.id;
  }

  #onLink(from: string, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const body = bytes.subarray(1);
    if (bytes[0] === TAG_RAFT) {
      this.#raftHandler(from, body);
      return;
    }
    try {
      if (bytes[0] === TAG_EPOCHS) {
        for (const e of decodeEpochs(body)) {
          this.epochs.add(e.epochId, e.secret);
          this.#network.send(from, encodeEpochAck(e.epochId));
        }
      } else if (bytes[0] === TAG_EPOCH_ACK && body.length === EPOCH_ID_BYTES) {
        const key = toHex(body);
        const acks = this.#epochAcks.get(key) ?? new Set<string>();
        if (acks.size < 256) acks.add(from);
        if (this.#epochAcks.size < 1_024 || this.#epochAcks.has(key))
          this.#epochAcks.set(key, acks);
      }
    } catch {
      /* malformed side messages change nothing */
    }
  }

  /** Every secret this node holds, to `peer` (a link that came up: the peer may have none). */
  #sendEpochs(peer: string): void {
    const all = this.epochs.all();
    if (all.length > 0) this.#network.send(peer, encodeEpochs(all));
  }

  /**
   * The secrets `peer` has not acknowledged. A peer that acked one holds it for as long as its
   * process lives, and a restarted node is a new member (P4): once acked, never sent again, so
   * a settled cluster gossips nothing (it woke every node 20 times a second before).
   */
  #sendUnackedEpochs(peer: string): void {
    const missing = this.epochs
      .all()
      .filter((e) => !this.#epochAcks.get(toHex(e.epochId))?.has(peer));
    if (missing.length > 0) this.#network.send(peer, encodeEpochs(missing));
  }

  /** The leader's duties, at most one round at a time. */
  /** Whether this node's cluster can still elect a leader, as far as it can tell. */
  quorum(): QuorumView {
    const st = this.#node?.status();
    const links = this.#network.stats();
    if (st?.leader) this.#leaderSeenAt = Date.now();
    return quorumView({
      self: this.id,
      voters: st?.conf.voters ?? [],
      leader: st?.leader ?? '',
      connected: (id) => links.get(id)?.connected === true,
      leaderSeenAt: this.#leaderSeenAt,
      now: Date.now(),
    });
  }

  async #housekeeping(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      if (this.#node) {
        const q = this.quorum();
        if (q.state !== this.#quorumState) {
          this.#quorumState = q.state;
          this.#opts.onQuorum?.(q);
        }
      }
      // Everyone gossips the secrets it holds to members (joiners and nodes that missed one).
      for (const id of this.state.members.keys()) if (id !== this.id) this.#sendUnackedEpochs(id);
      if (!this.isLeader) return;
      const st = this.#started().status();
      if (st.commitIndex < st.lastIndex) return; // our no-op is not committed yet
      if (this.state.machine === null) {
        const g = this.#genesis;
        if (g && (g.kind === 'genesis' || g.kind === 'recovered')) {
          const members = [...this.state.members.values()];
          await this.#propose({ ...g, members }).catch(() => {});
        }
        return;
      }
      // the leader's deposit workers boot (~0.5 s) before the first deposit needs them
      this.#workers();
      this.#advanceQuorumTime();
      await this.#ensureEpoch(st);
      await this.#reconcile(st);
    } catch {
      /* retried on the next round */
    } finally {
      this.#busy = false;
    }
  }

  /**
   * A new epoch needs its secret on a quorum of voters before `beginEpoch` commits, so that a
   * later leader can still apply that epoch's claims.
   */
  async #ensureEpoch(st: Status): Promise<void> {
    const current = this.state.machine?.epochId ?? null;
    if (current !== null && this.epochs.has(current)) return;
    if (this.#pendingEpoch === null || Date.now() - this.#pendingEpoch.since > 5_000) {
      const epochId = randomBytes(EPOCH_ID_BYTES);
      this.epochs.add(epochId, randomBytes(32));
      this.#pendingEpoch = { epochId, since: Date.now() };
      const key = toHex(epochId);
      this.#epochAcks.set(key, new Set([...(this.#epochAcks.get(key) ?? []), this.id]));
    }
    const pending = this.#pendingEpoch;
    const acks = this.#epochAcks.get(toHex(pending.epochId))!;
    const voters = st.conf.voters;
    if (voters.filter((v) => acks.has(v)).length < quorum(voters.length)) return;
    await this.#propose({
      kind: 'vault',
      timestamp: Date.now(),
      epochId: pending.epochId,
      random: randomBytes(RANDOM_BYTES),
      command: { type: 'beginEpoch' },
    });
    if (this.state.machine?.epochId && bytesEqual(this.state.machine.epochId, pending.epochId)) {
      this.#pendingEpoch = null;
    }
  }

  /**
   * The leader proposes the majority's clock reading as the next quorum time, one at a time and
   * only in an epoch it holds (a time entry of another epoch is refused when applied).
   */
  #advanceQuorumTime(): void {
    const machine = this.state.machine;
    const epochId = machine?.epochId;
    if (this.#timePending || !machine || !epochId || !this.epochs.has(epochId)) return;
    const raft = this.#started().raft;
    const next = nextQuorumTime(raft.quorumClock(), machine.quorumTime, raft.lowestClock());
    if (next === null) return;
    this.#timePending = true;
    void this.#propose({ kind: 'time', epochId, quorumTime: next })
      .catch(() => {})
      .finally(() => {
        this.#timePending = false;
      });
  }

  /** Promote caught-up learners; retire members replaced by a newer generation of their slot. */
  async #reconcile(st: Status): Promise<void> {
    for (const learner of st.conf.learners) {
      const p = st.peers.find((x) => x.id === learner);
      const epoch = this.state.machine?.epochId;
      const holdsEpoch = epoch != null && this.#epochAcks.get(toHex(epoch))?.has(learner);
      // promoted only once caught up and holding the current epoch's secret
      if (p && p.match >= st.commitIndex && holdsEpoch) {
        await this.#started().proposeConfChange({ op: 'promote', node: learner });
        return;
      }
    }
    const members = [...this.state.members.values()];
    for (const old of members) {
      const newer = members.find(
        (m) =>
          m.slot === old.slot && m.generation > old.generation && st.conf.voters.includes(m.id),
      );
      if (!newer) continue;
      if (old.id === this.id) {
        this.#started().transferLeadership(newer.id); // a leader cannot remove itself
        return;
      }
      if (st.conf.voters.includes(old.id) || st.conf.learners.includes(old.id)) {
        await this.#started().proposeConfChange({ op: 'remove', node: old.id });
        return;
      }
      await this.#propose({ kind: 'removeMember', id: old.id });
      return;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.epochs.close(); // unblocks an applier waiting for a secret
    await this.#depositWorkers?.close();
    await this.#node?.stop().catch(() => {});
    await this.#network.close();
  }
}

export type { ClusterSecrets };

/**
 * A client's exactly-once session belongs to the principal its commands speak for (the key that
 * signs them, or the claim a solution answers): another principal reusing its client id and a
 * huge sequence number lands in a session of its own and cannot make the real one refuse retries.
 */
function sessionKey(command: Command, clientId: string): string {
  const principal = (() => {
    switch (command.type) {
      case 'registerTenant':
        return 'operator';
      case 'deposit':
        return `tenant:${command.deposit.tenant}`;
      case 'delete':
        return `tenant:${command.deletion.tenant}`;
      case 'ping':
        return `ping:${command.ping.tenant}`;
      case 'claim':
        return `wallet:${toHex(command.claim.walletId)}`;
      case 'solve':
        return `claim:${toHex(command.solution.claimId)}`;
      default:
        return 'cluster';
    }
  })();
  return `client/${principal}/${clientId}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('timeout'), { code: 'COMMIT_TIMEOUT' })),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
