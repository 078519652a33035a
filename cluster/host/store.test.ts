/**
 * The node's store kept by a host agent: real LevelDB, real Unix sockets, the socket thread and
 * its synchronous reads. Through a host gone bad (faulty-host.test-support.ts) every stale,
 * dropped, reordered or thinned answer and a host dying mid-batch is detected: the store
 * refuses to go on (CLUSTER_STORAGE) instead of handing the node a state it did not write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError } from '../errors.ts';
import { prefixRange } from '../kv.ts';
import { RaftStorage } from '../storage.ts';
import { HostClient } from './client.ts';
import { type Faults, type FaultyHostProcess, forkFaultyHost } from './faulty-host.test-support.ts';
import { listHostStores } from './meta.ts';
import { HostKvStore, type HostStoreOptions } from './store.ts';

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);
const text = (v: Uint8Array | undefined) =>
  v === undefined ? undefined : new TextDecoder().decode(v);

let dir: string;
let host: FaultyHostProcess;
const clients: HostClient[] = [];
let namespaces = 0;
const honest: Faults = {
  staleReads: false,
  dropWrites: false,
  reorderPages: false,
  thinPages: false,
  dieOnNextWrite: false,
};
const faults = (f: Partial<Faults>) => host.setFaults(f);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-host-'));
  host = await forkFaultyHost(join(dir, 'data'), join(dir, 'host.sock'), join(dir, 'faulty.sock'));
});

afterEach(() => faults(honest));

afterAll(async () => {
  for (const c of clients) await c.close();
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(o: HostStoreOptions = {}, via: 'faulty' | 'direct' = 'faulty') {
  const client = await HostClient.connect({
    kind: 'unix',
    path: join(dir, via === 'faulty' ? 'faulty.sock' : 'host.sock'),
  });
  clients.push(client);
  const ns = `node-1/raft-${++namespaces}`;
  // through the faulty host, reads must reach it: no values kept in memory
  const cache = via === 'faulty' ? { cachedValues: 0 } : {};
  return { store: await HostKvStore.open(client, ns, { buckets: 16, ...cache, ...o }), ns };
}

async function storageError(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    if (e instanceof ClusterError) return e.code;
    throw e;
  }
  return 'ACCEPTED';
}

async function all(it: AsyncIterable<[string, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of it) out.push(`${k}=${text(v)}`);
  return out;
}

describe('HostKvStore on an honest host agent', () => {
  it('reads, writes, iterates, views and clears like a local LevelDB', async () => {
    const { store } = await openStore({ pageRecords: 3 }, 'direct');
    expect(store.get('a')).toBeUndefined();
    const keys = Array.from({ length: 40 }, (_, i) => `s0/k${String(i).padStart(2, '0')}`);
    await store.write(
      keys.map((k, i) => ({ key: k, value: b(`v${i}`) })),
      { sync: true },
    );
    await store.write([{ key: 'r/hs', value: b('hard') }], { sync: true });
    expect(text(store.get('s0/k07'))).toBe('v7');
    expect(text(store.get('r/hs'))).toBe('hard');
    expect(store.get('s0/zz')).toBeUndefined();
    const view = store.view();
    await store.write(
      [
        { key: 's0/k00', value: null },
        { key: 's0/k01', value: b('new') },
      ],
      { sync: false },
    );
    expect(store.get('s0/k00')).toBeUndefined();
    expect(text(store.get('s0/k01'))).toBe('new');
    // the view still shows the store as it was, in order, checked in full at its end
    const seen = await all(view.iterate(prefixRange('s0/')));
    expect(seen).toHaveLength(40);
    expect(seen[0]).toBe('s0/k00=v0');
    // resumed where a pass stopped, as snapshot chunks are
    const firstFive: string[] = [];
    for await (const [k] of view.iterate(prefixRange('s0/'))) {
      if (firstFive.length === 5) break;
      firstFive.push(k);
    }
    const rest = await all(view.iterate(prefixRange('s0/'), { after: firstFive[4]! }));
    expect(rest).toHaveLength(35);
    await view.close();
    expect(await all(store.iterate(prefixRange('s0/'), { after: 's0/k37' }))).toEqual([
      's0/k38=v38',
      's0/k39=v39',
    ]);
    await store.clear(prefixRange('s0/'));
    expect(await all(store.iterate(prefixRange('s0/')))).toEqual([]);
    expect(text(store.get('r/hs'))).toBe('hard');
    await store.close();
  });

  it('a view resumes a pass once: a second stream at the same spot starts over', async () => {
    const { store } = await openStore({}, 'direct');
    const keys = Array.from({ length: 10 }, (_, i) => ({ key: `s0/${i}`, value: b(`${i}`) }));
    await store.write(keys, { sync: true });
    const view = store.view();
    const take = async (from?: { after: string }) => {
      const out: string[] = [];
      for await (const [k] of view.iterate(prefixRange('s0/'), from)) {
        if (out.length === 3) break;
        out.push(k);
      }
      return out;
    };
    const first = await take();
    expect(await take()).toEqual(first); // a second stream, served the same records
    expect(await take({ after: first[2]! })).toEqual(['s0/3', 's0/4', 's0/5']);
    expect(await storageError(() => take({ after: first[2]! }))).toBe('CLUSTER_STORAGE');
    expect(await storageError(() => take({ after: 's0/7' }))).toBe('CLUSTER_STORAGE');
    // refusing a resume is not a lie of the host: the store goes on
    expect(text(store.get('s0/9'))).toBe('9');
    await view.close();
  });

  it('carries Raft storage: a snapshot streamed in chunks from a view, staged and installed', async () => {
    const { store } = await openStore({}, 'direct');
    const storage = RaftStorage.on(store);
    await storage.load();
    const entries = Array.from({ length: 5 }, (_, i) => ({
      index: i + 1,
      term: 1,
      type: 'normal' as const,
      data: b(`e${i}`),
      clientId: '',
      seq: 0,
    }));
    await storage.save({ snapshot: null, entries, hardState: { term: 1, vote: 'a', commit: 5 } }, [
      storage.prepare(
        {
          index: 5,
          writes: Array.from({ length: 30 }, (_, i) => ({ key: `w/${i}`, value: b(`x${i}`) })),
        },
        null,
      ),
    ]);
    expect(text(storage.state.get('w/3'))).toBe('x3');
    const source = storage.snapshotSource(5);
    const chunks: Uint8Array[] = [];
    for (let seq = 0; ; seq++) {
      const { chunk, last } = await source.chunk(seq, 64);
      chunks.push(chunk);
      if (last) break;
    }
    expect(chunks.length).toBeGreaterThan(3);
    await source.close();
  });
});

describe('HostKvStore through a host that lies', () => {
  it('a stale read (an older value of the key) is detected and the store stops', async () => {
    const { store } = await openStore();
    await store.write([{ key: 'v/t/acme', value: b('ping@1') }], { sync: true });
    expect(text(store.get('v/t/acme'))).toBe('ping@1');
    await store.write([{ key: 'v/t/acme', value: b('ping@9') }], { sync: true });
    await faults({ staleReads: true });
    expect(await storageError(() => store.get('v/t/acme'))).toBe('CLUSTER_STORAGE');
    await faults({ staleReads: false });
    expect(await storageError(() => store.get('v/t/acme'))).toBe('CLUSTER_STORAGE');
    expect(await storageError(() => store.write([], { sync: true }))).toBe('CLUSTER_STORAGE');
  });

  it('a stale bucket list (no cache: the list itself comes from the host) is detected', async () => {
    const { store } = await openStore({ cachedLists: 0 });
    await store.write([{ key: 'v/c/1', value: b('live') }], { sync: true });
    expect(text(store.get('v/c/1'))).toBe('live');
    await store.write([{ key: 'v/c/1', value: b('cancelled') }], { sync: true });
    await faults({ staleReads: true });
    expect(await storageError(() => store.get('v/c/1'))).toBe('CLUSTER_STORAGE');
  });

  it('a dropped write (acknowledged, never stored) is detected at the next read', async () => {
    for (const cachedLists of [0, 4096]) {
      const { store } = await openStore({ cachedLists });
      await store.write([{ key: 'v/w/1', value: b('deposit') }], { sync: true });
      await faults({ dropWrites: true });
      await store.write([{ key: 'v/w/1', value: b('claimed') }], { sync: true });
      await faults({ dropWrites: false });
      expect(await storageError(() => store.get('v/w/1'))).toBe('CLUSTER_STORAGE');
    }
  });

  it('a dropped deletion: the record the node deleted is never believed again', async () => {
    const { store } = await openStore({ cachedLists: 0 });
    await store.write(
      [
        { key: 'v/c/2', value: b('claim') },
        { key: 'v/c/3', value: b('other') },
      ],
      { sync: true },
    );
    await faults({ dropWrites: true });
    await store.write([{ key: 'v/c/2', value: null }], { sync: true });
    await faults({ dropWrites: false });
    // the index says it is gone: read as absent without asking, or refused; never the old claim
    let read: string | undefined;
    try {
      read = text(store.get('v/c/2'));
    } catch (e) {
      read = (e as ClusterError).code;
    }
    expect(read === undefined || read === 'CLUSTER_STORAGE').toBe(true);
    expect(await storageError(() => all(store.iterate(prefixRange('v/c/'))))).toBe(
      'CLUSTER_STORAGE',
    );
  });

  it('a reordered iteration page is detected', async () => {
    const { store } = await openStore();
    await store.write(
      Array.from({ length: 10 }, (_, i) => ({ key: `s0/${i}`, value: b(`${i}`) })),
      { sync: true },
    );
    await faults({ reorderPages: true });
    expect(await storageError(() => all(store.iterate(prefixRange('s0/'))))).toBe(
      'CLUSTER_STORAGE',
    );
  });

  it('an iteration that leaves records out is detected at its end, before a last snapshot chunk', async () => {
    const { store } = await openStore({ pageRecords: 4 });
    const storage = RaftStorage.on(store);
    await storage.load();
    await storage.save(
      { snapshot: null, entries: [], hardState: { term: 1, vote: '', commit: 0 } },
      [
        storage.prepare(
          {
            index: 1,
            writes: Array.from({ length: 12 }, (_, i) => ({ key: `w/${i}`, value: b(`${i}`) })),
          },
          null,
        ),
      ],
    );
    await faults({ thinPages: true });
    const source = storage.snapshotSource(1);
    const outcome = await storageError(async () => {
      for (let seq = 0; ; seq++) if ((await source.chunk(seq, 1 << 20)).last) return;
    });
    expect(outcome).toBe('CLUSTER_STORAGE');
  });

  it('a host that dies in the middle of a batch: the write fails and the store never answers again', async () => {
    const { store } = await openStore();
    await store.write([{ key: 'a', value: b('1') }], { sync: true });
    await faults({ dieOnNextWrite: true });
    expect(
      await storageError(() => store.write([{ key: 'a', value: b('2') }], { sync: true })),
    ).toBe('CLUSTER_STORAGE');
    expect(await storageError(() => store.get('a'))).toBe('CLUSTER_STORAGE');
  });

  it("records left in a reused namespace (an older identity's store) are never believed", async () => {
    const first = await openStore({}, 'direct');
    await first.store.write(
      Array.from({ length: 8 }, (_, i) => ({ key: `s0/${i}`, value: b('old') })),
      { sync: true },
    );
    const client = await HostClient.connect({ kind: 'unix', path: join(dir, 'host.sock') });
    clients.push(client);
    const again = await HostKvStore.open(client, first.ns, { buckets: 16 });
    expect(again.get('s0/1')).toBeUndefined();
    expect(await storageError(() => all(again.iterate(prefixRange('s0/'))))).toBe(
      'CLUSTER_STORAGE',
    );
  });

  it("an earlier process's store is adopted: read back whole, and checked from then on", async () => {
    const first = await openStore({ pageRecords: 3 }, 'direct');
    const records = Array.from({ length: 40 }, (_, i) => ({ key: `s0/${i}`, value: b(`v${i}`) }));
    await first.store.write(records, { sync: true });
    await first.store.write([{ key: 's0/7', value: null }], { sync: true });
    // a new process (the recovering node): it never wrote this store, it adopts it
    const address = { kind: 'unix' as const, path: join(dir, 'faulty.sock') };
    const adopted = await HostKvStore.connect(address, first.ns, 'adopt', {
      buckets: 16,
      cachedValues: 0,
    });
    expect(text(adopted.get('s0/3'))).toBe('v3');
    expect(adopted.get('s0/7')).toBeUndefined();
    expect(await all(adopted.iterate(prefixRange('s0/')))).toHaveLength(39);
    // from now on the host must keep answering what it held when adopted
    await faults({ onlyNamespace: first.ns, dropWrites: true });
    await adopted.write([{ key: 's0/3', value: b('changed') }], { sync: true });
    await faults({ dropWrites: false });
    expect(await storageError(() => adopted.get('s0/3'))).toBe('CLUSTER_STORAGE');
    await adopted.close();
  });

  it("adopting refuses index lists that cannot be this store's", async () => {
    // a store written with 16 buckets, adopted as if it had 4: its lists name buckets beyond 4
    const first = await openStore({}, 'direct');
    await first.store.write(
      Array.from({ length: 40 }, (_, i) => ({ key: `k/${i}`, value: b('x') })),
      { sync: true },
    );
    const address = { kind: 'unix' as const, path: join(dir, 'host.sock') };
    expect(
      await storageError(() => HostKvStore.connect(address, first.ns, 'adopt', { buckets: 4 })),
    ).toBe('CLUSTER_STORAGE');
  });

  it('lists the stores under a namespace, and only stores', async () => {
    const address = { kind: 'unix' as const, path: join(dir, 'host.sock') };
    const { ns } = await openStore({}, 'direct');
    const names = await listHostStores(address, 'node-1');
    expect(names).toContain(ns.slice('node-1/'.length));
    expect(names).toEqual([...names].sort());
    expect(await listHostStores(address, 'node-9')).toEqual([]);
    await expect(listHostStores(address, '../etc')).rejects.toThrow(/namespace/);
  });
});
