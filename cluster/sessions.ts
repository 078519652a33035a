import { createHash } from 'node:crypto';
import { Reader, Writer } from './bytes.ts';
import type { KvWrite } from './kv.ts';
import type { Entry } from './types.ts';

/** A deterministic state machine that the cluster replicates; it never sees sessions or Raft. */
export interface StateMachine {
  apply(command: Uint8Array, index: number): Uint8Array;
  /**
   * Whether `reply` says the command was accepted. A rejected command does not advance its
   * client's session: only what the machine accepted (signed, valid) can, so nobody moves a
   * session forward with commands they could not have made.
   */
  accepted?(reply: Uint8Array): boolean;
  /**
   * What identifies the client's request inside a command (default: the whole command): a retry
   * whose entry differs only in what the proposer added (time, randomness) is the same request.
   */
  fingerprint?(command: Uint8Array): Uint8Array;
}

interface Session {
  seq: number;
  /** SHA-256 of the command the cached reply belongs to. */
  digest: Uint8Array;
  reply: Uint8Array;
  lastIndex: number;
}

/** The reply to a retry that reuses a sequence number for a different command. */
export const SESSION_CONFLICT = Uint8Array.of(0xff, 0x53, 0x43);

export interface ApplyResult {
  readonly index: number;
  /** The state machine's reply, or the cached one for a retried command; null for non-commands. */
  readonly reply: Uint8Array | null;
  readonly duplicate: boolean;
}

/** Key prefix of persisted sessions; state machines must not use it. */
export const SESSION_KEY_PREFIX = '~session/';
const MAX_REPLY = 1 << 20;

/**
 * Applies committed entries in order and deduplicates client retries: for each client id the
 * highest sequence number applied and its reply are kept (in the snapshot too, so every replica
 * decides the same way: they are stored as records beside the state machine's, and travel with
 * its streamed snapshots). A retry of the last command gets the cached reply; an older one gets
 * nothing and changes nothing. Sessions beyond `maxSessions` are evicted oldest-first by log
 * position, which is deterministic across replicas.
 */
export class Applier {
  readonly machine: StateMachine;
  private readonly maxSessions: number;
  private sessions = new Map<string, Session>();
  private touched = new Set<string>();
  applied = 0;

  constructor(machine: StateMachine, maxSessions = 100_000) {
    this.machine = machine;
    this.maxSessions = maxSessions;
  }

  apply(e: Entry): ApplyResult {
    this.applied = e.index;
    if (e.type !== 'normal') return { index: e.index, reply: null, duplicate: false };
    if (e.clientId === '')
      return { index: e.index, reply: this.machine.apply(e.data, e.index), duplicate: false };
    const s = this.sessions.get(e.clientId);
    const digest = createHash('sha256')
      .update(this.machine.fingerprint?.(e.data) ?? e.data)
      .digest();
    if (s !== undefined && e.seq <= s.seq) {
      if (e.seq < s.seq) return { index: e.index, reply: null, duplicate: true };
      // the same sequence number: the cached reply only for the very same command
      const same = Buffer.compare(digest, s.digest) === 0;
      return { index: e.index, reply: same ? s.reply : SESSION_CONFLICT, duplicate: true };
    }
    const reply = this.machine.apply(e.data, e.index);
    if (this.machine.accepted?.(reply) === false) {
      return { index: e.index, reply, duplicate: false };
    }
    this.sessions.delete(e.clientId); // re-insert so Map order is by last use
    this.sessions.set(e.clientId, { seq: e.seq, digest, reply, lastIndex: e.index });
    this.touched.add(e.clientId);
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
      this.touched.add(oldest);
    }
    return { index: e.index, reply, duplicate: false };
  }

  /** Session changes since the last call, as key/value writes for `RaftStorage.commitApplied`. */
  drainSessionWrites(): KvWrite[] {
    const out: KvWrite[] = [];
    for (const id of this.touched) {
      const s = this.sessions.get(id);
      const value =
        s === undefined
          ? null
          : new Writer().u64(s.seq).bytes(s.digest).bytes(s.reply).u64(s.lastIndex).finish();
      out.push({ key: SESSION_KEY_PREFIX + id, value });
    }
    this.touched.clear();
    return out;
  }

  /** Every session as writes (a shell that stores the state in one piece: the simulator). */
  dumpSessionWrites(): KvWrite[] {
    for (const id of this.sessions.keys()) this.touched.add(id);
    return this.drainSessionWrites();
  }

  /** Rebuild the session table from its persisted records (restart, snapshot install). */
  loadSessions(records: Iterable<readonly [string, Uint8Array]>, applied: number): void {
    const list: [string, Session][] = [];
    for (const [key, value] of records) {
      if (!key.startsWith(SESSION_KEY_PREFIX)) continue;
      const r = new Reader(value);
      list.push([
        key.slice(SESSION_KEY_PREFIX.length),
        { seq: r.u64(), digest: r.bytes(32), reply: r.bytes(MAX_REPLY), lastIndex: r.u64() },
      ]);
      r.end();
    }
    list.sort((a, b) => a[1].lastIndex - b[1].lastIndex);
    this.sessions = new Map(list);
    this.touched.clear();
    this.applied = applied;
  }
}
