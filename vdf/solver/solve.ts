/**
 * The solver shell: y = x^(2^T) in chunks (progress, cancellation, checkpoints), then the proof;
 * a long class1024 solve proves its first segment during the evaluation (plan.ts). Clocks and
 * the disk live here; the maths is in the group and in wesolowski/.
 */
import { concatBytes, toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName, VdfGroup } from '../group.ts';
import { groupFor } from '../groups.ts';
import { checkIterations, checkSeed } from '../limits.ts';
import { nativeSquareChain } from '../native-chain.ts';
import { installNodeAccelerators } from '../node-accelerators.ts';
import { proofParams } from '../wesolowski/index.ts';
import {
  type CheckpointStore,
  diskCheckpoints,
  memoryCheckpoints,
  readRange,
  storedSegmentAt,
} from './checkpoints.ts';
import {
  autoSegmentAt,
  checkpointJob,
  checkSegmentAt,
  type SolvePlan,
  segmentOf,
  solvePlan,
} from './plan.ts';
import { proveSegment } from './prove-segment.ts';
import { SegmentProofs } from './segments.ts';
import { ProofWorkers, proofWorkerCount, useWorkers } from './workers.ts';

// the solver runs on Node's arithmetic whichever module loaded it first
installNodeAccelerators();

export interface SolveProgress {
  done: number;
  total: number;
  /** Squarings per second in this run (evaluate), passes per second (prove). */
  rate: number;
  etaSeconds: number;
  phase: 'evaluate' | 'prove';
}

export interface SolveOptions {
  group: GroupName;
  seed: Uint8Array;
  iterations: number;
  checkpointDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: SolveProgress) => void;
  /** Spread the proof over worker threads: 'auto' does so for long runs. */
  workers?: 'auto' | 'never' | number;
  /**
   * Use the native addon when it is built (default): the rsa2048 evaluation and prover pass and
   * the class1024 evaluation; false forces the TypeScript paths (same elements, same proof).
   */
  native?: boolean;
  /**
   * Tests and benchmarks: where a class1024 proof splits into a segment and the final proof
   * (depth 1), or 0 for depth 0. By default a class1024 solve with proof workers splits from
   * T = 2^22 (plan.ts), and a checkpoint directory keeps the split it was started with.
   */
  segmentAt?: number;
}

export interface SolveResult {
  group: GroupName;
  seed: Uint8Array;
  iterations: number;
  input: Uint8Array;
  output: Uint8Array;
  proof: Uint8Array;
}

/** Squarings between progress/abort checks: ≈ 10–20 ms of work. */
const SUB_CHUNK: Record<GroupName, number> = { rsa2048: 2047 * 12, class1024: 128 };
/** The same through the native chain (class1024: ≈ 10 µs a squaring natively). */
const NATIVE_SUB_CHUNK: Record<GroupName, number> = { rsa2048: 2047 * 12, class1024: 2048 };
const PERSIST_EVERY_MS = 1000;
const PROGRESS_EVERY_MS = 100;
/** Proof workers start this long before their segment's evaluation is expected to end (boot time). */
const WARM_UP_SECONDS = 3;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function aborted(store: CheckpointStore): VdfError {
  store.flush();
  return new VdfError('VDF_ABORTED', 'VDF solve cancelled; checkpoints kept for resumption');
}

/** The split: the caller's, else the directory's, else the rule's when proof workers run. */
function chooseSegmentAt(o: SolveOptions, inWorkers: boolean): number | undefined {
  if (o.segmentAt !== undefined) {
    checkSegmentAt(o.group, o.iterations, o.segmentAt);
    return o.segmentAt;
  }
  const stored = o.checkpointDir === undefined ? undefined : storedSegmentAt(o.checkpointDir);
  if (stored !== undefined) return stored;
  return inWorkers ? autoSegmentAt(o.group, o.iterations) : undefined;
}

export async function solve(o: SolveOptions): Promise<SolveResult> {
  checkIterations(o.iterations);
  checkSeed(o.seed);
  const T = o.iterations;
  const group = groupFor(o.group, o.seed, o.native !== false);
  const inWorkers =
    o.checkpointDir !== undefined && useWorkers(o.workers, o.group, T, proofParams(o.group, T));
  const plan = solvePlan(o.group, T, chooseSegmentAt(o, inWorkers));
  const store = o.checkpointDir
    ? diskCheckpoints(
        o.checkpointDir,
        checkpointJob(plan, {
          group: o.group,
          seed: o.seed,
          iterations: T,
          elementBytes: group.elementBytes,
        }),
      )
    : memoryCheckpoints();
  if (o.signal?.aborted) throw aborted(store);
  const input = group.encode(group.input);
  const savedOutput = store.loadResult('output');
  const savedProof = store.loadResult('proof');
  if (savedOutput && savedProof) {
    const output = group.encode(group.decode(savedOutput));
    return { group: o.group, seed: o.seed, iterations: T, input, output, proof: savedProof };
  }

  const spawn = (count: number) =>
    new ProofWorkers(count, {
      group: o.group,
      seed: toHex(o.seed),
      iterations: T,
      segmentAt: plan.segmentAt,
      checkpointDir: o.checkpointDir!,
    });
  const final = plan.segments.length - 1;
  let workers: ProofWorkers | undefined;
  const startWorkers = (): ProofWorkers => {
    workers ??= spawn(proofWorkerCount(o.workers, plan.segments[final]!.params.l));
    return workers;
  };
  // Passes after the evaluation are the prove phase's progress; a segment's passes during the
  // evaluation only check for cancellation.
  let proving: { started: number; done: number; total: number } | undefined;
  const onPass = () => {
    if (o.signal?.aborted) throw aborted(store);
    if (proving) reportPass(o, proving);
  };
  const segments = new SegmentProofs({
    group,
    native: o.native !== false,
    plan,
    store,
    spawn: inWorkers ? () => spawn(1) : undefined,
    onPass,
  });
  try {
    segments.startReady();
    const y = await evaluate(group, o, plan, store, {
      nearEnd: (s) => {
        if (!inWorkers) return;
        if (s === final) startWorkers();
        else segments.warmUp(s);
      },
      segmentEnded: () => segments.startReady(),
    });
    const output = group.encode(y);
    proving = {
      started: performance.now(),
      done: 0,
      total: plan.segments[final]!.params.l + segments.passesLeft(),
    };
    const start = group.decode(
      readRange(store, plan.segments[final]!.firstCheckpoint, 1, group.elementBytes),
    );
    const challenge = group.challengePrime(plan.segments[final]!.iterations, start, y);
    const pi = await proveSegment(
      { group, native: o.native !== false, plan, segment: final, challenge, store, onPass },
      inWorkers ? startWorkers() : undefined,
    );
    // Chia's blob order: π, then the segments from the last proved to the first (from x).
    const proof = concatBytes(group.encode(pi), ...(await segments.finish()).reverse());
    store.saveResult('proof', proof);
    return { group: o.group, seed: o.seed, iterations: T, input, output, proof };
  } finally {
    await Promise.all([workers?.close(), segments.close()]);
  }
}

function reportPass(o: SolveOptions, p: { started: number; done: number; total: number }): void {
  p.done++;
  const elapsed = (performance.now() - p.started) / 1000;
  const rate = elapsed > 0 ? p.done / elapsed : 0;
  o.onProgress?.({
    done: p.done,
    total: p.total,
    rate,
    etaSeconds: rate > 0 ? (p.total - p.done) / rate : Number.POSITIVE_INFINITY,
    phase: 'prove',
  });
}

async function evaluate<E>(
  group: VdfGroup<E>,
  o: SolveOptions,
  plan: SolvePlan,
  store: CheckpointStore,
  hooks: {
    /** The evaluation of segment s is expected to end within WARM_UP_SECONDS. */
    nearEnd: (segment: number) => void;
    /** A segment's end element is stored (the next one's C_0). */
    segmentEnded: () => void;
  },
): Promise<E> {
  const T = o.iterations;
  const saved = store.loadResult('output');
  if (saved) return group.decode(saved);
  if (store.count === 0) store.append(group.encode(group.input));
  let current = group.decode(store.last()!);
  // The native chain works on encodings: the element is decoded once, at the end.
  let currentBytes = store.last()!;
  // Checkpoints sit every `interval` from their segment's start; the last one stored says where
  // a resumed run picks up.
  let s = segmentOf(plan, store.count - 1);
  let seg = plan.segments[s]!;
  let done = seg.start + (store.count - 1 - seg.firstCheckpoint) * seg.params.interval;
  const startDone = done;
  const started = performance.now();
  let lastPersist = started;
  let lastProgress = 0;
  const report = (now: number) => {
    const elapsed = (now - started) / 1000;
    const rate = elapsed > 0 ? (done - startDone) / elapsed : 0;
    o.onProgress?.({
      done,
      total: T,
      rate,
      etaSeconds: rate > 0 ? (T - done) / rate : Number.POSITIVE_INFINITY,
      phase: 'evaluate',
    });
  };
  const chain = nativeSquareChain(o.group, o.seed, o.native !== false);
  // Up to a chunk of squarings within the segment: through the native chain, many checkpoints
  // per call; otherwise up to the next checkpoint.
  const advance = (): void => {
    const { interval } = seg.params;
    const end = seg.start + seg.iterations;
    const offset = done - seg.start;
    if (chain) {
      const step = Math.min(NATIVE_SUB_CHUNK[o.group], end - done);
      const records = chain(currentBytes, offset, step, interval);
      currentBytes = records.pop()!;
      let at = (Math.floor(offset / interval) + 1) * interval;
      for (const r of records) {
        if (at < seg.iterations) store.append(r);
        at += interval;
      }
      done += step;
    } else {
      const next = seg.start + (Math.floor(offset / interval) + 1) * interval;
      const step = Math.min(SUB_CHUNK[o.group], next - done, end - done);
      current = group.squareTimes(current, step);
      done += step;
      if ((done - seg.start) % interval === 0 && done < end) store.append(group.encode(current));
    }
    if (done === end && s + 1 < plan.segments.length) {
      // The segment's output is the next one's C_0, and all its proof waits for.
      store.append(chain ? currentBytes : group.encode(current));
      store.flush();
      seg = plan.segments[++s]!;
      hooks.segmentEnded();
    }
  };
  report(started);
  while (done < T) {
    advance();
    const now = performance.now();
    if (now - lastPersist >= PERSIST_EVERY_MS) {
      store.flush();
      lastPersist = now;
    }
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      report(now);
      lastProgress = now;
      const rate = (done - startDone) / Math.max(1e-3, (now - started) / 1000);
      if ((seg.start + seg.iterations - done) / rate < WARM_UP_SECONDS) hooks.nearEnd(s);
      await yieldToEventLoop();
      if (o.signal?.aborted) throw aborted(store);
    }
  }
  store.flush();
  if (chain) current = group.decode(currentBytes);
  const output = group.encode(current);
  store.saveResult('output', output);
  report(performance.now());
  return current;
}
