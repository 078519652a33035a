import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvWrite } from './kv.ts';
import { encodeChunk, RaftStorage } from './storage.ts';
import type { Entry } from './types.ts';

/** What the node shell does: the applied writes ride a synced batch with their index. */
async function commitApplied(s: RaftStorage, index: number, writes: KvWrite[]): Promise<void> {
  await s.save({ snapshot: null, entries: [], hardState: null }, [
    s.prepare({ index, writes }, null),
  ]);
}

async function readState(s: RaftStorage): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const [k, v] of s.state.iterate('')) out.set(k, new Uint8Array(v));
  return out;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-raft-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const e = (index: number, term: number, s = `e${index}`): Entry => ({
  index,
  term,
  type: 'normal',
  clientId: '',
  seq: 0,
  data: new TextEncoder().encode(s),
});

const conf = { voters: ['a', 'b', 'c'], learners: [] };

describe('RaftStorage on LevelDB', () => {
  it('recovers term, vote, log (after a conflict truncation), snapshot and applied state', async () => {
    const dir = await tempDir();
    let s = await RaftStorage.open(dir);
    await s.save({
      snapshot: null,
      entries: [1, 2, 3, 4, 5].map((i) => e(i, 1)),
      hardState: { term: 1, vote: 'a', commit: 2 },
    });
    // a new leader overwrites 4..5 with 4'; truncation and append land in one batch
    await s.save({
      snapshot: null,
      entries: [e(4, 2, 'x')],
      hardState: { term: 2, vote: 'b', commit: 3 },
    });
    // compaction: snapshot at 2 drops entries 1..2
    await s.save({
      snapshot: {
        snapshot: { meta: { index: 2, term: 1, conf } },
        install: false,
      },
      entries: [],
      hardState: null,
    });
    await commitApplied(s, 3, [{ key: 'k', value: Uint8Array.of(7) }]);
    await s.close();

    s = await RaftStorage.open(dir);
    const st = await s.load();
    expect(st.hardState).toEqual({ term: 2, vote: 'b', commit: 3 });
    expect(st.snapshot).toEqual({ meta: { index: 2, term: 1, conf } });
    expect(st.entries.map((x) => [x.index, x.term])).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(st.applied).toBe(3);
    expect(await readState(s)).toEqual(new Map([['k', Uint8Array.of(7)]]));
    await s.close();
  });

  it('installing a snapshot switches to the staged records and replaces the log, in one batch', async () => {
    const dir = await tempDir();
    let s = await RaftStorage.open(dir);
    await s.load();
    await s.save({
      snapshot: null,
      entries: [1, 2, 3].map((i) => e(i, 1)),
      hardState: { term: 1, vote: '', commit: 3 },
    });
    await commitApplied(s, 3, [{ key: 'old', value: Uint8Array.of(1) }]);
    await s.stageChunk(0, encodeChunk([['a', Uint8Array.of(2)]]));
    await s.stageChunk(1, encodeChunk([['b', Uint8Array.of(3)]]));
    // staged records are not the state until the install
    expect([...(await readState(s)).keys()]).toEqual(['old']);
    const meta = { index: 10, term: 3, conf: { voters: ['a'], learners: [] } };
    await s.save({
      snapshot: { snapshot: { meta }, install: true },
      entries: [],
      hardState: { term: 3, vote: '', commit: 10 },
    });
    expect([...(await readState(s)).keys()]).toEqual(['a', 'b']);
    expect(s.state.get('old')).toBeUndefined();
    await s.close();
    s = await RaftStorage.open(dir);
    const st = await s.load();
    expect(st.entries).toEqual([]);
    expect(st.snapshot!.meta).toEqual(meta);
    expect(st.applied).toBe(10);
    expect([...(await readState(s)).keys()]).toEqual(['a', 'b']);
    // later appends continue after the snapshot
    await s.save({ snapshot: null, entries: [e(11, 3)], hardState: null });
    expect((await s.load()).entries.map((x) => x.index)).toEqual([11]);
    await s.close();
  });

  it('a snapshot streams from a point-in-time view in bounded chunks, whatever is written after', async () => {
    const leader = await RaftStorage.open(await tempDir());
    await leader.load();
    const records = Array.from({ length: 500 }, (_, i) => ({
      key: `r/${String(i).padStart(4, '0')}`,
      value: new Uint8Array(100).fill(i % 251),
    }));
    await commitApplied(leader, 7, records);
    const source = leader.snapshotSource(7);
    // written after the view was taken: not in the snapshot
    await commitApplied(leader, 8, [
      { key: 'r/0000', value: null },
      { key: 'z', value: Uint8Array.of(1) },
    ]);
    const follower = await RaftStorage.open(await tempDir());
    await follower.load();
    let seq = 0;
    let largest = 0;
    for (;;) {
      const { chunk, last } = await source.chunk(seq, 2048);
      largest = Math.max(largest, chunk.length);
      await follower.stageChunk(seq, chunk);
      seq += 1;
      if (last) break;
    }
    // chunk 3 asked again (a lost message) reads the same bytes
    const again = await source.chunk(3, 2048);
    await source.close();
    expect(seq).toBeGreaterThan(20);
    expect(largest).toBeLessThan(2048 + 200);
    expect(again.last).toBe(false);
    await follower.save({
      snapshot: { snapshot: { meta: { index: 7, term: 1, conf } }, install: true },
      entries: [],
      hardState: null,
    });
    const got = await readState(follower);
    expect(got.size).toBe(500);
    expect(got.get('r/0000')).toEqual(records[0]!.value);
    expect(got.has('z')).toBe(false);
    await leader.close();
    await follower.close();
  });
});

describe('RaftStorage log segments (one stored value per saved batch)', () => {
  it('appends, conflict truncations and compactions read back as the log they wrote', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        back: fc.nat(6),
        n: fc.integer({ min: 1, max: 5 }),
      }),
      fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        const dir = await tempDir();
        let s = await RaftStorage.open(dir);
        await s.load();
        let model: Entry[] = [];
        let snap = 0;
        let term = 1;
        let batches = 0;
        for (const o of ops) {
          const last = model.at(-1)?.index ?? snap;
          if (o.kind === 'append') {
            // a new leader overwrites from `from` on (never below the snapshot)
            const from = Math.max(snap + 1, last + 1 - o.back);
            term += 1;
            const fresh = Array.from({ length: o.n }, (_, i) => e(from + i, term, `t${term}`));
            model = model.filter((x) => x.index < from).concat(fresh);
            await s.save({ snapshot: null, entries: fresh, hardState: null });
            batches += 1;
          } else {
            const at = Math.max(snap, last - o.back);
            if (at <= snap) continue;
            const meta = { index: at, term: model.find((x) => x.index === at)!.term, conf };
            await s.save({
              snapshot: { snapshot: { meta }, install: false },
              entries: [],
              hardState: null,
            });
            snap = at;
            model = model.filter((x) => x.index > at);
          }
        }
        await s.close();
        const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
        let stored = 0;
        for await (const key of raw.keys({ gte: 'r/e/', lt: 'r/e/~' })) stored += key ? 1 : 0;
        await raw.close();
        expect(stored).toBeLessThanOrEqual(batches);
        s = await RaftStorage.open(dir);
        const st = await s.load();
        expect(st.entries).toEqual(model);
        // and it keeps working after a reload: one more batch on top
        const next = e((model.at(-1)?.index ?? snap) + 1, term + 1);
        await s.save({ snapshot: null, entries: [next], hardState: null });
        expect((await s.load()).entries).toEqual([...model, next]);
        await s.close();
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('RaftStorage with a value cipher', () => {
  const cipherWith = (key: Uint8Array) => ({
    seal(name: string, plain: Uint8Array) {
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const box = xchacha20poly1305(key, nonce, new TextEncoder().encode(name)).encrypt(plain);
      return new Uint8Array([...nonce, ...box]);
    },
    open(name: string, sealed: Uint8Array) {
      const aad = new TextEncoder().encode(name);
      return xchacha20poly1305(key, sealed.subarray(0, 24), aad).decrypt(sealed.subarray(24));
    },
  });

  it('keeps every value sealed on disk and refuses a wrong key', async () => {
    const dir = await tempDir();
    const key = crypto.getRandomValues(new Uint8Array(32));
    let s = await RaftStorage.open(dir, cipherWith(key));
    await s.save({
      hardState: { term: 3, vote: 'b', commit: 1 },
      entries: [e(1, 1, 'secret-entry-text')],
      snapshot: null,
    });
    await commitApplied(s, 1, [{ key: 'k', value: new TextEncoder().encode('secret-state-text') }]);
    await s.close();
    const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
    for await (const [, v] of raw.iterator()) {
      const text = Buffer.from(v).toString('latin1');
      expect(text).not.toContain('secret-entry-text');
      expect(text).not.toContain('secret-state-text');
    }
    await raw.close();
    s = await RaftStorage.open(dir, cipherWith(key));
    const loaded = await s.load();
    expect(loaded.hardState).toEqual({ term: 3, vote: 'b', commit: 1 });
    expect(new TextDecoder().decode(loaded.entries[0]!.data)).toBe('secret-entry-text');
    expect(new TextDecoder().decode((await readState(s)).get('k'))).toBe('secret-state-text');
    await s.close();
    s = await RaftStorage.open(dir, cipherWith(new Uint8Array(32)));
    await expect(s.load()).rejects.toMatchObject({ code: 'CLUSTER_STORAGE' });
    await s.close();
  });
});
