import { Reader, Writer } from './bytes.ts';
import { decodeEntry, decodeSnapshotMeta, encodeEntry, encodeSnapshotMeta } from './codec.ts';
import { ClusterError } from './errors.ts';
import {
  type KvRange,
  type KvStore,
  type KvView,
  type KvWrite,
  LevelKvStore,
  prefixRange,
} from './kv.ts';
import type { Entry, HardState, Ready, Snapshot } from './types.ts';

/** Authenticated encryption of stored values, the store key bound as associated data. */
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

/**
 * The applied state machine's records as this node holds them now: what is on disk, overlaid
 * with writes applied but not yet written (they ride the next synced batch).
 */
export interface StateReader {
  get(key: string): Uint8Array | undefined;
  /** Stored records under `prefix`, in key order (on disk only: call with nothing pending). */
  iterate(prefix: string): AsyncIterable<[string, Uint8Array]>;
}

const HARD_STATE = 'r/hs';
const SNAPSHOT = 'r/snap';
const ENTRY = 'r/e/';
const APPLIED = 'a/applied';
/** Which of the two state namespaces is current; the other receives a streamed snapshot. */
const GENERATION = 'a/gen';
const STATE = (gen: number) => `s${gen}/`;

function entryKey(index: number): string {
  return ENTRY + index.toString(16).padStart(14, '0');
}

function u64Value(n: number): Uint8Array {
  return new Writer().u64(n).finish();
}

function hardStateOp(hs: HardState): KvWrite {
  const value = new Writer().u64(hs.term).str(hs.vote).u64(hs.commit).finish();
  return { key: HARD_STATE, value };
}

/** State machine writes for the entries up to `index`, recorded with that applied index. */
export interface AppliedWrites {
  readonly index: number;
  readonly writes: readonly KvWrite[];
}

/**
 * Writes sealed ahead of the synced batch they will ride in (`prepare`, then `save`), so that
 * batch spends no time on them: the applied state and a commit-only hard state. Until written,
 * the state reader sees them (`plain`).
 */
export interface PreparedWrites {
  /** The applied index these writes record, or 0 for a hard state alone. */
  readonly applied: number;
  readonly ops: readonly KvWrite[];
  readonly plain: readonly KvWrite[];
}

/** A point-in-time view of the applied state at `index`, streamed to followers in chunks. */
export interface SnapshotSource {
  readonly index: number;
  /** Chunk `seq` (each about `maxBytes` of records); resumes after the last key it sent. */
  chunk(seq: number, maxBytes: number): Promise<{ chunk: Uint8Array; last: boolean }>;
  close(): Promise<void>;
}

const MAX_KEY = 1024;
const IMPORT_BATCH = 1_000;
const MAX_VALUE = 64 << 20;

/** A snapshot chunk: records as (key, plaintext value) pairs, keys ascending. */
export function encodeChunk(records: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const w = new Writer().u32(records.length);
  for (const [k, v] of records) w.str(k).bytes(v);
  return w.finish();
}

export function decodeChunk(chunk: Uint8Array): [string, Uint8Array][] {
  const r = new Reader(chunk);
  const out: [string, Uint8Array][] = [];
  let prev = '';
  for (let n = r.u32(); n > 0; n--) {
    const key = r.str(MAX_KEY);
    if (key <= prev && out.length > 0) {
      throw new ClusterError('CLUSTER_MALFORMED', 'snapshot chunk keys out of order');
    }
    out.push([key, r.bytes(MAX_VALUE)]);
    prev = key;
  }
  r.end();
  return out;
}

/**
 * The durable Raft log, hard state, snapshot position and applied state machine records, on the
 * storage seam (`KvStore`). The log is stored in segments, one value per saved batch of entries
 * under the key of its first index, so a batch costs one sealing and one put however many
 * entries it holds. The state machine's records are written with the applied index they belong
 * to, in the same atomic batch (etcd#13766); nothing ever rewrites the whole state.
 *
 * Snapshots are the records themselves: compaction only drops log entries (the store holds the
 * state at the applied index); a follower receives the leader's records in chunks into the
 * other state namespace and switches to it, with the snapshot's position, in one synced batch.
 */
export class RaftStorage {
  private readonly kv: KvStore;
  private readonly cipher: ValueCipher | null;
  /** First index of each stored log segment (one per saved batch of entries), ascending. */
  private segments: number[] = [];
  private lastStored = 0;
  private gen = 0;
  /** Applied writes not yet in the store, newest value per key. */
  private readonly overlay = new Map<string, Uint8Array | null>();
  private clearing: Promise<void> = Promise.resolve();
  readonly state: StateReader;

  private constructor(kv: KvStore, cipher: ValueCipher | null) {
    this.kv = kv;
    this.cipher = cipher;
    this.state = {
      get: (key) => {
        if (this.overlay.has(key)) return this.overlay.get(key) ?? undefined;
        return this.read(STATE(this.gen) + key);
      },
      iterate: (prefix) => this.iterateState(prefix),
    };
  }

  /** With a cipher every value is sealed on disk (the vault's log carries secrets). */
  static async open(dir: string, cipher: ValueCipher | null = null): Promise<RaftStorage> {
    return RaftStorage.on(await LevelKvStore.open(dir), cipher);
  }

  /** Raft on any store behind the seam (a host agent's, later: issue 12). */
  static on(kv: KvStore, cipher: ValueCipher | null = null): RaftStorage {
    return new RaftStorage(kv, cipher);
  }

  private read(key: string): Uint8Array | undefined {
    const v = this.kv.get(key);
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

  private seal(ops: readonly KvWrite[]): KvWrite[] {
    const c = this.cipher;
    if (c === null) return [...ops];
    return ops.map((o) => (o.value === null ? o : { key: o.key, value: c.seal(o.key, o.value) }));
  }

  private async *iterateState(prefix: string): AsyncIterable<[string, Uint8Array]> {
    const base = STATE(this.gen);
    for await (const [key, value] of this.kv.iterate(prefixRange(base + prefix))) {
      yield [key.slice(base.length), this.unseal(key, value)];
    }
  }

  async close(): Promise<void> {
    await this.clearing;
    await this.kv.close();
  }

  async load(): Promise<StoredState> {
    const hsBytes = this.read(HARD_STATE);
    let hardState: HardState = { term: 0, vote: '', commit: 0 };
    if (hsBytes !== undefined) {
      const r = new Reader(hsBytes);
      hardState = { term: r.u64(), vote: r.str(256), commit: r.u64() };
      r.end();
    }
    const snapBytes = this.read(SNAPSHOT);
    let snapshot: Snapshot | null = null;
    if (snapBytes !== undefined) {
      const r = new Reader(snapBytes);
      snapshot = { meta: decodeSnapshotMeta(r) };
      r.end();
    }
    // A segment supersedes whatever an earlier one said from its first index on.
    const entries: Entry[] = [];
    this.segments = [];
    for await (const [key, stored] of this.kv.iterate(prefixRange(ENTRY))) {
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
    const appliedBytes = this.read(APPLIED);
    const applied = appliedBytes === undefined ? 0 : new Reader(appliedBytes).u64();
    this.gen = this.read(GENERATION)?.[0] === 1 ? 1 : 0;
    // a snapshot transfer cut short left records in the other namespace: reclaim the space
    this.clearing = this.kv.clear(prefixRange(STATE(1 - this.gen)));
    return { hardState, snapshot, entries: live, applied };
  }

  /** Applied writes the state reader must see from now on, before they are sealed and written. */
  overlayWrites(writes: readonly KvWrite[]): void {
    for (const w of writes) this.overlay.set(w.key, w.value);
  }

  /** Seal the applied state and/or a commit-only hard state now, to ride in a later `save`. */
  prepare(applied: AppliedWrites | null, hardState: HardState | null): PreparedWrites {
    const plain: KvWrite[] = [];
    const ops: KvWrite[] = [];
    if (applied !== null) {
      const base = STATE(this.gen);
      this.overlayWrites(applied.writes);
      for (const w of applied.writes) {
        plain.push(w);
        ops.push({ key: base + w.key, value: w.value });
      }
      ops.push({ key: APPLIED, value: u64Value(applied.index) });
    }
    if (hardState !== null) ops.push(hardStateOp(hardState));
    return { applied: applied?.index ?? 0, ops: this.seal(ops), plain };
  }

  /**
   * Persist a Ready's snapshot position, entries and hard state in one synced batch, with the
   * prepared writes that the shell deferred to ride along (older than the Ready: its hard state
   * wins). Installing a snapshot switches to the staged records instead; the riders then
   * belonged to the state it replaces and are dropped.
   */
  async save(
    rd: Pick<Ready, 'snapshot' | 'entries' | 'hardState'>,
    riders: readonly PreparedWrites[] = [],
  ): Promise<void> {
    const ops: KvWrite[] = [];
    let install = false;
    if (rd.snapshot !== null) {
      const { snapshot } = rd.snapshot;
      install = rd.snapshot.install;
      const w = new Writer();
      encodeSnapshotMeta(w, snapshot.meta);
      ops.push({ key: SNAPSHOT, value: w.finish() });
      // compaction drops the segments wholly at or below the snapshot; installing drops all
      const kept: number[] = [];
      this.segments.forEach((first, i) => {
        const last = (this.segments[i + 1] ?? this.lastStored + 1) - 1;
        if (!install && last > snapshot.meta.index) kept.push(first);
        else ops.push({ key: entryKey(first), value: null });
      });
      this.segments = kept;
      if (install) {
        this.lastStored = snapshot.meta.index;
        ops.push({ key: GENERATION, value: Uint8Array.of(1 - this.gen) });
        ops.push({ key: APPLIED, value: u64Value(snapshot.meta.index) });
      }
    }
    if (rd.entries.length > 0) {
      // One sealed value for the whole batch. Segments from its first index on are replaced; one
      // that starts below and runs past it stays, its tail superseded (see `load`).
      const first = rd.entries[0]!.index;
      // segments are in ascending order and only a tail can be replaced: look at the tail only
      while (this.segments.length > 0 && this.segments.at(-1)! >= first) {
        const f = this.segments.pop()!;
        if (f !== first) ops.push({ key: entryKey(f), value: null });
      }
      const w = new Writer();
      for (const e of rd.entries) encodeEntry(w, e);
      ops.push({ key: entryKey(first), value: w.finish() });
      this.segments.push(first);
      this.lastStored = rd.entries.at(-1)!.index;
    }
    if (rd.hardState !== null) ops.push(hardStateOp(rd.hardState));
    const carried = install ? [] : riders;
    if (ops.length === 0 && carried.length === 0) return;
    await this.kv.write([...carried.flatMap((r) => r.ops), ...this.seal(ops)], { sync: true });
    if (install) {
      this.overlay.clear();
      const old = this.gen;
      this.gen = 1 - old;
      this.clearing = this.clearing.then(() => this.kv.clear(prefixRange(STATE(old))));
    } else {
      this.written(carried);
    }
  }

  /** Riders now on disk: the reader finds their values there (unless a newer write is pending). */
  private written(riders: readonly PreparedWrites[]): void {
    for (const r of riders) {
      for (const w of r.plain) if (this.overlay.get(w.key) === w.value) this.overlay.delete(w.key);
    }
  }

  /**
   * Stage a received snapshot chunk's records in the namespace the next install switches to;
   * chunk 0 starts over. Not synced on its own: the install's synced batch covers it, and a crash
   * before that restarts the transfer.
   */
  async stageChunk(seq: number, chunk: Uint8Array): Promise<void> {
    const records = decodeChunk(chunk);
    const base = STATE(1 - this.gen);
    if (seq === 0) {
      await this.clearing;
      this.clearing = this.kv.clear(prefixRange(base));
    }
    await this.clearing;
    const ops = records.map(([k, v]) => ({ key: base + k, value: v }));
    await this.kv.write(this.seal(ops), { sync: false });
  }

  /**
   * Fills the state of a store that holds none yet (a founder of a recovered vault) from a
   * stream of records, in bounded batches; the last batch, with `extra`, is synced.
   */
  async importState(
    records: AsyncIterable<[string, Uint8Array]>,
    extra: readonly KvWrite[] = [],
  ): Promise<void> {
    const base = STATE(this.read(GENERATION)?.[0] === 1 ? 1 : 0);
    let batch: KvWrite[] = [];
    for await (const [key, value] of records) {
      batch.push({ key: base + key, value });
      if (batch.length >= IMPORT_BATCH) {
        await this.kv.write(this.seal(batch), { sync: false });
        batch = [];
      }
    }
    for (const w of extra) batch.push({ key: base + w.key, value: w.value });
    await this.kv.write(this.seal(batch), { sync: true });
  }

  /**
   * A point-in-time view of the applied state as stored now, recorded as being at `index`: the
   * caller has written everything applied up to `index` and nothing beyond (see RaftNode).
   */
  snapshotSource(index: number): SnapshotSource {
    const view = this.kv.view();
    const range = prefixRange(STATE(this.gen));
    return new ViewSource(index, view, range, (key, value) => this.unseal(key, value));
  }
}

class ViewSource implements SnapshotSource {
  readonly index: number;
  readonly #view: KvView;
  readonly #range: KvRange;
  readonly #unseal: (key: string, value: Uint8Array) => Uint8Array;
  /** The last key each chunk sent, so a chunk asked again starts where it did before. */
  readonly #ends = new Map<number, string>();

  constructor(
    index: number,
    view: KvView,
    range: KvRange,
    unseal: (key: string, value: Uint8Array) => Uint8Array,
  ) {
    this.index = index;
    this.#view = view;
    this.#range = range;
    this.#unseal = unseal;
  }

  async chunk(seq: number, maxBytes: number): Promise<{ chunk: Uint8Array; last: boolean }> {
    if (seq > 0 && !this.#ends.has(seq - 1)) {
      throw new ClusterError('CLUSTER_STORAGE', `snapshot chunk ${seq} asked before ${seq - 1}`);
    }
    const after = seq === 0 ? undefined : { after: this.#ends.get(seq - 1)! };
    const prefix = this.#range.gte.length;
    const records: [string, Uint8Array][] = [];
    let bytes = 0;
    let last = true;
    for await (const [key, value] of this.#view.iterate(this.#range, after)) {
      if (bytes >= maxBytes) {
        last = false;
        break;
      }
      const plain = this.#unseal(key, value);
      records.push([key.slice(prefix), plain]);
      bytes += key.length + plain.length + 8;
    }
    const end = records.at(-1)?.[0];
    const previous = this.#ends.get(seq - 1) ?? this.#range.gte;
    this.#ends.set(seq, end === undefined ? previous : this.#range.gte + end);
    return { chunk: encodeChunk(records), last };
  }

  close(): Promise<void> {
    return this.#view.close();
  }
}
