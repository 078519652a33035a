import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Level } from 'level';
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
    await s.commitApplied(1, [{ key: 'k', value: new TextEncoder().encode('secret-state-text') }]);
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
    expect(new TextDecoder().decode((await s.readState()).get('k'))).toBe('secret-state-text');
    await s.close();
    s = await RaftStorage.open(dir, cipherWith(new Uint8Array(32)));
    await expect(s.load()).rejects.toMatchObject({ code: 'CLUSTER_STORAGE' });
    await s.close();
  });
});
