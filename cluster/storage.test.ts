import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorage } from './storage.ts';
import type { Entry } from './types.ts';

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
    const conf = { voters: ['a', 'b', 'c'], learners: [] };
    await s.save({
      snapshot: {
        snapshot: { meta: { index: 2, term: 1, conf }, data: Uint8Array.of(42) },
        install: false,
      },
      entries: [],
      hardState: null,
    });
    await s.commitApplied(3, [{ key: 'k', value: Uint8Array.of(7) }]);
    await s.close();

    s = await RaftStorage.open(dir);
    const st = await s.load();
    expect(st.hardState).toEqual({ term: 2, vote: 'b', commit: 3 });
    expect(st.snapshot).toEqual({ meta: { index: 2, term: 1, conf }, data: Uint8Array.of(42) });
    expect(st.entries.map((x) => [x.index, x.term])).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(st.applied).toBe(3);
    expect(await s.readState()).toEqual(new Map([['k', Uint8Array.of(7)]]));
    await s.close();
  });

  it('installing a snapshot replaces the log and, with replaceState, the applied state', async () => {
    const dir = await tempDir();
    const s = await RaftStorage.open(dir);
    await s.save({
      snapshot: null,
      entries: [1, 2, 3].map((i) => e(i, 1)),
      hardState: { term: 1, vote: '', commit: 3 },
    });
    await s.commitApplied(3, [{ key: 'old', value: Uint8Array.of(1) }]);
    const meta = { index: 10, term: 3, conf: { voters: ['a'], learners: [] } };
    await s.save({
      snapshot: { snapshot: { meta, data: Uint8Array.of(5) }, install: true },
      entries: [],
      hardState: { term: 3, vote: '', commit: 10 },
    });
    await s.commitApplied(10, [{ key: 'new', value: Uint8Array.of(2) }], true);
    const st = await s.load();
    expect(st.entries).toEqual([]);
    expect(st.snapshot!.meta).toEqual(meta);
    expect(st.applied).toBe(10);
    expect([...(await s.readState()).keys()]).toEqual(['new']);
    // later appends continue after the snapshot
    await s.save({ snapshot: null, entries: [e(11, 3)], hardState: null });
    expect((await s.load()).entries.map((x) => x.index)).toEqual([11]);
    await s.close();
  });
});
