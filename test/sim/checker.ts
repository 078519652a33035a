import {
  type ApplyResult,
  type Entry,
  quorum,
  type Raft,
  type Ready,
} from '../../cluster/index.ts';
import type { SimDisk } from './disk.ts';
import { decodeCommand, decodeReply, tenantOf } from './vault-model.ts';

function key(e: Entry): string {
  return `${e.term}|${e.type}|${e.clientId}|${e.seq}|${e.data.join(',')}`;
}

/**
 * Safety invariants, checked incrementally as the simulator runs:
 * - election safety: at most one leader per term;
 * - log matching: an (index, term) pair always names the same entry with the same predecessor term;
 * - leader completeness / no acknowledged entry lost: every leader holds every acked entry;
 * - state machine safety: every node applies the same entry and gets the same reply at each index,
 *   and holds the same applied state (model and sessions) there, installed snapshots included;
 * - sessions: a (client, seq) is executed at most once;
 * - vault P3: an entry is applied only once a quorum of voters has it on disk;
 * - vault P2/P4: a release is granted only for a claim with no ping of its tenant in between,
 *   recomputed independently from the applied log.
 */
export class Checker {
  private readonly fail: (msg: string) => never;
  private leaders = new Map<number, string>();
  private entries = new Map<string, { key: string; prevTerm: number | undefined }>();
  private acked: { index: number; term: number; key: string }[] = [];
  private applied: { key: string; reply: string; entry: Entry }[] = []; // index - 1
  private executed = new Set<string>();
  private nextApply = new Map<string, number>();
  private leaderChecked = new Map<string, number>();
  private maxAck = 0;
  /** What each node durably stored through Raft's own writes (a disk rollback does not erase history). */
  private held = new Map<string, { snap: number; terms: Map<number, number> }>();
  /** The applied state first seen at each index (serialised by the simulator's shell). */
  private states = new Map<number, string>();
  releases = 0;

  constructor(fail: (msg: string) => never) {
    this.fail = fail;
  }

  maxAcked(): number {
    return this.maxAck;
  }

  onBoot(id: string, raft: Raft): void {
    this.nextApply.set(id, raft.log.applied + 1);
  }

  /** `id` holds `state` as its applied state at `index` (after a batch, or installed). */
  onState(id: string, index: number, state: Uint8Array): void {
    const key = Buffer.from(state).toString('base64');
    const seen = this.states.get(index);
    if (seen === undefined) this.states.set(index, key);
    else if (seen !== key) this.fail(`${id} holds a different applied state at ${index}`);
  }

  onInstall(id: string, index: number): void {
    this.nextApply.set(id, index + 1);
  }

  onPersist(id: string, rd: Ready, disk: SimDisk, step: number): void {
    this.syncHeld(id, disk);
    for (const e of rd.entries) {
      const k = `${e.index}:${e.term}`;
      const prevTerm = disk.term(e.index - 1);
      const seen = this.entries.get(k);
      if (seen === undefined) {
        this.entries.set(k, { key: key(e), prevTerm });
      } else if (
        seen.key !== key(e) ||
        (prevTerm !== undefined && seen.prevTerm !== undefined && seen.prevTerm !== prevTerm)
      ) {
        this.fail(`log matching violated on ${id} at ${k} (step ${step})`);
      }
    }
  }

  /** Record what `id` durably holds after a write (complete or torn). */
  syncHeld(id: string, disk: SimDisk): void {
    const h = this.held.get(id) ?? { snap: 0, terms: new Map<number, number>() };
    h.snap = Math.max(h.snap, disk.snapshot?.meta.index ?? 0);
    h.terms = new Map(disk.entries.map((e) => [e.index, e.term]));
    this.held.set(id, h);
  }

  onLeader(id: string, raft: Raft, _step: number): void {
    const other = this.leaders.get(raft.term);
    if (other !== undefined && other !== id)
      this.fail(`two leaders in term ${raft.term}: ${other} and ${id}`);
    this.leaders.set(raft.term, id);
    // leader completeness: once per (leader, term), then for new acks
    const from = this.leaderChecked.get(`${id}@${raft.term}`) ?? 0;
    for (let i = from; i < this.acked.length; i++) {
      const a = this.acked[i]!;
      // a stale leader of an older term may lack newer entries; it can never commit them
      if (a.index <= raft.log.snapIndex || raft.term < a.term) continue;
      if (raft.log.term(a.index) !== a.term) {
        this.fail(
          `acknowledged entry ${a.index}@${a.term} missing from leader ${id} of term ${raft.term}`,
        );
      }
    }
    this.leaderChecked.set(`${id}@${raft.term}`, this.acked.length);
  }

  onStep(rafts: Raft[], step: number): void {
    for (const r of rafts) if (r.role === 'leader') this.onLeader(r.id, r, step);
  }

  onAck(client: string, seq: number, e: Entry, reply: Uint8Array): void {
    this.acked.push({ index: e.index, term: e.term, key: key(e) });
    this.maxAck = Math.max(this.maxAck, e.index);
    const canon = this.applied[e.index - 1];
    if (canon === undefined || canon.key !== key(e))
      this.fail(`ack of ${client}/${seq} for an entry not applied`);
    // a retried command acked through a duplicate entry must carry the original reply
    if (reply.join(',') !== canon.reply && canon.reply !== 'dup')
      this.fail(`ack reply mismatch for ${client}/${seq}`);
  }

  onApply(id: string, e: Entry, r: ApplyResult, raft: Raft): void {
    const expected = this.nextApply.get(id) ?? 1;
    if (e.index !== expected) this.fail(`${id} applied ${e.index}, expected ${expected}`);
    this.nextApply.set(id, e.index + 1);
    const replyKey = r.reply === null ? 'none' : r.reply.join(',');
    const canon = this.applied[e.index - 1];
    if (canon !== undefined) {
      if (canon.key !== key(e)) this.fail(`${id} applied a different entry at ${e.index}`);
      if (canon.reply !== replyKey && canon.reply !== 'dup')
        this.fail(`${id} got a different reply at ${e.index}`);
      return;
    }
    if (e.index !== this.applied.length + 1)
      this.fail(`${id} applied ${e.index} before ${this.applied.length + 1}`);
    // P3: the first application anywhere needs a quorum of voters holding the entry durably
    // Under single-server changes the entry's quorum is that of the configuration at its index or
    // of a later one the leader had appended by the time it committed; accept either.
    const quorumHolds = (voters: readonly string[]): boolean => {
      let holders = 0;
      for (const v of voters) {
        const h = this.held.get(v);
        if (h !== undefined && (e.index <= h.snap || h.terms.get(e.index) === e.term)) holders++;
      }
      return holders >= quorum(voters.length);
    };
    // term-0 entries are the founding configuration, committed by construction on every founder
    if (
      e.term > 0 &&
      !quorumHolds(raft.confAt(e.index).voters) &&
      !quorumHolds(raft.conf().voters)
    ) {
      this.fail(`${id} applied ${e.index}@${e.term} without a quorum of voters holding it`);
    }
    if (e.type === 'normal' && e.clientId !== '' && !r.duplicate) {
      const k = `${e.clientId}/${e.seq}`;
      if (this.executed.has(k)) this.fail(`command ${k} executed twice`);
      this.executed.add(k);
    }
    this.applied.push({ key: key(e), reply: r.duplicate ? 'dup' : replyKey, entry: e });
    if (
      e.type === 'normal' &&
      !r.duplicate &&
      r.reply !== null &&
      decodeReply(r.reply) === 'released'
    ) {
      this.checkRelease(e);
    }
  }

  /** P2: recompute from the applied log that the released claim had no ping in between. */
  private checkRelease(release: Entry): void {
    this.releases++;
    const wallet = decodeCommand(release.data).target;
    let claimAt = 0;
    for (let i = release.index - 1; i >= 1; i--) {
      const a = this.applied[i - 1]!;
      if (a.entry.type !== 'normal' || a.reply === 'dup') continue;
      const c = decodeCommand(a.entry.data);
      if (
        c.op === 'claim' &&
        c.target === wallet &&
        decodeReply(Uint8Array.of(Number(a.reply))) === 'claimed'
      ) {
        claimAt = i;
        break;
      }
    }
    if (claimAt === 0) this.fail(`release at ${release.index} without a claim`);
    for (let i = claimAt + 1; i < release.index; i++) {
      const a = this.applied[i - 1]!;
      if (a.entry.type !== 'normal' || a.reply === 'dup') continue;
      const c = decodeCommand(a.entry.data);
      if (c.op === 'ping' && c.target === tenantOf(wallet)) {
        this.fail(`release at ${release.index} across a ping at ${i} (claim at ${claimAt})`);
      }
      if (c.op === 'release' && c.target === wallet && a.reply.length > 0) {
        const rep = decodeReply(Uint8Array.of(Number(a.reply)));
        if (rep === 'released') this.fail(`claim at ${claimAt} released twice`);
      }
    }
  }
}
