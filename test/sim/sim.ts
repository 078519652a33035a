import {
  Applier,
  ClusterError,
  type ConfChange,
  canSendBeforePersist,
  decodeMessage,
  type Entry,
  encodeMessage,
  type Message,
  Raft,
  type RaftConfig,
  Reader,
  type Ready,
  Writer,
} from '../../cluster/index.ts';
import { Checker } from './checker.ts';
import { SimDisk } from './disk.ts';
import { Rng } from './rng.ts';
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  TENANTS,
  timeReading,
  type VaultCommand,
  VaultModel,
  WALLETS,
} from './vault-model.ts';

/** Per-seed fault mix ("swarm testing"): each seed draws its own rates. */
export interface SimOptions {
  readonly seed: number;
  readonly nodes: 3 | 5;
  readonly steps: number;
  readonly lossRate: number;
  readonly dupRate: number;
  readonly maxDelay: number;
  readonly partitionRate: number;
  readonly crashRate: number;
  readonly rollbackRate: number;
  readonly tornRate: number;
  readonly clientRate: number;
  readonly transferRate: number;
  readonly compactEvery: number;
  /** Steps of healed network at the end; the cluster must converge (liveness). */
  readonly healSteps: number;
  /**
   * Negative control: restart a rolled-back node under its old identity, trusting its disk.
   * The checker must catch the resulting safety violations in some seeds.
   */
  readonly trustRolledBackDisk: boolean;
  /**
   * Negative control for the peer allow-list (issue 11 item 11): a node accepts messages only
   * from the membership its replay has reached (after the first one; before it, the directory
   * it was admitted with), as vault/replicated did. Some seeds must then fail to converge.
   */
  readonly peersFromReplayOnly?: boolean;
  /**
   * Negative control for the link introduction (issue 11 item 11): a node never admits a link
   * from outside its allow-list on the strength of the dialer's attested record, so a member
   * lagging behind the addition of a newer member that then leads cannot hear it. Implied by
   * `peersFromReplayOnly` (the code it models had neither).
   */
  readonly noIntroductions?: boolean;
  /** The quorum clock and clock-gated claims (absent: neither, as before). */
  readonly clock?: SimClock;
  readonly raft: Partial<RaftConfig>;
}

/**
 * Each node reads a clock (its slot's rate per step, restarting at 0 when it boots, raised to
 * every committed quorum time it applies), reports it in Raft traffic and admits a `time` entry
 * only once its reading reached it; the leader proposes the majority's reading (as
 * vault/replicated/quorum-clock.ts). One step is one unit of true time.
 */
export interface SimClock {
  /** Slot i's rate (slot n<i+1>): 1 honest, below 1 slow, 0 frozen, above 1 fast. */
  readonly rates: readonly number[];
  /** The quorum time a claim's release needs after the claim (every claim is clock-gated). */
  readonly gate: number;
  /**
   * Check that no quorum time commits ahead of true time, so no gated release comes before
   * its claim's quorum time plus the gate: holds while a majority's clocks are not fast.
   */
  readonly checkHonest: boolean;
}

/** The leader proposes a new reading once the majority's is this far past the committed one. */
const TIME_STEP = 5;

export function swarmOptions(seed: number, overrides: Partial<SimOptions> = {}): SimOptions {
  const r = new Rng(seed ^ 0x5eed);
  return {
    seed,
    nodes: r.chance(0.5) ? 3 : 5,
    steps: 700,
    lossRate: r.range(0, 0.25),
    dupRate: r.range(0, 0.3),
    maxDelay: 1 + r.int(6),
    partitionRate: r.range(0, 0.02),
    crashRate: r.range(0, 0.008),
    rollbackRate: r.range(0, 0.003),
    tornRate: r.range(0, 0.3),
    clientRate: r.range(0.2, 0.8),
    transferRate: r.range(0, 0.004),
    compactEvery: 8 + r.int(40),
    healSteps: 400,
    trustRolledBackDisk: false,
    raft: {
      electionTicks: 10,
      heartbeatTicks: 2,
      maxMsgBytes: 64 + r.int(512),
      maxInflightMessages: 1 + r.int(8),
      maxInflightBytes: 256 + r.int(4096),
      maxUncommittedBytes: 2048,
      maxApplyBytes: 64 + r.int(1024),
      snapshotChunkBytes: 32 + r.int(480),
    },
    ...overrides,
  };
}

export class SimFailure extends Error {
  readonly seed: number;
  readonly step: number;

  constructor(seed: number, step: number, message: string) {
    super(`seed ${seed} step ${step}: ${message}\n  replay: npm run sim -- --seed ${seed}`);
    this.seed = seed;
    this.step = step;
  }
}

interface SimNode {
  id: string;
  raft: Raft | null; // null while crashed
  disk: SimDisk;
  model: VaultModel;
  applier: Applier;
  rate: number; // tick skew
  tickAcc: number;
  downUntil: number;
  /** Rolled back: this identity is retired and a fresh member takes its place. */
  retired: boolean;
  /** Applied states by index, for compacting with trailing entries. */
  history: KeptState[];
  /** The applied state at the last compaction: what this node streams (lost in a crash). */
  kept: KeptState | null;
  /** A follower asked for a snapshot this node keeps no state for: compact between Readies. */
  compactWanted: boolean;
  /**
   * The links vault/replicated allows (its peer allow-list, modelled): the directory this node
   * was admitted with (plus every member whose introduction it admitted), and every member id
   * its replay has named so far.
   */
  admittedWith: string[];
  replayedIds: Set<string>;
  /** The quorum clock (SimClock): the step it booted at, and what adopting has added. */
  clockStart: number;
  clockOffset: number;
}

interface KeptState {
  index: number;
  data: Uint8Array;
}

interface InFlight {
  due: number;
  bytes: Uint8Array;
  to: string;
}

interface Client {
  id: string;
  seq: number;
  cmd: VaultCommand | null;
  /** The last command sent, kept after its ack so a scripted retry can resend it. */
  last?: VaultCommand;
  target: string;
  pending: { node: string; index: number; term: number } | null;
  waitUntil: number;
}

const EPOCH = 1;

export class Sim {
  readonly opts: SimOptions;
  readonly rng: Rng;
  readonly nodes = new Map<string, SimNode>();
  readonly checker: Checker;
  step = 0;
  private net: InFlight[] = [];
  private blocked = new Set<string>(); // "from>to"
  private clients: Client[] = [];
  private scripted = new Set<string>();
  /** Acknowledged replies of scripted clients, as "client/seq:reply". */
  readonly replies: string[] = [];
  private generation = 0;
  faultsOn = true;
  stats = {
    delivered: 0,
    dropped: 0,
    refused: 0,
    crashes: 0,
    rollbacks: 0,
    torn: 0,
    acked: 0,
    snapshots: 0,
    installs: 0,
    snapshotFailures: 0,
    /** Quorum-clock readings committed, and gated releases refused early and made. */
    times: 0,
    early: 0,
    gatedReleases: 0,
  };

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rng = new Rng(opts.seed);
    this.checker = new Checker((msg) => this.fail(msg));
    const ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
    for (const id of ids) this.addNode(id, { voters: ids, learners: [] });
    for (let i = 0; i < 4; i++) {
      this.clients.push({
        id: `c${i}`,
        seq: 0,
        cmd: null,
        target: ids[0]!,
        pending: null,
        waitUntil: 0,
      });
    }
  }

  fail(msg: string): never {
    throw new SimFailure(this.opts.seed, this.step, msg);
  }

  /**
   * The shell's applied state in one piece (the simulator stores it whole): its index, the
   * model's state and every session record, sorted so equal states have equal bytes.
   */
  private saveState(n: SimNode): Uint8Array {
    const sessions = n.applier
      .dumpSessionWrites()
      .filter((s) => s.value !== null)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const w = new Writer().u64(n.applier.applied).bytes(n.model.snapshot()).u32(sessions.length);
    for (const s of sessions) w.str(s.key).bytes(s.value!);
    return w.finish();
  }

  /** Reopen the model and the sessions on a saved state (boot, snapshot install). */
  private loadState(n: SimNode, data: Uint8Array, index: number): void {
    n.model = new VaultModel(EPOCH, this.opts.clock?.gate);
    n.applier = new Applier(n.model);
    if (data.length === 0) {
      if (index !== 0) this.fail(`${n.id}: no applied state at ${index}`);
      return;
    }
    try {
      const r = new Reader(data);
      const at = r.u64();
      if (at !== index) this.fail(`${n.id}: state of index ${at} loaded as ${index}`);
      n.model.restore(r.bytes(data.length));
      const records: [string, Uint8Array][] = [];
      for (let k = r.u32(); k > 0; k--) records.push([r.str(data.length), r.bytes(data.length)]);
      r.end();
      n.applier.loadSessions(records, index);
    } catch (e) {
      if (!(e instanceof ClusterError)) throw e;
      this.fail(`${n.id}: malformed applied state at ${index}: ${e.message}`);
    }
  }

  private addNode(id: string, bootstrap: { voters: string[]; learners: string[] }): SimNode {
    const model = new VaultModel(EPOCH, this.opts.clock?.gate);
    const n: SimNode = {
      id,
      raft: null,
      disk: new SimDisk(),
      model,
      applier: new Applier(model),
      rate: this.rng.range(0.7, 1.3),
      tickAcc: 0,
      downUntil: 0,
      retired: false,
      history: [],
      kept: null,
      compactWanted: false,
      admittedWith: [...bootstrap.voters, ...bootstrap.learners],
      replayedIds: new Set(),
      clockStart: this.step,
      clockOffset: 0,
    };
    this.nodes.set(id, n);
    this.boot(n, bootstrap);
    return n;
  }

  /** Start (or restart) a node from its disk. */
  private boot(n: SimNode, bootstrap?: { voters: string[]; learners: string[] }): void {
    const d = n.disk;
    n.history = [];
    n.kept = null;
    n.compactWanted = false;
    // an install writes the applied state with the snapshot position; a compaction is at or below
    if (d.snapshot !== null && d.snapshot.meta.index > d.applied) {
      this.fail(`${n.id}: stored snapshot ${d.snapshot.meta.index} ahead of applied ${d.applied}`);
    }
    this.loadState(n, d.appliedState, d.applied);
    n.clockStart = this.step; // the reading is volatile: it restarts with the node
    n.clockOffset = 0;
    n.raft = new Raft({
      id: n.id,
      config: this.opts.raft,
      random: (k) => this.rng.int(k),
      hardState: d.hardState,
      snapshot: d.snapshot,
      entries: [...d.entries],
      applied: d.applied,
      bootstrap: bootstrap ?? { voters: [], learners: [] },
      ...(this.opts.clock ? { admit: (e: Entry) => this.admits(n, e) } : {}),
    });
    this.checker.onBoot(n.id, n.raft);
    this.process(n);
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.raft !== null);
  }

  // ------------------------------------------------------------- node processing

  private process(n: SimNode): void {
    const raft = n.raft;
    if (raft === null) return;
    while (n.raft === raft && raft.hasReady()) {
      const rd = raft.ready();
      for (const m of rd.messages) if (canSendBeforePersist(m)) this.send(n, m);
      if (this.faultsOn && this.rng.chance(this.opts.crashRate * 0.2)) {
        // crash while the batch is being written: lost or torn, and nothing was sent
        const torn = this.rng.chance(this.opts.tornRate);
        if (torn) this.stats.torn++;
        n.disk.save(rd, torn ? this.rng.int(8) : 0);
        this.checker.syncHeld(n.id, n.disk);
        this.crash(n);
        return;
      }
      n.disk.save(rd);
      this.checker.onPersist(n.id, rd, n.disk, this.step);
      if (this.faultsOn && this.rng.chance(this.opts.crashRate * 0.1)) {
        this.crash(n); // synced, crashed before sending
        return;
      }
      for (const m of rd.messages) if (!canSendBeforePersist(m)) this.send(n, m);
      this.apply(n, rd);
      raft.advance(rd);
      if (raft.role === 'leader') this.checker.onLeader(n.id, raft, this.step);
      if (n.applier.applied !== raft.log.applied) {
        this.fail(`${n.id}: applier at ${n.applier.applied}, raft applied ${raft.log.applied}`);
      }
      if (n.compactWanted) {
        this.compactApplied(n, raft);
      } else if (raft.log.applied - raft.log.snapIndex >= 2 * this.opts.compactEvery) {
        // keep `compactEvery` trailing entries for slow followers, like a production shell would
        const limit = raft.log.applied - this.opts.compactEvery;
        let pick: KeptState | undefined;
        while (n.history.length > 0 && n.history[0]!.index <= limit) pick = n.history.shift();
        if (pick !== undefined && pick.index > raft.log.snapIndex) {
          n.kept = pick;
          raft.compact(pick.index);
          this.stats.snapshots++;
        }
      }
    }
  }

  /**
   * The shell's compaction on demand (as cluster/node.ts does it): the stored applied state
   * becomes the one it streams, and the log is compacted up to it if that moves the snapshot.
   */
  private compactApplied(n: SimNode, raft: Raft): void {
    n.compactWanted = false;
    const index = raft.log.applied;
    if (n.disk.applied !== index)
      this.fail(`${n.id}: disk applied ${n.disk.applied}, raft ${index}`);
    n.kept = { index, data: n.disk.appliedState };
    if (index > raft.log.snapIndex) {
      raft.compact(index);
      this.stats.snapshots++;
    }
  }

  private apply(n: SimNode, rd: Ready): void {
    if (rd.snapshot?.install) {
      // the disk switched to the staged chunks in the Ready's write: reopen on them
      const index = rd.snapshot.snapshot.meta.index;
      if (n.disk.applied !== index)
        this.fail(`${n.id}: installed ${index}, disk at ${n.disk.applied}`);
      this.loadState(n, n.disk.appliedState, index);
      this.checker.onState(n.id, index, n.disk.appliedState);
      this.checker.onInstall(n.id, index);
      n.history = [];
      this.stats.installs++;
      this.noteReplayedMembers(n);
    }
    if (rd.committed.length === 0) return;
    for (const e of rd.committed) {
      const claim = this.gatedClaimOf(n, e);
      const r = n.applier.apply(e);
      if (this.opts.clock && r.reply !== null) this.checkClock(n, e, r.reply, claim);
      this.checker.onApply(n.id, e, r, n.raft!);
      this.ackClients(n, e, r.reply);
    }
    const index = rd.committed.at(-1)!.index;
    this.noteReplayedMembers(n);
    const data = this.saveState(n);
    this.checker.onState(n.id, index, data);
    n.disk.saveApplied(index, data);
    n.history.push({ index, data });
  }

  /** The membership this node's replay has reached (vault/replicated's replayed directory). */
  private replayedMembers(n: SimNode): string[] {
    const conf = n.raft!.confAt(n.raft!.log.applied);
    return [...conf.voters, ...conf.learners];
  }

  private noteReplayedMembers(n: SimNode): void {
    for (const id of this.replayedMembers(n)) n.replayedIds.add(id);
  }

  /** vault/replicated's peer allow-list (member.ts `#setPeers`), or the old rule as a control. */
  private linkAllowed(n: SimNode, from: string): boolean {
    const replayed = this.replayedMembers(n);
    if (replayed.includes(from)) return true;
    if (this.opts.peersFromReplayOnly)
      return replayed.length === 0 && n.admittedWith.includes(from);
    if (n.admittedWith.includes(from) && !n.replayedIds.has(from)) return true;
    if (this.opts.noIntroductions || !this.introductionAdmitted(n, from, replayed)) return false;
    n.admittedWith.push(from);
    return true;
  }

  /**
   * member.ts `#vouch` (vault/replicated/introductions.ts): every simulated node is attested and
   * of this cluster; the receiver must have applied something (it knows the cluster), and the
   * dialer must be neither removed by its replay nor stale by generation in its slot.
   */
  private introductionAdmitted(n: SimNode, from: string, replayed: string[]): boolean {
    if (n.raft!.log.applied === 0 || !this.nodes.has(from) || n.replayedIds.has(from)) return false;
    const [slot, gen] = slotOf(from);
    return !replayed.some((m) => {
      const [s, g] = slotOf(m);
      return s === slot && m !== from && g >= gen;
    });
  }

  private crash(n: SimNode): void {
    n.raft = null;
    n.disk.crash();
    n.downUntil = this.step + 5 + this.rng.int(60);
    this.stats.crashes++;
    this.net = this.net.filter((m) => m.to !== n.id);
  }

  private send(n: SimNode, m: Message): void {
    if (m.type === 'snapshot') {
      const filled = this.fillChunk(n, m);
      if (filled === null) return;
      m = filled;
    }
    const bytes = encodeMessage(m);
    if (!this.faultsOn) {
      this.net.push({ due: this.step + 1, bytes, to: m.to });
      return;
    }
    if (this.blocked.has(`${m.from}>${m.to}`) || this.rng.chance(this.opts.lossRate)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.rng.chance(this.opts.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.net.push({ due: this.step + 1 + this.rng.int(this.opts.maxDelay), bytes, to: m.to });
    }
  }

  /**
   * The core asks for chunk `seq` of the snapshot at `meta.index`: bytes [seq·C, (seq+1)·C) of
   * the state kept at that index. Without it (a restart, or compacted since) the transfer fails
   * and the next Ready boundary compacts, so the core's next attempt finds a state.
   */
  private fillChunk(n: SimNode, m: Extract<Message, { type: 'snapshot' }>): Message | null {
    const raft = n.raft!;
    const kept = n.kept;
    if (kept === null || kept.index !== m.meta.index) {
      this.stats.snapshotFailures++;
      raft.reportSnapshotFailure(m.to);
      n.compactWanted = true;
      return null;
    }
    const size = raft.config.snapshotChunkBytes;
    const from = m.seq * size;
    const chunk = kept.data.subarray(from, from + size);
    return { ...m, chunk, last: from + size >= kept.data.length };
  }

  // ------------------------------------------------------------- clients

  private ackClients(n: SimNode, e: Entry, reply: Uint8Array | null): void {
    for (const c of this.clients) {
      const p = c.pending;
      if (p === null || p.node !== n.id || p.index !== e.index) continue;
      if (p.term === e.term && reply !== null) {
        this.checker.onAck(c.id, c.seq, e, reply);
        if (this.scripted.has(c.id)) this.replies.push(`${c.id}/${c.seq}:${decodeReply(reply)}`);
        this.stats.acked++;
        c.cmd = null;
      }
      c.pending = null; // else: lost to a leader change; the client retries the same seq
    }
  }

  private nextCommand(): VaultCommand {
    const r = this.rng.next();
    if (r < 0.25) return { op: 'deposit', target: this.rng.int(WALLETS) };
    if (r < 0.45) return { op: 'ping', target: this.rng.int(TENANTS) };
    if (r < 0.7) return { op: 'claim', target: this.rng.int(WALLETS) };
    return { op: 'release', target: this.rng.int(WALLETS) };
  }

  private runClients(): void {
    for (const c of this.clients) {
      if (this.scripted.has(c.id)) continue;
      if (c.pending !== null && this.step < c.waitUntil) continue;
      if (!this.rng.chance(this.opts.clientRate)) continue;
      if (c.cmd === null) {
        if (!this.faultsOn) continue; // healing: finish retries, start nothing new
        c.cmd = this.nextCommand();
        c.seq++;
      }
      const n = this.nodes.get(c.target);
      const raft = n?.raft ?? null;
      if (raft === null) {
        c.target = this.rng.pick([...this.nodes.keys()]);
        continue;
      }
      try {
        const at = raft.propose({ clientId: c.id, seq: c.seq, data: encodeCommand(c.cmd) });
        c.pending = { node: c.target, ...at };
        c.waitUntil = this.step + 40;
        // sometimes the client's request is duplicated on the way: the same (client, seq) twice
        if (this.faultsOn && this.rng.chance(0.05)) {
          raft.propose({ clientId: c.id, seq: c.seq, data: encodeCommand(c.cmd) });
        }
        this.process(n!);
      } catch (e) {
        if (!(e instanceof ClusterError)) throw e;
        c.pending = null;
        c.target =
          e.leaderHint !== '' && this.rng.chance(0.8)
            ? e.leaderHint
            : this.rng.pick([...this.nodes.keys()]);
      }
    }
  }

  // ------------------------------------------------------------- operator (membership)

  /**
   * The operator converges membership toward "every live identity is a voter, no retired one is a
   * member", one single-server change at a time: remove a retired member (transferring leadership
   * away first if it leads), add a fresh node as learner, promote a learner once caught up.
   */
  private runOperator(): void {
    const leader = this.live().find((n) => n.raft!.role === 'leader');
    if (leader === undefined) return;
    const raft = leader.raft!;
    const conf = raft.conf();
    const members = [...conf.voters, ...conf.learners];
    const retired = members.find((m) => this.nodes.get(m)?.retired !== false);
    const fresh = [...this.nodes.values()].find((n) => !n.retired && !members.includes(n.id));
    let change: ConfChange | null = null;
    if (retired !== undefined) change = { op: 'remove', node: retired };
    else if (fresh !== undefined) change = { op: 'addLearner', node: fresh.id };
    else if (conf.learners.length > 0) change = { op: 'promote', node: conf.learners[0]! };
    if (change !== null) {
      // the joiner starts with the directory the leader answered its admission with
      if (change.op === 'addLearner' && fresh !== undefined && fresh.admittedWith.length === 0)
        fresh.admittedWith = [...members, fresh.id];
      if (change.op === 'remove' && change.node === leader.id) {
        const other = conf.voters.find((v) => v !== leader.id);
        if (other !== undefined) this.tryRun(() => raft.transferLeadership(other));
      } else {
        this.tryRun(() => raft.proposeConfChange(change));
      }
      this.process(leader);
      return;
    }
    if (this.faultsOn && this.rng.chance(this.opts.transferRate)) {
      const voters = conf.voters.filter((v) => v !== leader.id);
      if (voters.length > 0) this.tryRun(() => raft.transferLeadership(this.rng.pick(voters)));
      this.process(leader);
    }
  }

  private membershipSettled(): boolean {
    const leader = this.live().find((n) => n.raft!.role === 'leader');
    if (leader === undefined) return false;
    const raft = leader.raft!;
    const conf = raft.conf();
    // only a committed configuration counts: an appended change can still be truncated
    if (raft.confAt(raft.log.committed) !== conf) return false;
    const want = [...this.nodes.values()]
      .filter((n) => !n.retired)
      .map((n) => n.id)
      .sort();
    return conf.learners.length === 0 && conf.voters.join() === want.join();
  }

  private tryRun(f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      if (e instanceof ClusterError) return false;
      throw e;
    }
  }

  // ------------------------------------------------------------- faults

  private faults(): void {
    const ids = [...this.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
    if (this.rng.chance(this.opts.partitionRate)) {
      const kind = this.rng.int(3);
      this.blocked.clear();
      const victim = this.rng.pick(ids);
      for (const other of ids) {
        if (other === victim) continue;
        if (kind === 0 || kind === 1) this.blocked.add(`${victim}>${other}`); // isolate (or one-way out)
        if (kind === 0 || kind === 2) this.blocked.add(`${other}>${victim}`); // (or one-way in)
      }
      if (this.rng.chance(0.3)) {
        // a random extra cut anywhere
        this.blocked.add(`${this.rng.pick(ids)}>${this.rng.pick(ids)}`);
      }
    }
    if (this.rng.chance(this.opts.partitionRate * 1.5)) this.blocked.clear();
    for (const n of this.nodes.values()) {
      if (n.retired) continue;
      if (n.raft !== null) {
        if (this.rng.chance(0.01)) n.disk.keepCopy();
        const liveCount = this.live().length;
        if (liveCount > 1 && this.rng.chance(this.opts.crashRate)) this.crash(n);
        else if (
          liveCount > 1 &&
          this.membershipSettled() &&
          this.rng.chance(this.opts.rollbackRate) &&
          n.disk.rollback(this.rng)
        ) {
          this.stats.rollbacks++;
          this.crash(n);
          if (!this.opts.trustRolledBackDisk) this.replaceMember(n);
        }
      }
    }
  }

  /**
   * Rollback model (DESIGN.md P4, research §6.1 (B)): a node whose disk cannot be trusted never
   * comes back under its old identity. It returns as a new member with an empty log and state,
   * joins as a learner, catches up (log or snapshot) and is promoted; the old id is removed.
   */
  private replaceMember(n: SimNode): void {
    n.retired = true;
    const fresh = `${n.id.split('#')[0]}#${++this.generation}`;
    const node = this.addNode(fresh, { voters: [], learners: [] });
    node.downUntil = 0;
  }

  private restarts(): void {
    for (const n of this.nodes.values()) {
      if (n.raft !== null || n.retired || this.step < n.downUntil) continue;
      this.boot(n);
    }
  }

  // ------------------------------------------------------------- the quorum clock

  private reading(n: SimNode): number {
    const slot = Number(slotOf(n.id)[0].slice(1)) - 1;
    const rate = this.opts.clock?.rates[slot] ?? 1;
    const raw = Math.floor(rate * (this.step - n.clockStart)) + n.clockOffset;
    if (n.model.quorumTime <= raw) return raw;
    n.clockOffset += n.model.quorumTime - raw; // a committed time: a majority reached it
    return n.model.quorumTime;
  }

  private admits(n: SimNode, e: Entry): boolean {
    const t = e.type === 'normal' ? timeReading(e.data) : null;
    return t === null || t <= this.reading(n);
  }

  /** Every node reports its reading; the leader proposes the majority's now and then. */
  private runClocks(): void {
    if (!this.opts.clock) return;
    for (const n of this.live()) n.raft!.setClock(this.reading(n));
    const leader = this.live().find((n) => n.raft!.role === 'leader');
    if (leader === undefined || this.step % 3 !== 0) return;
    const q = leader.raft!.quorumClock();
    if (q < leader.model.quorumTime + TIME_STEP) return;
    const data = encodeCommand({ op: 'time', target: q });
    this.tryRun(() => void leader.raft!.propose({ data }));
    this.process(leader);
  }

  private gatedClaimOf(n: SimNode, e: Entry): { qt: number } | undefined {
    if (!this.opts.clock || e.type !== 'normal') return undefined;
    try {
      const c = decodeCommand(e.data);
      return c.op === 'release' ? n.model.claims.get(c.target) : undefined;
    } catch {
      return undefined;
    }
  }

  private checkClock(n: SimNode, e: Entry, reply: Uint8Array, claim?: { qt: number }): void {
    const clock = this.opts.clock!;
    const r = decodeReply(reply);
    const t = timeReading(e.data);
    if (t !== null && r === 'ok') {
      if (n.id === this.leaderId()) this.stats.times++;
      if (clock.checkHonest && t > this.step)
        this.fail(`${n.id}: quorum time ${t} committed ahead of true time ${this.step}`);
    }
    if (claim === undefined) return;
    const counted = n.id === this.leaderId(); // stats once, checks on every replica
    if (r === 'early' && counted) this.stats.early++;
    if (r !== 'released') return;
    if (counted) this.stats.gatedReleases++;
    if (clock.checkHonest && this.step < claim.qt + clock.gate)
      this.fail(`gated release at ${this.step}, before ${claim.qt} + ${clock.gate}`);
  }

  // ------------------------------------------------------------- the loop

  runStep(): void {
    this.step++;
    if (this.faultsOn) this.faults();
    this.restarts();
    this.runClocks();
    for (const n of this.live()) {
      n.tickAcc += this.faultsOn ? n.rate : 1;
      while (n.tickAcc >= 1 && n.raft !== null) {
        n.tickAcc -= 1;
        n.raft.tick();
        this.process(n);
      }
    }
    const due = this.net.filter((m) => m.due <= this.step);
    this.net = this.net.filter((m) => m.due > this.step);
    // shuffle same-step deliveries: reordering beyond the delay jitter
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const f of due) {
      const n = this.nodes.get(f.to);
      if (n?.raft == null) continue;
      const m = decodeMessage(f.bytes);
      if (!this.linkAllowed(n, m.from)) {
        this.stats.refused++;
        continue;
      }
      n.raft.step(m);
      this.stats.delivered++;
      this.process(n);
    }
    this.runClients();
    this.runOperator();
    this.checker.onStep(
      this.live().map((n) => n.raft!),
      this.step,
    );
  }

  /** Fault phase, then heal everything and require convergence. */
  run(): void {
    for (let i = 0; i < this.opts.steps; i++) this.runStep();
    this.faultsOn = false;
    this.blocked.clear();
    for (const n of this.nodes.values()) n.downUntil = 0;
    for (let i = 0; i < this.opts.healSteps; i++) {
      this.runStep();
      if (i > 100 && this.converged()) break;
    }
    if (!this.converged()) this.fail(`did not converge after healing: ${this.describe()}`);
  }

  converged(): boolean {
    const live = this.live().filter((n) => !n.retired);
    const leaders = live.filter((n) => n.raft!.role === 'leader');
    if (leaders.length !== 1 || !this.membershipSettled()) return false;
    const lead = leaders[0]!.raft!;
    const voters = lead.conf().voters;
    if (voters.length !== this.opts.nodes) return false;
    return (
      live.every((n) => n.raft!.log.applied === lead.log.committed) &&
      lead.log.committed >= this.checker.maxAcked()
    );
  }

  describe(): string {
    return this.live()
      .map((n) => {
        const s = n.raft!.status();
        return `${s.id}:${s.role}/t${s.term}/c${s.commitIndex}/a${s.appliedIndex}/l${s.lastIndex}/v[${s.conf.voters}]`;
      })
      .join(' ');
  }

  // ------------------------------------------------------------- scripting (scenario tests)

  leaderId(): string | undefined {
    return this.live().find((n) => n.raft!.role === 'leader')?.id;
  }

  raftOf(id: string): Raft | null {
    return this.nodes.get(id)?.raft ?? null;
  }

  runSteps(n: number): void {
    for (let i = 0; i < n; i++) this.runStep();
  }

  /** Drop every message from `from` to `to`. */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  isolate(id: string, direction: 'both' | 'in' | 'out' = 'both'): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      if (direction !== 'in') this.block(id, other);
      if (direction !== 'out') this.block(other, id);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  keepDiskCopy(id: string): void {
    this.nodes.get(id)!.disk.keepCopy();
  }

  /** Crash `id`, roll its disk back to the kept copy and bring it back per the rollback model. */
  rollback(id: string): void {
    const n = this.nodes.get(id)!;
    if (!n.disk.rollback(this.rng)) throw new Error('no disk copy kept');
    this.stats.rollbacks++;
    this.crash(n);
    n.downUntil = this.step + 1;
    if (!this.opts.trustRolledBackDisk) this.replaceMember(n);
  }

  /**
   * Have the scripted client `clientId` send one command to `node` (default: the leader). Returns
   * where the leader placed it; `isAcked(clientId)` tells when it was acknowledged.
   */
  submit(cmd: VaultCommand, node?: string, clientId = 'script'): { index: number; term: number } {
    let c = this.clients.find((x) => x.id === clientId);
    if (c === undefined) {
      c = {
        id: clientId,
        seq: 0,
        cmd: null,
        target: '',
        pending: null,
        waitUntil: Number.POSITIVE_INFINITY,
      };
      this.scripted.add(clientId);
      this.clients.push(c);
    }
    c.seq++;
    c.cmd = cmd;
    c.last = cmd;
    c.target = node ?? this.leaderId()!;
    const raft = this.nodes.get(c.target)!.raft!;
    const at = raft.propose({ clientId: c.id, seq: c.seq, data: encodeCommand(cmd) });
    c.pending = { node: c.target, ...at };
    this.process(this.nodes.get(c.target)!);
    return at;
  }

  /** Send the scripted client's last command again (same client id and seq): a retry. */
  resubmit(clientId = 'script', node?: string): void {
    const c = this.clients.find((x) => x.id === clientId)!;
    c.target = node ?? this.leaderId()!;
    const raft = this.nodes.get(c.target)!.raft!;
    const at = raft.propose({ clientId: c.id, seq: c.seq, data: encodeCommand(c.last!) });
    c.cmd = c.last!;
    c.pending = { node: c.target, ...at };
    this.process(this.nodes.get(c.target)!);
  }

  isAcked(clientId = 'script'): boolean {
    return this.clients.find((x) => x.id === clientId)?.cmd === null;
  }

  /** The highest log index node `id` has applied (0 while it is down). */
  appliedIndex(id: string): number {
    return this.nodes.get(id)?.raft?.log.applied ?? 0;
  }
}

/** A simulated identity's slot and generation: `n2#7` is generation 7 of slot n2 (n2 is 0). */
function slotOf(id: string): [string, number] {
  const [slot, gen] = id.split('#');
  return [slot!, gen === undefined ? 0 : Number(gen)];
}

/** Options for a scripted scenario: no random faults and no background client load. */
export function scriptedOptions(
  seed: number,
  nodes: 3 | 5,
  overrides: Partial<SimOptions> = {},
): SimOptions {
  return swarmOptions(seed, {
    nodes,
    lossRate: 0,
    dupRate: 0,
    maxDelay: 1,
    partitionRate: 0,
    crashRate: 0,
    rollbackRate: 0,
    tornRate: 0,
    clientRate: 0,
    transferRate: 0,
    compactEvery: 1000,
    ...overrides,
  });
}
