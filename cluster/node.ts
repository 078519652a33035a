import { randomInt } from 'node:crypto';
import { decodeMessage, encodeMessage } from './codec.ts';
import { ClusterError } from './errors.ts';
import type { KvWrite } from './kv.ts';
import { canSendBeforePersist, type Proposal, Raft, type RaftConfig } from './raft.ts';
import { Applier, type ApplyResult, SESSION_KEY_PREFIX, type StateMachine } from './sessions.ts';
import type { PreparedWrites, RaftStorage, SnapshotSource, StateReader } from './storage.ts';
import type { ConfChange, ConfState, Entry, Message, NodeId, Ready, Status } from './types.ts';

/**
 * What the node shell needs from the network. The authenticated, encrypted peer transport
 * implements this; `from` must be the authenticated identity of the sending peer.
 */
export interface Transport {
  send(to: NodeId, message: Uint8Array): void;
  /** Put the messages sent so far on the wire now (a transport may batch them until then). */
  flush?(): void;
  onMessage(handler: (from: NodeId, message: Uint8Array) => void): void;
}

/**
 * A state machine whose state is keyed records in the node's store, written with the applied
 * index they belong to. It reads its records through the `StateReader` it is given, which also
 * sees its writes that are applied but not yet on disk.
 */
export interface DurableStateMachine extends StateMachine {
  /** Record writes made by `apply` since the last call. */
  drainWrites(): KvWrite[];
  /** (Re)open on the stored records: at start and after a snapshot replaced them. */
  load(state: StateReader): Promise<void>;
  /**
   * Resolves once the machine can apply these committed entries (e.g. it holds a secret they
   * need that arrives out of band); the node applies nothing meanwhile. Rejecting stops the node.
   */
  prepare?(entries: readonly Entry[]): Promise<void>;
  /**
   * Asked after each applied batch: true compacts the log up to the applied index now, for an
   * entry no replica could apply from the log alone (it must reach later members by snapshot).
   */
  compactNow?(): boolean;
}

export interface NodeOptions {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  readonly machine: DurableStateMachine;
  readonly tickMs?: number;
  readonly config?: Partial<RaftConfig>;
  /** Founding voters for a brand-new cluster; empty for a node that joins as a learner. */
  readonly bootstrap?: ConfState;
  /** Take a snapshot and compact once this many entries are applied beyond the last one. */
  readonly snapshotEvery?: number;
  /** How long a commit notice waits for an append that makes it moot (default 5 ms). */
  readonly commitNoticeMs?: number;
  /** Seconds each synced write took (for the fsync histogram). */
  readonly onFsync?: (seconds: number) => void;
  /** This node's clock reading, handed to the core before every tick (`Raft.setClock`). */
  readonly clock?: () => number;
  /** The core's admission hook (`RaftInit.admit`). */
  readonly admit?: (entry: Entry) => boolean;
}

/** How long a commit notice may wait for an append that makes it moot (`holdCommitNotice`). */
const COMMIT_NOTICE_MS = 5;

interface Waiter {
  term: number;
  resolve: (reply: Uint8Array) => void;
  reject: (e: Error) => void;
}

/** A Ready taken from the core, advanced once it is both persisted (its responses sent) and applied. */
interface Taken {
  readonly rd: Ready;
  persisted: boolean;
  applied: boolean;
}

/** Readies a leader holds at once: one whose write is in flight, and one applying behind it. */
const MAX_TAKEN = 2;

/**
 * The node shell: runs the pure core with a real clock, LevelDB storage and a transport. Per
 * Ready: persist (one synced batch, when the Ready holds anything that must be durable) → send →
 * apply → advance; synced writes go one at a time, in order. Proposals arriving meanwhile are
 * batched into the next Ready (group commit). A leader applies without waiting for its own write:
 * what the followers' acknowledgements committed while it writes is answered at once, since a
 * majority holds it on disk (docs/raft.md §3). The applied state and a commit-only hard state
 * never cost a write of their own: they ride in the next synced batch, or are flushed for
 * `whenApplyDurable` and on stop. A crash before that re-applies the committed entries from the
 * log, as etcd does from its WAL.
 */
export class RaftNode {
  readonly raft: Raft;
  private readonly opts: NodeOptions;
  private readonly applier: Applier;
  private readonly waiters = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private durableApplied = 0;
  /**
   * Applied state and commit-only hard states not written yet, sealed in order: they go with the
   * next synced write (a Ready's entries, or a flush for `whenApplyDurable` or `stop`), never on
   * their own.
   */
  private deferred: PreparedWrites[] = [];
  private durableWaiters: { index: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly commitNotices = new Map<NodeId, Message>();
  private commitNoticeTimer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private failed = false;
  /** The applied state at the last compaction, which lagging followers are streamed. */
  private source: SnapshotSource | null = null;
  /** A follower needs a snapshot this node has no view of: compact (take one) between Readies. */
  private compactRequested = false;
  /** Enough applied since the last compaction, or the machine asked: compact between Readies. */
  private compactDue = false;
  /** Readies taken and not yet advanced, in the order taken. */
  private taken: Taken[] = [];
  /** The synced writes, chained: each starts when the one before it is done. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(opts: NodeOptions, raft: Raft, applier: Applier) {
    this.opts = opts;
    this.raft = raft;
    this.applier = applier;
    this.durableApplied = applier.applied;
  }

  static async start(opts: NodeOptions): Promise<RaftNode> {
    const stored = await opts.storage.load();
    const snap = stored.snapshot;
    if (snap !== null && snap.meta.index > stored.applied) {
      // installs and compactions write the applied index with or before the snapshot position
      throw new ClusterError('CLUSTER_STORAGE', 'stored snapshot is ahead of the applied state');
    }
    const applier = new Applier(opts.machine);
    await loadState(opts.storage, opts.machine, applier, stored.applied);
    const raft = new Raft({
      id: opts.id,
      config: opts.config,
      random: (n) => randomInt(n),
      hardState: stored.hardState,
      snapshot: stored.snapshot,
      entries: stored.entries,
      applied: stored.applied,
      bootstrap: opts.bootstrap,
      admit: opts.admit,
    });
    const node = new RaftNode(opts, raft, applier);
    opts.transport.onMessage((from, bytes) => node.receive(from, bytes));
    node.timer = setInterval(() => node.onTick(), opts.tickMs ?? 100);
    node.kick();
    return node;
  }

  /**
   * A clock that cannot be read (the vault's reading reads the store, which may have found its
   * host lying) stops the node like any storage failure, never as an exception in a timer.
   */
  private onTick(): void {
    try {
      if (this.opts.clock) this.raft.setClock(this.opts.clock());
      this.raft.tick();
    } catch (e) {
      this.failStop(e);
      return;
    }
    this.kick();
  }

  private receive(from: NodeId, bytes: Uint8Array): void {
    if (this.stopped) return;
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = decodeMessage(bytes);
    } catch {
      return; // malformed input from a peer changes nothing
    }
    if (m.from !== from) return; // a peer may only speak for itself
    try {
      this.raft.step(m);
    } catch (e) {
      this.failStop(e); // an impossible state (e.g. overwriting a committed entry): stop, never guess
      return;
    }
    this.kick();
  }

  /** Propose a command; resolves with the state machine's reply once applied on this node. */
  propose(data: Uint8Array, session?: { clientId: string; seq: number }): Promise<Uint8Array> {
    if (this.stopped) return Promise.reject(new ClusterError('CLUSTER_STOPPED', 'node stopped'));
    const p: Proposal = { data, clientId: session?.clientId ?? '', seq: session?.seq ?? 0 };
    let at: { index: number; term: number };
    try {
      at = this.raft.propose(p);
    } catch (e) {
      return Promise.reject(e);
    }
    const done = new Promise<Uint8Array>((resolve, reject) => {
      this.waiters.set(at.index, { term: at.term, resolve, reject });
    });
    this.kick();
    return done;
  }

  /** Propose a membership change; resolves once it is committed and applied on this node. */
  proposeConfChange(cc: ConfChange): Promise<void> {
    let at: { index: number; term: number };
    try {
      at = this.raft.proposeConfChange(cc);
    } catch (e) {
      return Promise.reject(e);
    }
    const done = new Promise<void>((resolve, reject) => {
      this.waiters.set(at.index, { term: at.term, resolve: () => resolve(), reject });
    });
    this.kick();
    return done;
  }

  /**
   * Resolves once the state machine's state for everything applied so far is synced to disk
   * (replies go out before that; a caller that must not answer before it, e.g. a release, waits).
   */
  whenApplyDurable(): Promise<void> {
    const index = this.applier.applied;
    if (this.durableApplied >= index) return Promise.resolve();
    if (this.stopped) return Promise.reject(new ClusterError('CLUSTER_STOPPED', 'node stopped'));
    const done = new Promise<void>((resolve, reject) =>
      this.durableWaiters.push({ index, resolve, reject }),
    );
    this.kick();
    return done;
  }

  private markDurable(index: number): void {
    this.durableApplied = Math.max(this.durableApplied, index);
    const due = this.durableWaiters.filter((w) => w.index <= this.durableApplied);
    this.durableWaiters = this.durableWaiters.filter((w) => w.index > this.durableApplied);
    for (const w of due) w.resolve();
  }

  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
    this.kick();
  }

  status(): Status {
    return this.raft.status();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.commitNoticeTimer !== null) clearTimeout(this.commitNoticeTimer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.writes;
    for (const w of this.waiters.values())
      w.reject(new ClusterError('CLUSTER_STOPPED', 'node stopped'));
    this.waiters.clear();
    // a clean stop leaves the applied state on disk (after a failure nothing more is written)
    if (!this.failed) await this.flushDeferred().catch(() => {});
    for (const w of this.durableWaiters.splice(0))
      w.reject(new ClusterError('CLUSTER_STOPPED', 'node stopped'));
    await this.source?.close().catch(() => {});
    this.source = null;
    await this.opts.storage.close(); // the node owns its storage from start to stop
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop()
      .catch((e: unknown) => this.failStop(e))
      .finally(() => {
        this.running = false;
        // work that arrived between the loop's last check and now must not wait for a tick
        if (!this.stopped && this.hasWork()) this.kick();
      });
  }

  /** Storage failures and invariant violations are fatal: continuing could ack what is not true. */
  private failStop(e: unknown): void {
    this.stopped = true;
    this.failed = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.commitNoticeTimer !== null) clearTimeout(this.commitNoticeTimer);
    const err = e instanceof Error ? e : new Error(String(e));
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    for (const w of this.durableWaiters.splice(0)) w.reject(err);
  }

  /** Answers the proposals these entries settle; true if there were any. */
  private settle(results: { e: Entry; r: ApplyResult }[]): boolean {
    let any = false;
    for (const { e, r } of results) {
      const w = this.waiters.get(e.index);
      if (w === undefined) continue;
      any = true;
      this.waiters.delete(e.index);
      if (w.term === e.term) w.resolve(r.reply ?? new Uint8Array());
      else {
        const msg = 'proposal lost to a leader change; retry';
        w.reject(new ClusterError('CLUSTER_NOT_LEADER', msg, this.raft.leader));
      }
    }
    return any;
  }

  /**
   * With no Ready taken, the next one. While a leader's write is in flight, the next one only for
   * entries the followers committed meanwhile; new proposals wait to share the next write.
   */
  private canTakeReady(): boolean {
    if (!this.raft.hasReady()) return false;
    if (this.taken.length === 0) return true;
    return (
      this.taken.length < MAX_TAKEN &&
      this.raft.role === 'leader' &&
      this.raft.hasUnappliedCommits()
    );
  }

  private hasWork(): boolean {
    if (this.canTakeReady()) return true;
    if (this.taken.length > 0) return false; // the write in flight kicks the loop when done
    return this.durableWaiters.length > 0 || this.compactRequested || this.compactDue;
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.hasWork()) {
      if (this.canTakeReady()) await this.handleReady(this.raft.ready());
      else if (this.compactRequested || this.compactDue) await this.compact();
      else await this.flushDeferred(); // someone waits for the applied state to be on disk
    }
  }

  /** Runs `job` after every synced write before it; a failure stops the node. */
  private afterWrites(job: () => Promise<void>): Promise<void> {
    const run = this.writes.then(() => {
      if (this.failed) throw new ClusterError('CLUSTER_STOPPED', 'node stopped');
      return job();
    });
    this.writes = run.then(
      () => this.kick(),
      (e: unknown) => this.failStop(e),
    );
    return run;
  }

  /** Write the deferred commit index and applied state now, synced. */
  private flushDeferred(): Promise<void> {
    return this.afterWrites(async () => {
      const applied = this.applier.applied;
      const riders = this.deferred.splice(0);
      if (riders.length > 0) {
        await this.opts.storage.save({ snapshot: null, entries: [], hardState: null }, riders);
      }
      this.markDurable(applied);
    });
  }

  /** Advances the Readies at the front that are persisted and applied, in the order taken. */
  private advanceDone(): void {
    while (this.taken.length > 0 && this.taken[0]!.persisted && this.taken[0]!.applied) {
      this.raft.advance(this.taken.shift()!.rd);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    const { storage, transport } = this.opts;
    const taken: Taken = { rd, persisted: false, applied: false };
    this.taken.push(taken);
    // The leader's appends go out while it writes (thesis §10.2.1); everything else waits. An
    // append without entries that only carries a new commit index is held (`holdCommitNotice`).
    const later = (m: Message) => m.type === 'append' && m.entries.length === 0;
    for (const m of rd.messages) if (canSendBeforePersist(m) && !later(m)) this.send(m);
    transport.flush?.();
    // Only the commit index moved: losing it in a crash is harmless (the leader repeats it), so
    // it waits for the next synced write instead of costing one.
    let hardState = rd.mustSync ? null : rd.hardState;
    const persisted = this.afterWrites(async () => {
      for (const c of rd.snapshotChunks) await storage.stageChunk(c.seq, c.chunk);
      if (rd.mustSync) {
        // the deferred commit index and applied state ride along in the same atomic batch (an
        // install drops them: they belong to the state it replaces)
        const riders = this.deferred.splice(0);
        const t0 = performance.now();
        await storage.save(rd, riders);
        this.opts.onFsync?.((performance.now() - t0) / 1000);
        if (!rd.snapshot?.install) this.markDurable(Math.max(0, ...riders.map((r) => r.applied)));
      }
      if (rd.snapshot?.install) {
        const index = rd.snapshot.snapshot.meta.index;
        await loadState(storage, this.opts.machine, this.applier, index);
        this.markDurable(index);
      }
      for (const m of rd.messages) if (!canSendBeforePersist(m)) this.send(m);
      transport.flush?.();
      taken.persisted = true;
      this.advanceDone();
    });
    // A leader's committed entries are on a majority's disks whatever its own write does; anyone
    // else applies after persisting (an install replaces the state the entries apply to).
    const leaderApplies =
      this.raft.role === 'leader' && rd.snapshot === null && rd.snapshotChunks.length === 0;
    if (!leaderApplies) await persisted;
    if (rd.committed.length > 0) {
      await this.opts.machine.prepare?.(rd.committed);
      if (this.stopped) return;
      const results = rd.committed.map((e) => ({ e, r: this.applier.apply(e) }));
      const writes = [...this.opts.machine.drainWrites(), ...this.applier.drainSessionWrites()];
      // Replies go before the applied state is on disk: the entries are committed on a quorum,
      // and a crash before the deferred write re-applies them from the log (sessions dedup).
      // The callers answered here get their replies onto their sockets before the applied state
      // is sealed (~15 µs per sealed value, a few per batch): that work is not the client's wait.
      const index = rd.committed.at(-1)!.index;
      storage.overlayWrites(writes); // reads see them from now on, sealed or not
      if (this.settle(results)) await new Promise((r) => setImmediate(r));
      this.deferred.push(storage.prepare({ index, writes }, hardState));
      hardState = null;
    }
    if (hardState !== null) this.deferred.push(storage.prepare(null, hardState));
    for (const m of rd.messages) if (later(m)) this.holdCommitNotice(m);
    taken.applied = true;
    this.advanceDone();
    const every = this.opts.snapshotEvery ?? 10_000;
    const wanted = this.opts.machine.compactNow?.() ?? false;
    if (wanted || this.applier.applied - this.raft.log.snapIndex >= every) this.compactDue = true;
  }

  /**
   * Compaction writes nothing of the state: the store already holds it at the applied index.
   * Once everything applied is on disk, a point-in-time view of it becomes the snapshot that
   * lagging followers are streamed, and the log below it is dropped.
   */
  private async compact(): Promise<void> {
    this.compactRequested = false;
    this.compactDue = false;
    await this.flushDeferred();
    const index = this.raft.log.applied;
    const previous = this.source;
    this.source = this.opts.storage.snapshotSource(index);
    if (index > this.raft.log.snapIndex) this.raft.compact(index);
    await previous?.close();
  }

  private send(m: Message): void {
    if (m.type === 'snapshot') void this.sendSnapshotChunk(m);
    else {
      // an append with entries that carries the held commit index makes the notice moot (one
      // built before that commit, e.g. a resend, does not)
      const held = this.commitNotices.get(m.to);
      if (m.type === 'append' && m.entries.length > 0 && held?.type === 'append') {
        if (m.commit >= held.commit) this.commitNotices.delete(m.to);
      }
      this.opts.transport.send(m.to, encodeMessage(m));
    }
  }

  /**
   * A commit notice (an append with no entries) is held a few ms and dropped if an
   * append with entries goes to that follower meanwhile, as it does under steady writes: a
   * single client's next write then tells the followers what committed, and the cluster pays
   * two messages per write instead of four (the notice and its reply, per follower). Dropping
   * one is a message lost, which Raft tolerates; a follower applies at most this much later.
   */
  private holdCommitNotice(m: Message): void {
    this.commitNotices.set(m.to, m);
    this.commitNoticeTimer ??= setTimeout(() => {
      this.commitNoticeTimer = null;
      if (this.stopped) return;
      const due = [...this.commitNotices.values()];
      this.commitNotices.clear();
      for (const n of due) this.opts.transport.send(n.to, encodeMessage(n));
      this.opts.transport.flush?.();
    }, this.opts.commitNoticeMs ?? COMMIT_NOTICE_MS);
  }

  /**
   * The core asks for a snapshot chunk; the shell reads it from the point-in-time view. Without
   * a view of that snapshot (a restart, or compacted since), it takes one now and the core starts
   * the transfer over with it.
   */
  private async sendSnapshotChunk(m: Extract<Message, { type: 'snapshot' }>): Promise<void> {
    const source = this.source;
    try {
      if (source === null || source.index !== m.meta.index) {
        this.compactRequested = true;
        this.raft.reportSnapshotFailure(m.to);
        this.kick();
        return;
      }
      const { chunk, last } = await source.chunk(m.seq, this.raft.config.snapshotChunkBytes);
      if (this.stopped) return;
      this.opts.transport.send(m.to, encodeMessage({ ...m, chunk, last }));
      this.opts.transport.flush?.();
    } catch {
      if (!this.stopped) {
        this.raft.reportSnapshotFailure(m.to);
        this.kick();
      }
    }
  }
}

/** The state machine and the session table, (re)opened on the stored records at `applied`. */
async function loadState(
  storage: RaftStorage,
  machine: DurableStateMachine,
  applier: Applier,
  applied: number,
): Promise<void> {
  await machine.load(storage.state);
  const sessions: [string, Uint8Array][] = [];
  for await (const [key, value] of storage.state.iterate(SESSION_KEY_PREFIX)) {
    sessions.push([key, value]);
  }
  applier.loadSessions(sessions, applied);
}
