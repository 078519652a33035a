/**
 * The node's store kept by a host agent (`--storage host:<address>`): the `KvStore` seam of
 * cluster/kv.ts over the host's socket, every answer checked against the bucket index this
 * process keeps (bucket-index.ts). Any answer that fails the check, and any write whose outcome
 * is unknown (the host died mid-batch), breaks the store for good: the node stops rather than go
 * on with a state it cannot vouch for, and comes back as a new member (DESIGN.md P4).
 */
import { type Reader, Writer } from '../bytes.ts';
import { ClusterError } from '../errors.ts';
import type { KvRange, KvStore, KvView, KvWrite } from '../kv.ts';
import {
  BucketIndex,
  chainStep,
  findInList,
  HASH,
  INDEX_END,
  INDEX_PREFIX,
  type IndexEntry,
  sameBytes,
  storageFault,
  updateList,
  valueHash,
} from './bucket-index.ts';
import { HostClient } from './client.ts';
import { MAX_KEYS_PER_GET, Op } from './protocol.ts';
import type { HostAddress } from './socket.ts';

export interface HostStoreOptions {
  /** Buckets of the index: memory is 32 bytes each (default 2^16: 2 MiB). */
  readonly buckets?: number;
  /** Verified bucket lists kept in memory (default 4,096). */
  readonly cachedLists?: number;
  /** Values kept in memory, the most recently read or written (default 4,096). */
  readonly cachedValues?: number;
  /** Records per iteration page (default 1,000). */
  readonly pageRecords?: number;
  /** Told once when the store breaks (a wrong answer, or a write of unknown outcome). */
  readonly onBroken?: (e: ClusterError) => void;
  /** The store's connection is its own: closing the store hangs it up. */
  readonly ownsClient?: boolean;
}

const PAGE_BYTES = 4 << 20;
/** A view's iteration passes that may be resumed (one per follower being streamed to). */
const MAX_PASSES = 8;

interface Pass {
  readonly range: KvRange;
  /** The first key the pass covers, and whether that key itself is included. */
  readonly start: string;
  readonly startInclusive: boolean;
  readonly chains: Map<number, Uint8Array>;
  /** The last key handed out and taken (the next resume is after it). */
  committed: string | null;
  /** The last key handed out, not yet known to be taken. */
  pending: { key: string; bucket: number; hash: Uint8Array } | null;
}

export class HostKvStore implements KvStore {
  readonly #client: HostClient;
  readonly #index: BucketIndex;
  readonly #lists = new Map<number, IndexEntry[]>();
  readonly #maxLists: number;
  /** Values this process wrote or read and checked, newest last: a read of one asks nobody. */
  readonly #values = new Map<string, Uint8Array>();
  readonly #maxValues: number;
  readonly #pageRecords: number;
  #writing: Promise<void> = Promise.resolve();
  #broken: ClusterError | null = null;
  readonly #onBroken: ((e: ClusterError) => void) | undefined;
  readonly #ownsClient: boolean;

  private constructor(client: HostClient, o: HostStoreOptions) {
    this.#client = client;
    this.#index = new BucketIndex(o.buckets ?? 1 << 16);
    this.#maxLists = o.cachedLists ?? 4_096;
    this.#maxValues = o.cachedValues ?? 4_096;
    this.#pageRecords = o.pageRecords ?? 1_000;
    this.#onBroken = o.onBroken;
    this.#ownsClient = o.ownsClient ?? false;
  }

  /**
   * Opens `namespace` on the host. It must be new to this process: the index starts empty, so a
   * namespace that already holds records fails at its first read (a restarted node is a new
   * member with a fresh namespace).
   */
  static async open(
    client: HostClient,
    namespace: string,
    o: HostStoreOptions = {},
  ): Promise<HostKvStore> {
    await client.call(Op.open, new Writer().str(namespace));
    return new HostKvStore(client, o);
  }

  /**
   * Opens a store an earlier process of this node wrote (a recovering node reading its old
   * identities' stores, a founder its recovered copy): the bucket digests are rebuilt from the
   * lists the host holds now, so every later answer must agree with them. What this cannot
   * tell is a host that serves the whole store as it was at an earlier point (a consistent
   * rollback): after a whole-cluster stop nothing outside the store remembers later, and the
   * recovery takes the most advanced of a majority's stores (docs/cluster.md §4).
   */
  static async adopt(
    client: HostClient,
    namespace: string,
    o: HostStoreOptions = {},
  ): Promise<HostKvStore> {
    const store = await HostKvStore.open(client, namespace, o);
    const index = store.#index;
    let after: string | null = null;
    for (;;) {
      const w = new Writer()
        .u32(0)
        .u8(after === null ? 0 : 1)
        .str(after ?? INDEX_PREFIX)
        .str(INDEX_END)
        .u32(store.#pageRecords)
        .u32(PAGE_BYTES);
      const r = await client.call(Op.iterate, w);
      const count = r.u32();
      for (let n = count; n > 0; n--) {
        const key = r.str(1024);
        const encoded = r.bytes(64 << 20);
        if (after !== null && key <= after) throw storageFault(`${key} out of order`);
        after = key;
        const bucket = Number.parseInt(key.slice(INDEX_PREFIX.length), 16);
        if (BucketIndex.listKey(bucket) !== key || bucket >= index.buckets)
          throw storageFault(`${key} is not a bucket list of this store`);
        index.digests.set(BucketIndex.listDigest(bucket, encoded), bucket * HASH);
        for (const [k] of index.verifiedList(bucket, encoded)) {
          if (index.bucketOf(k) !== bucket) throw storageFault(`${k} listed in the wrong bucket`);
        }
      }
      const done = r.bool();
      r.end();
      if (done) break;
      if (count === 0) throw storageFault('an empty page that is not the last');
    }
    return store;
  }

  /** A store on a connection of its own, new (`open`) or written by an earlier process (`adopt`). */
  static async connect(
    address: HostAddress,
    namespace: string,
    how: 'open' | 'adopt',
    o: HostStoreOptions = {},
  ): Promise<HostKvStore> {
    const client = await HostClient.connect(address);
    try {
      const options = { ...o, ownsClient: true };
      return how === 'open'
        ? await HostKvStore.open(client, namespace, options)
        : await HostKvStore.adopt(client, namespace, options);
    } catch (e) {
      await client.close();
      throw e;
    }
  }

  #check(): void {
    if (this.#broken) throw this.#broken;
    if (this.#client.lost)
      this.#break(new ClusterError('CLUSTER_STORAGE', `host agent: ${this.#client.lost.message}`));
  }

  #break(e: unknown): never {
    if (this.#broken === null) {
      this.#broken =
        e instanceof ClusterError && e.code === 'CLUSTER_STORAGE'
          ? e
          : new ClusterError('CLUSTER_STORAGE', `host agent: ${(e as Error).message}`);
      this.#onBroken?.(this.#broken);
    }
    throw this.#broken;
  }

  #cache(bucket: number, list: IndexEntry[]): void {
    lruSet(this.#lists, bucket, list, this.#maxLists);
  }

  #remember(key: string, value: Uint8Array | null): void {
    if (value === null) this.#values.delete(key);
    else lruSet(this.#values, key, value, this.#maxValues);
  }

  get(key: string): Uint8Array | undefined {
    this.#check();
    const known = this.#values.get(key);
    if (known !== undefined) return known;
    const bucket = this.#index.bucketOf(key);
    if (BucketIndex.isEmpty(this.#index.digestOf(bucket))) return undefined;
    try {
      const cached = this.#lists.get(bucket);
      if (cached && findInList(cached, key) === undefined) return undefined;
      const keys = cached ? [key] : [key, BucketIndex.listKey(bucket)];
      const values = this.#getSync(keys);
      const list = cached ?? this.#index.verifiedList(bucket, values[1]);
      if (!cached) this.#cache(bucket, list);
      const value = this.#believed(key, findInList(list, key), values[0]);
      if (value !== undefined) this.#remember(key, value);
      return value;
    } catch (e) {
      this.#break(e);
    }
  }

  #believed(
    key: string,
    hash: Uint8Array | undefined,
    value: Uint8Array | undefined,
  ): Uint8Array | undefined {
    if (hash === undefined) {
      if (value !== undefined) throw storageFault(`${key} should not exist`);
      return undefined;
    }
    if (value === undefined) throw storageFault(`${key} is missing`);
    if (!sameBytes(valueHash(value), hash))
      throw storageFault(`${key} is not the value last written`);
    return value;
  }

  #getSync(keys: string[], view = 0): (Uint8Array | undefined)[] {
    return decodeValues(this.#client.callSync(Op.get, getPayload(keys, view)), keys.length);
  }

  async #get(keys: string[], view = 0): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = [];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_GET) {
      const part = keys.slice(i, i + MAX_KEYS_PER_GET);
      out.push(
        ...decodeValues(await this.#client.call(Op.get, getPayload(part, view)), part.length),
      );
    }
    return out;
  }

  write(ops: readonly KvWrite[], opts: { sync: boolean }): Promise<void> {
    const run = this.#writing.then(() => this.#write(ops, opts.sync));
    this.#writing = run.catch(() => {});
    return run;
  }

  async #write(ops: readonly KvWrite[], sync: boolean): Promise<void> {
    this.#check();
    if (ops.length === 0 && !sync) return;
    for (const o of ops) {
      if (o.key >= INDEX_PREFIX && o.key < INDEX_END)
        throw new ClusterError('CLUSTER_STORAGE', `${o.key}: a reserved key`);
    }
    let request: Promise<unknown>;
    try {
      const touched = new Map<number, IndexEntry[]>();
      const unknown: number[] = [];
      for (const o of ops) {
        const b = this.#index.bucketOf(o.key);
        if (touched.has(b)) continue;
        const cached = this.#lists.get(b);
        if (cached) touched.set(b, cached);
        else if (BucketIndex.isEmpty(this.#index.digestOf(b))) touched.set(b, []);
        else if (!unknown.includes(b)) unknown.push(b);
      }
      const stored = await this.#get(unknown.map(BucketIndex.listKey));
      this.#check();
      for (const [i, b] of unknown.entries())
        touched.set(b, this.#index.verifiedList(b, stored[i]));
      for (const o of ops) {
        const b = this.#index.bucketOf(o.key);
        touched.set(
          b,
          updateList(touched.get(b)!, o.key, o.value === null ? null : valueHash(o.value)),
        );
      }
      // From here to the send nothing awaits: the digests change exactly where the host's order does.
      const w = new Writer().u8(sync ? 1 : 0).u32(ops.length + touched.size);
      for (const o of ops) {
        w.str(o.key);
        if (o.value === null) w.u8(0);
        else w.u8(1).bytes(o.value);
        this.#remember(o.key, o.value);
      }
      for (const [b, list] of touched) {
        const encoded = this.#index.commitList(b, list);
        this.#cache(b, list);
        w.str(BucketIndex.listKey(b));
        if (encoded === undefined) w.u8(0);
        else w.u8(1).bytes(encoded);
      }
      request = this.#client.call(Op.write, w);
    } catch (e) {
      this.#break(e);
    }
    try {
      await request;
    } catch (e) {
      // the index already says the batch is written; if it was not, nothing can be believed
      this.#break(e);
    }
  }

  iterate(range: KvRange, from?: { after: string }): AsyncIterable<[string, Uint8Array]> {
    this.#check();
    const view = this.#openView();
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* self.#pass(view.id, view.digests, newPass(range, from));
        } finally {
          await view.release();
        }
      },
    };
  }

  #openView(): { id: number; digests: Uint8Array; release(): Promise<void> } {
    try {
      const id = this.#client.callSync(Op.view).u32();
      const digests = this.#index.digests.slice();
      const client = this.#client;
      return {
        id,
        digests,
        release: async () => {
          if (!client.lost) await client.call(Op.release, new Writer().u32(id)).catch(() => {});
        },
      };
    } catch (e) {
      this.#break(e);
    }
  }

  /**
   * A point-in-time view. Snapshot chunks are read from it in passes that resume where the last
   * chunk ended; each pass is checked in full at its end, before its last chunk goes out. A
   * resume is believed only where a pass stands, and only once: streams at the same spot must
   * have been served the same records (else the host lied), and a spot already resumed from or
   * whose pass was dropped is refused (that sender starts over), so no stream can finish on
   * another's check.
   */
  view(): KvView {
    this.#check();
    const view = this.#openView();
    const passes: Pass[] = [];
    const dropped = new Set<string>();
    const self = this;
    const resume = (range: KvRange, after: string): Pass => {
      const same = (p: Pass) => p.range.gte === range.gte && p.range.lt === range.lt;
      const here = passes.filter(
        (p) => same(p) && (p.committed === after || p.pending?.key === after),
      );
      if (here.length === 0 || dropped.has(after)) {
        throw new ClusterError(
          'CLUSTER_STORAGE',
          'a host view resumed where no pass stands; start over',
        );
      }
      for (const p of here) {
        if (p.pending?.key === after) commit(p);
        p.pending = null;
      }
      if (here.some((p) => !sameChains(p.chains, here[0]!.chains))) {
        self.#break(storageFault('one view served two streams different records'));
      }
      // this stream goes on with the pass; any other stream at this spot must start over
      for (const p of here) passes.splice(passes.indexOf(p), 1);
      dropped.add(after);
      return here[0]!;
    };
    return {
      iterate(range, from) {
        const pass = from === undefined ? newPass(range, undefined) : resume(range, from.after);
        passes.push(pass);
        if (passes.length > MAX_PASSES) {
          const old = passes.shift()!;
          if (old.committed !== null) dropped.add(old.committed);
          if (old.pending !== null) dropped.add(old.pending.key);
        }
        return {
          [Symbol.asyncIterator]: () =>
            self.#pass(view.id, view.digests, pass)[Symbol.asyncIterator](),
        };
      },
      close: () => view.release(),
    };
  }

  /** Records of a pass, checked as they come and, at the end of the range, in full. */
  async *#pass(
    view: number,
    digests: Uint8Array,
    pass: Pass,
  ): AsyncGenerator<[string, Uint8Array]> {
    // the last key this pass handed out: every next one must be above it
    let prev: string | null = pass.committed ?? (pass.startInclusive ? null : pass.start);
    for (;;) {
      this.#check();
      const w = new Writer()
        .u32(view)
        .u8(prev === null ? 0 : 1)
        .str(prev ?? pass.start)
        .str(pass.range.lt)
        .u32(this.#pageRecords)
        .u32(PAGE_BYTES);
      let records: [string, Uint8Array][];
      let done: boolean;
      try {
        const r = await this.#client.call(Op.iterate, w);
        records = [];
        for (let n = r.u32(); n > 0; n--) records.push([r.str(1024), r.bytes(64 << 20)]);
        done = r.bool();
        r.end();
      } catch (e) {
        this.#break(e);
      }
      for (const [key, value] of records) {
        if ((prev === null ? key < pass.start : key <= prev) || key >= pass.range.lt) {
          this.#break(storageFault(`iteration gave ${key} out of order or out of range`));
        }
        prev = key;
        commit(pass);
        pass.pending = { key, bucket: this.#index.bucketOf(key), hash: valueHash(value) };
        yield [key, value];
      }
      if (done) break;
      if (records.length === 0) this.#break(storageFault('an empty page that is not the last'));
    }
    commit(pass);
    await this.#verifyPass(view, digests, pass);
  }

  async #verifyPass(view: number, digests: Uint8Array, pass: Pass): Promise<void> {
    const buckets: number[] = [];
    for (let b = 0; b < this.#index.buckets; b++) {
      if (!BucketIndex.isEmpty(this.#index.digestOf(b, digests)) || pass.chains.has(b))
        buckets.push(b);
    }
    const stored = await this.#get(buckets.map(BucketIndex.listKey), view).catch((e) =>
      this.#break(e),
    );
    const inRange = (k: string) =>
      (pass.startInclusive ? k >= pass.start : k > pass.start) && k < pass.range.lt;
    try {
      buckets.forEach((b, i) => {
        let chain: Uint8Array | undefined;
        for (const [k, h] of this.#index.verifiedList(b, stored[i], digests)) {
          if (inRange(k)) chain = chainStep(chain, k, h);
        }
        const seen = pass.chains.get(b);
        if (
          (chain === undefined) !== (seen === undefined) ||
          (chain && seen && !sameBytes(chain, seen))
        ) {
          throw storageFault(`an iteration left out, added or changed records of bucket ${b}`);
        }
      });
    } catch (e) {
      this.#break(e);
    }
  }

  async clear(range: KvRange): Promise<void> {
    for (;;) {
      const keys: string[] = [];
      for await (const [key] of this.iterate(range)) {
        keys.push(key);
        if (keys.length >= 1_000) break;
      }
      if (keys.length === 0) return;
      await this.write(
        keys.map((key) => ({ key, value: null })),
        { sync: false },
      );
    }
  }

  async close(): Promise<void> {
    await this.#writing;
    if (this.#ownsClient) await this.#client.close();
  }
}

function newPass(range: KvRange, from: { after: string } | undefined): Pass {
  if (range.gte < INDEX_END && range.lt > INDEX_PREFIX) {
    throw new ClusterError('CLUSTER_STORAGE', 'a range over the reserved ~i/ keys');
  }
  return {
    range,
    start: from?.after ?? range.gte,
    startInclusive: from === undefined,
    chains: new Map(),
    committed: null,
    pending: null,
  };
}

function lruSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

function sameChains(a: Map<number, Uint8Array>, b: Map<number, Uint8Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !sameBytes(v, w)) return false;
  }
  return true;
}

/** The pending record was taken: it joins its bucket's chain. */
function commit(pass: Pass): void {
  const p = pass.pending;
  if (p === null) return;
  pass.chains.set(p.bucket, chainStep(pass.chains.get(p.bucket), p.key, p.hash));
  pass.committed = p.key;
  pass.pending = null;
}

function getPayload(keys: readonly string[], view: number): Writer {
  const w = new Writer().u32(view).u32(keys.length);
  for (const k of keys) w.str(k);
  return w;
}

function decodeValues(r: Reader, n: number): (Uint8Array | undefined)[] {
  if (r.u32() !== n) throw storageFault('a read answered a different number of keys');
  const out: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(r.bool() ? r.bytes(64 << 20) : undefined);
  r.end();
  return out;
}
