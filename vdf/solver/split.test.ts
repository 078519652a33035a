import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { B_BYTES, SEGMENT_BYTES, verifyClass1024 } from '../class1024/verify.ts';
import { nativeStatus } from '../rsa2048/native.ts';
import { verifyProof } from '../verify.ts';
import { autoSegmentAt, SEGMENT_MIN_ITERATIONS, solvePlan } from './plan.ts';
import { type SolveOptions, type SolveProgress, solve } from './solve.ts';
import { tempDirs } from './temp-dirs.test-support.ts';

const tempDir = tempDirs('vigil-vdf-split-');

const seed = new Uint8Array([0x5e, 0x61]);
const base = { group: 'class1024' as const, seed };
/** OS threads of this process (Linux): a proof worker left running would hold one. */
const threads = () =>
  existsSync('/proc/self/status')
    ? Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1])
    : 0;

/** The prove phase's first report: its total says which proofs were left to run. */
const proveTotal = async (o: SolveOptions) => {
  let total: number | undefined;
  const r = await solve({
    ...o,
    onProgress: (p: SolveProgress) => {
      if (p.phase === 'prove') total ??= p.total;
    },
  });
  return { r, total };
};

describe('the split plan', () => {
  it('splits long class1024 solves only, with each segment its own parameters', () => {
    expect(autoSegmentAt('class1024', SEGMENT_MIN_ITERATIONS - 1)).toBeUndefined();
    expect(autoSegmentAt('rsa2048', 1e9)).toBeUndefined();
    for (const T of [SEGMENT_MIN_ITERATIONS, 1e8, 1e11]) {
      const at = autoSegmentAt('class1024', T)!;
      // the segment's proof, on one worker, must fit in the rest of the evaluation
      expect(at / T).toBeGreaterThan(0.75);
      expect(at / T).toBeLessThan(0.95);
      const plan = solvePlan('class1024', T, at);
      expect(plan.segments.map((s) => [s.start, s.iterations])).toEqual([
        [0, at],
        [at, T - at],
      ]);
      expect(plan.segments[1]!.firstCheckpoint).toBe(
        Math.ceil(at / plan.segments[0]!.params.interval),
      );
    }
    expect(solvePlan('class1024', 5000, 0).segments).toHaveLength(1);
    expect(() => solvePlan('rsa2048', 5000, 100)).toThrow(/no segments/);
    expect(() => solvePlan('class1024', 5000, 5000)).toThrow(/segmentAt/);
  });

  it('keeps depth 0 for rsa2048 and short class1024 solves', async () => {
    const rsa = await solve({ group: 'rsa2048', seed, iterations: 3000, checkpointDir: tempDir() });
    expect(rsa.proof).toHaveLength(256);
    await expect(
      solve({ group: 'rsa2048', seed, iterations: 3000, segmentAt: 1000 }),
    ).rejects.toMatchObject({ code: 'VDF_OUT_OF_RANGE' });
    const cls = await solve({ ...base, iterations: 3000, checkpointDir: tempDir(), workers: 2 });
    expect(cls.proof).toHaveLength(100);
    expect(verifyProof(cls)).toEqual({ valid: true });
  }, 60_000);
});

const native = nativeStatus();
if (!native.available) console.warn(`[split] skipping the native split runs: ${native.reason}`);

describe.skipIf(!native.available)('a class1024 solve split at T1 (depth 1)', () => {
  const T = 6000;
  const at = 3700;

  it('gives a depth-1 proof that verifies; its segment is the depth-0 proof of T1', async () => {
    const r = await solve({ ...base, iterations: T, segmentAt: at });
    expect(r.proof).toHaveLength(100 + SEGMENT_BYTES);
    expect(verifyProof(r)).toEqual({ valid: true });
    verifyClass1024(seed, T, r.input, r.output, r.proof);
    // segment = u64be(T1) ‖ B ‖ π1, and π1 = x^⌊2^T1/B⌋ with B = GetB(x, y1), which does not
    // bind T: the depth-0 proof of T1 squarings
    const segment = r.proof.subarray(100);
    expect(Buffer.from(segment.subarray(0, 8)).readBigUInt64BE()).toBe(BigInt(at));
    const first = await solve({ ...base, iterations: at });
    expect(segment.subarray(8 + B_BYTES)).toEqual(first.proof);
    const straight = await solve({ ...base, iterations: T });
    expect(r.output).toEqual(straight.output);
    // a wrong split point or a swapped segment does not verify
    expect(verifyProof({ ...r, iterations: T + 1 })).toMatchObject({ valid: false });
    const bad = r.proof.slice();
    bad[3]! ^= 1;
    expect(verifyProof({ ...r, proof: bad }).valid).toBe(false);
  }, 60_000);

  it('is deterministic: one thread or workers, native or TypeScript', async () => {
    const inMemory = await solve({ ...base, iterations: T, segmentAt: at });
    const inWorkers = await solve({
      ...base,
      iterations: T,
      segmentAt: at,
      checkpointDir: tempDir(),
      workers: 2,
    });
    const typescript = await solve({
      ...base,
      iterations: T,
      segmentAt: at,
      checkpointDir: tempDir(),
      workers: 'never',
      native: false,
    });
    const typescriptWorkers = await solve({
      ...base,
      iterations: T,
      segmentAt: at,
      checkpointDir: tempDir(),
      workers: 2,
      native: false,
    });
    expect(inWorkers).toEqual(inMemory);
    expect(typescript).toEqual(inMemory);
    expect(typescriptWorkers).toEqual(inMemory);
  }, 120_000);

  it('resumes after a cancel before and after the split, keeping the directory split', async () => {
    const long = 60_000;
    const split = 30_000;
    const straight = await solve({ ...base, iterations: long, segmentAt: split });
    // The first report past 0 comes ≈ 100 ms in (under 30,000 squarings here); past the split,
    // the first one after it.
    for (const after of [0, split]) {
      const dir = tempDir();
      const controller = new AbortController();
      const before = threads();
      let running = 0;
      let stoppedAt = 0;
      const run = solve({
        ...base,
        iterations: long,
        segmentAt: split,
        checkpointDir: dir,
        workers: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase !== 'evaluate' || p.done <= after || stoppedAt > 0) return;
          running = threads() - before;
          stoppedAt = p.done;
          controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'VDF_ABORTED' });
      expect(stoppedAt < split).toBe(after === 0);
      expect(existsSync(join(dir, 'output.bin'))).toBe(false);
      // past the split the segment's worker (and, this close to the end, the final proof's) was
      // running; the cancel ended every one with the solve
      if (before > 0) {
        if (after > 0) expect(running).toBeGreaterThan(0);
        expect(threads()).toBeLessThanOrEqual(before);
      }
      let first = -1;
      // no segmentAt: the directory's split holds
      const resumed = await solve({
        ...base,
        iterations: long,
        checkpointDir: dir,
        workers: 2,
        onProgress: (p) => {
          if (first < 0) first = p.done;
        },
      });
      expect(first).toBeGreaterThan(after);
      expect(resumed).toEqual(straight);
      expect(existsSync(join(dir, 'segment-0.bin'))).toBe(true);
    }
  }, 120_000);

  it('a directory refuses another split; a finished one answers from disk', async () => {
    const dir = tempDir();
    const r = await solve({ ...base, iterations: T, segmentAt: at, checkpointDir: dir });
    await expect(
      solve({ ...base, iterations: T, segmentAt: at + 1, checkpointDir: dir }),
    ).rejects.toMatchObject({ code: 'VDF_CHECKPOINT' });
    await expect(
      solve({ ...base, iterations: T, segmentAt: 0, checkpointDir: dir }),
    ).rejects.toMatchObject({ code: 'VDF_CHECKPOINT' });
    expect(await solve({ ...base, iterations: T, checkpointDir: dir })).toEqual(r);
  }, 60_000);

  it('uses a persisted segment that verifies, and proves again one that does not', async () => {
    const dir = tempDir();
    const o = { ...base, iterations: T, segmentAt: at, checkpointDir: dir, workers: 2 as const };
    const r = await solve(o);
    const { l: finalPasses } = solvePlan('class1024', T, at).segments[1]!.params;
    const segmentPath = join(dir, 'segment-0.bin');
    const segment = readFileSync(segmentPath);
    expect(new Uint8Array(segment)).toEqual(r.proof.subarray(100));

    // the proof is lost: only the final segment is proved again
    rmSync(join(dir, 'proof.bin'));
    const kept = await proveTotal(o);
    expect(kept.r).toEqual(r);
    expect(kept.total).toBe(finalPasses);

    // a corrupted π1, B1 or T1, or a truncated file: proved again
    const corruptions: ((b: Buffer) => Buffer)[] = [
      (b) => {
        b[b.length - 1]! ^= 0x40;
        return b;
      },
      (b) => {
        b[20]! ^= 1;
        return b;
      },
      (b) => {
        b[7]! ^= 1;
        return b;
      },
      (b) => b.subarray(0, 100),
    ];
    for (const corrupt of corruptions) {
      rmSync(join(dir, 'proof.bin'));
      writeFileSync(segmentPath, corrupt(Buffer.from(segment)));
      const again = await proveTotal(o);
      expect(again.r).toEqual(r);
      expect(again.total).toBeGreaterThan(finalPasses);
      expect(readFileSync(segmentPath)).toEqual(segment);
    }
  }, 120_000);
});
