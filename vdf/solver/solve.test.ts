import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VdfError } from '../errors.ts';
import { nativeStatus } from '../rsa2048/native.ts';
import { verifyProof } from '../verify.ts';
import { diskCheckpoints, memoryCheckpoints, readRange } from './checkpoints.ts';
import { type SolveProgress, solve } from './solve.ts';
import { tempDirs } from './temp-dirs.test-support.ts';

const tempDir = tempDirs('vigil-vdf-');
const seed = new Uint8Array([4, 5, 6]);

describe('solver', () => {
  it('reports progress with rate and ETA, then the proof phase', async () => {
    const events: SolveProgress[] = [];
    const r = await solve({
      group: 'rsa2048',
      seed,
      iterations: 60_000,
      onProgress: (p) => events.push(p),
    });
    expect(verifyProof(r)).toEqual({ valid: true });
    const evals = events.filter((e) => e.phase === 'evaluate');
    expect(evals.at(-1)).toMatchObject({ done: 60_000, total: 60_000, etaSeconds: 0 });
    expect(evals.at(-1)!.rate).toBeGreaterThan(0);
    expect(events.at(-1)!.phase).toBe('prove');
  });

  it('cancels with VDF_ABORTED, keeps checkpoints, and resumes to the same result', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const started = solve({
      group: 'rsa2048',
      seed,
      iterations: 400_000,
      checkpointDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done > 100_000) controller.abort();
      },
    });
    await expect(started).rejects.toMatchObject({ code: 'VDF_ABORTED' });
    expect(readdirSync(dir).some((n) => n.startsWith('seg-'))).toBe(true);
    let first = -1;
    const resumed = await solve({
      group: 'rsa2048',
      seed,
      iterations: 400_000,
      checkpointDir: dir,
      onProgress: (p) => {
        if (first < 0) first = p.done;
      },
    });
    expect(first).toBeGreaterThan(100_000);
    const straight = await solve({ group: 'rsa2048', seed, iterations: 400_000 });
    expect(resumed).toEqual(straight);
    // A finished directory answers from disk.
    expect(
      await solve({ group: 'rsa2048', seed, iterations: 400_000, checkpointDir: dir }),
    ).toEqual(straight);
  });

  it('refuses a checkpoint directory of another job and bad bounds before work', async () => {
    const dir = tempDir();
    await solve({ group: 'rsa2048', seed, iterations: 10, checkpointDir: dir });
    await expect(
      solve({ group: 'rsa2048', seed, iterations: 11, checkpointDir: dir }),
    ).rejects.toMatchObject({
      code: 'VDF_CHECKPOINT',
    });
    await expect(solve({ group: 'rsa2048', seed, iterations: 0 })).rejects.toBeInstanceOf(VdfError);
    await expect(solve({ group: 'rsa2048', seed, iterations: 2 ** 53 })).rejects.toMatchObject({
      code: 'VDF_OUT_OF_RANGE',
    });
    await expect(
      solve({ group: 'rsa2048', seed: new Uint8Array(), iterations: 5 }),
    ).rejects.toMatchObject({
      code: 'VDF_MALFORMED',
    });
  });

  it('splits the proof over worker threads with the same result', async () => {
    const dir = tempDir();
    const a = await solve({
      group: 'rsa2048',
      seed,
      iterations: 20_000,
      checkpointDir: dir,
      workers: 2,
    });
    const b = await solve({ group: 'rsa2048', seed, iterations: 20_000, workers: 'never' });
    expect(a.proof).toEqual(b.proof);
  }, 30_000);
});

const native = nativeStatus();
if (!native.available)
  console.warn(`[solver] skipping the native class1024 runs: ${native.reason}`);

describe.skipIf(!native.available)('solver, class1024 on the native chain', () => {
  const classSeed = new Uint8Array([7, 8, 9]);

  it("gives the TypeScript path's output and proof, which verify", async () => {
    const viaNative = await solve({ group: 'class1024', seed: classSeed, iterations: 3000 });
    const viaTs = await solve({
      group: 'class1024',
      seed: classSeed,
      iterations: 3000,
      native: false,
    });
    expect(viaNative).toEqual(viaTs);
    expect(verifyProof(viaNative)).toEqual({ valid: true });
  }, 60_000);

  it('splits the proof over worker threads (native operations there too) with the same result', async () => {
    const a = await solve({
      group: 'class1024',
      seed: classSeed,
      iterations: 3000,
      checkpointDir: tempDir(),
      workers: 2,
    });
    const b = await solve({
      group: 'class1024',
      seed: classSeed,
      iterations: 3000,
      workers: 'never',
      native: false,
    });
    expect(a).toEqual(b);
  }, 60_000);

  it('cancels with VDF_ABORTED, keeps checkpoints, and resumes to the same result', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const T = 40_000;
    const started = solve({
      group: 'class1024',
      seed: classSeed,
      iterations: T,
      checkpointDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'evaluate' && p.done > 4000) controller.abort();
      },
    });
    await expect(started).rejects.toMatchObject({ code: 'VDF_ABORTED' });
    expect(readdirSync(dir).some((n) => n.startsWith('seg-'))).toBe(true);
    let first = -1;
    const resumed = await solve({
      group: 'class1024',
      seed: classSeed,
      iterations: T,
      checkpointDir: dir,
      onProgress: (p) => {
        if (first < 0) first = p.done;
      },
    });
    expect(first).toBeGreaterThan(4000);
    expect(first).toBeLessThan(T);
    const straight = await solve({ group: 'class1024', seed: classSeed, iterations: T });
    expect(resumed).toEqual(straight);
    expect(verifyProof(straight)).toEqual({ valid: true });
  }, 120_000);
});

describe('checkpoint store refresh (a proof worker opens the directory during the evaluation)', () => {
  const job = { group: 'rsa2048' as const, seed, iterations: 1000, interval: 10, elementBytes: 4 };
  const element = (i: number) => new Uint8Array([0, 0, i >> 8, i & 255]);

  it('picks up the segments written since it opened, and verifies them', () => {
    const dir = tempDir();
    const writer = diskCheckpoints(dir, job);
    for (let i = 0; i < 5; i++) writer.append(element(i));
    writer.flush();
    const reader = diskCheckpoints(dir, job);
    expect(reader.count).toBe(5);
    for (let i = 5; i < 9; i++) writer.append(element(i));
    writer.flush();
    expect(reader.count).toBe(5);
    reader.refresh();
    expect(reader.count).toBe(9);
    expect([...reader.read()].map((e) => e[3])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);

    // A later segment that fails its seal is refused on refresh, like on open.
    writer.append(element(9));
    writer.flush();
    const name = readdirSync(dir)
      .filter((n) => n.startsWith('seg-'))
      .sort()
      .at(-1)!;
    const bytes = readFileSync(join(dir, name));
    bytes[0]! ^= 1;
    writeFileSync(join(dir, name), bytes);
    expect(() => reader.refresh()).toThrow(/fails its checksum/);
  });

  it("reads from an index, across segment files and unsaved checkpoints (a split's second part)", () => {
    const dir = tempDir();
    const store = diskCheckpoints(dir, { ...job, iterations: 2000 });
    const memory = memoryCheckpoints();
    for (let i = 0; i < 7; i++) {
      store.append(element(i));
      memory.append(element(i));
      if (i === 2 || i === 4) store.flush();
    }
    for (const s of [store, memory])
      for (const from of [0, 2, 3, 4, 5, 6, 7]) {
        const want = [0, 1, 2, 3, 4, 5, 6].slice(from);
        expect([...s.read(from)].map((e) => e[3])).toEqual(want);
        expect([...readRange(s, from, 3, 4)].filter((_, i) => i % 4 === 3)).toEqual(
          want.slice(0, 3),
        );
      }
  });
});
