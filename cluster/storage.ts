import { Level } from 'level';
import { Reader, Writer } from './bytes.ts';
import { decodeEntry, decodeSnapshotMeta, encodeEntry, encodeSnapshotMeta } from './codec.ts';
import { ClusterError } from './errors.ts';
import type { Entry, HardState, Ready, Snapshot } from './types.ts';

export interface KvWrite {
  readonly key: string;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
}

/** Authenticated encryption of stored values, the LevelDB key bound as associated data. */
export interface ValueCipher {
  seal(name: string, plaintext: Uint8Array): Uint8Array;
  open(name: string, sealed: Uint8Array): Uint8Array;
}

export interface StoredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: Entry[];
  readonly applied: number;
}

const HARD_STATE = 'r/hs';
const SNAPSHOT = 'r/snap';
const APPLIED = 'a/applied';
const ENTRY = 'r/e/';
const STATE = 's/';
const STATE_END = 's0'; // '0' follows '/' in ASCII: the end of the state key range

function entryKey(index: number): string {
  return ENTRY + index.toString(16).padStart(14, '0');
}

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

function hardStateOp(hs: HardState): Op {
  const value = new Writer().u64(hs.term).str(hs.vote).u64(hs.commit).finish();
  return { type: 'put', key: HARD_STATE, value };
}

function appliedOps(ops: Op[], applied: number, writes: readonly KvWrite[]): void {
  for (const w of writes) {
    ops.push(
      w.value === null
        ? { type: 'del', key: STATE + w.key }
        : { type: 'put', key: STATE + w.key, value: w.value },
    );
  }
  ops.push({ type: 'put', key: APPLIED, value: new Writer().u64(applied).finish() });
}

/** State machine writes for the entries up to `index`, recorded with that applied index. */
export interface AppliedWrites {
  readonly index: number;
  readonly writes: readonly KvWrite[];
}

/**
 * Writes sealed ahead of the synced batch they will ride in (`prepare`, then `save`), so that
 * batch spends no time on them: the applied state and a commit-only hard state.
 */
export interface PreparedWrites {
  /** The applied index these writes record, or 0 for a hard state alone. */
  readonly applied: number;
  readonly ops: readonly Op[];
}

/**
 * The durable Raft log, hard state, snapshot and applied state machine on LevelDB. The log is
 * stored in segments, one value per saved batch of entries under the key of its first index, so a
 * batch costs one sealing and one put however many entries it holds. Every write is one
 * `{ sync: true }` batch: `save` writes a Ready's snapshot, truncation, entries and hard
 * state together before the shell may send that Ready's messages; the state machine's changes are
 * always written together with the applied index they belong to (etcd#13766), either in a
 * `save` batch or through `commitApplied`.
 */
export class RaftStorage {
  private readonly db: Level<string, Uint8Array>;
  private readonly cipher: ValueCipher | null;
  /** First index of each stored log segment (one per saved batch of entries), ascending. */
  private segments: number[] = [];
  private lastStored = 0;

  private constructor(db: Level<string, Uint8Array>, cipher: ValueCipher | null) {
    this.db = db;
    this.cipher = cipher;
  }

  /** With a cipher every value is sealed on disk (the vault's log carries secrets). */
  static async open(dir: string, cipher: ValueCipher | null = null): Promise<RaftStorage> {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new RaftStorage(db, cipher);
  }

  private async get(key: string): Promise<Uint8Array | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : this.unseal(key, v);
  }

  private unseal(key: string, value: Uint8Array): Uint8Array {
    if (this.cipher === null) return value;
    try {
      return this.cipher.open(key, value);
    } catch {
      throw new ClusterError('CLUSTER_STORAGE', `stored value ${key} failed authentication`);
    }
  }

  private seal(ops: Op[]): Op[] {
    const c = this.cipher;
    if (c === null) return ops;
    return ops.map((o) => (o.type === 'put' ? { ...o, value: c.seal(o.key, o.value) } : o));
  }

  /** One synced batch: the already sealed `riders` first, so `ops` win where keys repeat. */
  private write(ops: Op[], riders: readonly PreparedWrites[] = []): Promise<void> {
    return this.db.batch([...riders.flatMap((r) => r.ops), ...this.seal(ops)], { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async load(): Promise<StoredState> {
    const hsBytes = await this.get(HARD_STATE);
    let hardState: HardState = { term: 0, vote: '', commit: 0 };
    if (hsBytes !== undefined) {
      const r = new Reader(hsBytes);
      hardState = { term: r.u64(), vote: r.str(256), commit: r.u64() };
      r.end();
    }
    const snapBytes = await this.get(SNAPSHOT);
    let snapshot: Snapshot | null = null;
    if (snapBytes !== undefined) {
      const r = new Reader(snapBytes);
      snapshot = { meta: decodeSnapshotMeta(r), data: r.bytes(Number.MAX_SAFE_INTEGER) };
      r.end();
    }
    // A segment supersedes whatever an earlier one said from its first index on.
    const entries: Entry[] = [];
    this.segments = [];
    for await (const [key, stored] of this.db.iterator({ gte: ENTRY, lt: `${ENTRY}~` })) {
      const r = new Reader(this.unseal(key, stored));
      const first = Number.parseInt(key.slice(ENTRY.length), 16);
      while (entries.length > 0 && entries.at(-1)!.index >= first) entries.pop();
      do {
        const e = decodeEntry(r);
        const prev = entries.at(-1);
        if (e.index !== (prev === undefined ? first : prev.index + 1)) {
          throw new ClusterError('CLUSTER_STORAGE', 'stored log has a gap');
        }
        entries.push(e);
      } while (!r.done);
      this.segments.push(first);
    }
    this.lastStored = entries.at(-1)?.index ?? snapshot?.meta.index ?? 0;
    // a segment that straddles the snapshot still holds entries the snapshot covers
    const live = entries.filter((e) => e.index > (snapshot?.meta.index ?? 0));
    const appliedBytes = await this.get(APPLIED);
    const applied = appliedBytes === undefined ? 0 : new Reader(appliedBytes).u64();
    return { hardState, snapshot, entries: live, applied };
  }

  /** Seal the applied state and/or a commit-only hard state now, to ride in a later `save`. */
  prepare(applied: AppliedWrites | null, hardState: HardState | null): PreparedWrites {
    const ops: Op[] = [];
    if (applied !== null) appliedOps(ops, applied.index, applied.writes);
    if (hardState !== null) ops.push(hardStateOp(hardState));
    return { applied: applied?.index ?? 0, ops: this.seal(ops) };
  }

  /**
   * Persist a Ready's snapshot, entries and hard state in one synced batch, with the prepared
   * writes that the shell deferred to ride along (older than the Ready: its hard state wins).
   */
  async save(
    rd: Pick<Ready, 'snapshot' | 'entries' | 'hardState'>,
    riders: readonly PreparedWrites[] = [],
  ): Promise<void> {
    const ops: Op[] = [];
    if (rd.snapshot !== null) {
      const { snapshot, install } = rd.snapshot;
      const w = new Writer();
      encodeSnapshotMeta(w, snapshot.meta);
      w.bytes(snapshot.data);
      ops.push({ type: 'put', key: SNAPSHOT, value: w.finish() });
      // compaction drops the segments wholly at or below the snapshot; installing drops all
      const kept: number[] = [];
      this.segments.forEach((first, i) => {
        const last = (this.segments[i + 1] ?? this.lastStored + 1) - 1;
        if (!install && last > snapshot.meta.index) kept.push(first);
        else ops.push({ type: 'del', key: entryKey(first) });
      });
      this.segments = kept;
      if (install) this.lastStored = snapshot.meta.index;
    }
    if (rd.entries.length > 0) {
      // One sealed value for the whole batch. Segments from its first index on are replaced; one
      // that starts below and runs past it stays, its tail superseded (see `load`).
      const first = rd.entries[0]!.index;
      // segments are in ascending order and only a tail can be replaced: look at the tail only
      // (the list holds one segment per saved batch until the next compaction, thousands)
      while (this.segments.length > 0 && this.segments.at(-1)! >= first) {
        const f = this.segments.pop()!;
        if (f !== first) ops.push({ type: 'del', key: entryKey(f) });
      }
      const w = new Writer();
      for (const e of rd.entries) encodeEntry(w, e);
      ops.push({ type: 'put', key: entryKey(first), value: w.finish() });
      this.segments.push(first);
      this.lastStored = rd.entries.at(-1)!.index;
    }
    if (rd.hardState !== null) ops.push(hardStateOp(rd.hardState));
    if (ops.length > 0 || riders.length > 0) await this.write(ops, riders);
  }

  /**
   * Record the state machine's writes for entries up to `applied` and the applied index in one
   * synced batch. With `replaceState` every stored state key not rewritten is deleted first
   * (installing a snapshot).
   */
  async commitApplied(
    applied: number,
    writes: readonly KvWrite[],
    replaceState = false,
  ): Promise<void> {
    const ops: Op[] = [];
    if (replaceState) {
      const keep = new Set(writes.map((w) => STATE + w.key));
      for await (const key of this.db.keys({ gte: STATE, lt: STATE_END })) {
        if (!keep.has(key)) ops.push({ type: 'del', key });
      }
    }
    appliedOps(ops, applied, writes);
    await this.write(ops);
  }

  /** The state machine's persisted key/values (keys without the internal prefix). */
  async readState(): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for await (const [key, value] of this.db.iterator({ gte: STATE, lt: STATE_END })) {
      out.set(key.slice(STATE.length), new Uint8Array(this.unseal(key, value)));
    }
    return out;
  }
}
