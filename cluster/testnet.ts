import { Raft, type RaftConfig } from './raft.ts';
import type { Entry, HardState, Message, NodeId, Ready, Snapshot } from './types.ts';

/** The leader's shell fills a snapshot chunk from the state it kept at that index. */
function fillChunk(m: Message, store: MemStore, chunkBytes: number): Message {
  if (m.type !== 'snapshot') return m;
  const state = store.states.get(m.meta.index);
  if (state === undefined) throw new Error(`no state kept at ${m.meta.index} to stream`);
  const from = m.seq * chunkBytes;
  const chunk = state.subarray(from, from + chunkBytes);
  return { ...m, chunk, last: from + chunkBytes >= state.length };
}

/** A seeded PRNG (mulberry32): deterministic randomness for tests and the simulator. */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * n);
  };
}

/**
 * What a node has made durable: the in-memory twin of cluster/storage.ts. `states` holds the
 * applied state at each compaction index (what the shell streams); `installed` is the state a
 * follower assembled from streamed chunks.
 */
export class MemStore {
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  applied = 0;
  states = new Map<number, Uint8Array>();
  staging: Uint8Array[] = [];
  installed: Uint8Array | null = null;

  save(rd: Ready): void {
    for (const c of rd.snapshotChunks) {
      if (c.seq === 0) this.staging = [];
      this.staging.push(c.chunk);
    }
    if (rd.snapshot?.install) {
      this.installed = Buffer.concat(this.staging);
      this.states.set(rd.snapshot.snapshot.meta.index, this.installed);
      this.staging = [];
    }
    if (rd.snapshot !== null) {
      this.snapshot = rd.snapshot.snapshot;
      const idx = this.snapshot.meta.index;
      this.entries = rd.snapshot.install ? [] : this.entries.filter((e) => e.index > idx);
    }
    const first = rd.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.filter((e) => e.index < first.index).concat(rd.entries);
    }
    if (rd.hardState !== null) this.hardState = rd.hardState;
  }
}

/**
 * A tiny synchronous network of cores for unit tests: messages are queued, `deliver` drains them
 * (optionally dropping some), each node persists and applies every Ready immediately.
 */
export class TestNet {
  readonly nodes = new Map<NodeId, Raft>();
  readonly stores = new Map<NodeId, MemStore>();
  readonly applied = new Map<NodeId, Entry[]>();
  queue: Message[] = [];
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /** Each node's admission hook (`RaftInit.admit`), read at every call. */
  admit: (id: NodeId, e: Entry) => boolean = () => true;
  private readonly config: Partial<RaftConfig>;
  private readonly seed: number;

  constructor(ids: NodeId[], config: Partial<RaftConfig> = {}, seed = 1) {
    this.config = config;
    this.seed = seed;
    for (const id of ids) this.add(id, { voters: ids, learners: [] });
  }

  add(id: NodeId, bootstrap: { voters: NodeId[]; learners: NodeId[] }): Raft {
    const store = this.stores.get(id) ?? new MemStore();
    this.stores.set(id, store);
    const raft = new Raft({
      id,
      config: this.config,
      random: seededRandom(this.seed * 1000 + this.nodes.size),
      hardState: store.hardState,
      snapshot: store.snapshot,
      entries: [...store.entries],
      applied: store.applied,
      bootstrap,
      admit: (e) => this.admit(id, e),
    });
    this.nodes.set(id, raft);
    if (!this.applied.has(id)) this.applied.set(id, []);
    this.process(id);
    return raft;
  }

  /** Simulate a crash and restart from the durable store. */
  restart(id: NodeId): Raft {
    this.nodes.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    return this.add(id, { voters: [], learners: [] });
  }

  node(id: NodeId): Raft {
    return this.nodes.get(id)!;
  }

  process(id: NodeId): void {
    const r = this.nodes.get(id);
    if (r === undefined) return;
    while (r.hasReady()) {
      const rd = r.ready();
      const store = this.stores.get(id)!;
      store.save(rd);
      if (rd.snapshot?.install) this.applied.set(id, []);
      for (const m of rd.messages)
        this.queue.push(fillChunk(m, store, r.config.snapshotChunkBytes));
      for (const e of rd.committed) this.applied.get(id)!.push(e);
      if (rd.committed.length > 0) store.applied = rd.committed.at(-1)!.index;
      r.advance(rd);
    }
  }

  /** The shell's compaction: the applied state at `index` is kept to stream to followers. */
  compact(id: NodeId, index: number, state: Uint8Array): void {
    this.stores.get(id)!.states.set(index, state);
    this.node(id).compact(index);
    this.process(id);
  }

  processAll(): void {
    for (const id of this.nodes.keys()) this.process(id);
  }

  /** Deliver queued messages until quiet (bounded). */
  deliver(maxRounds = 1000): void {
    this.processAll();
    for (let i = 0; i < maxRounds && this.queue.length > 0; i++) {
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        const to = this.nodes.get(m.to);
        if (to === undefined || !this.filter(m)) continue;
        to.step(m);
        this.process(m.to);
      }
    }
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.process(id);
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const id of this.nodes.keys()) this.tick(id);
      this.deliver();
    }
  }

  elect(id: NodeId): void {
    this.node(id).campaignNow();
    this.deliver();
  }

  leader(): Raft | undefined {
    return [...this.nodes.values()].find((r) => r.role === 'leader');
  }

  propose(data: string): { index: number; term: number } {
    const r = this.leader()!.propose({ data: new TextEncoder().encode(data) });
    this.deliver();
    return r;
  }

  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === 'normal')
      .map((e) => new TextDecoder().decode(e.data));
  }
}
