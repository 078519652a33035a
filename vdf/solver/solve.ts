/**
 * The solver shell: y = x^(2^T) in chunks (progress, cancellation, checkpoints), then the proof.
 * Clocks and the disk live here; the maths is in the group and in wesolowski/.
 */
import { toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName, VdfGroup } from '../group.ts';
import { groupFor } from '../groups.ts';
import { checkIterations, checkSeed } from '../limits.ts';
import { nativeSquareChain } from '../native-chain.ts';
import { installNodeAccelerators } from '../node-accelerators.ts';
import { checkpointCount, type ProofParams, proofParams, proveRange } from '../wesolowski/index.ts';
import {
  CACHE_DECODED_MAX,
  type CheckpointStore,
  diskCheckpoints,
  memoryCheckpoints,
} from './checkpoints.ts';
import { solverBucketSum } from './native-sum.ts';
import { ProofWorkers, proofWorkerCount, proveInWorkers, useWorkers } from './workers.ts';

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
/** Proof workers start this long before the evaluation is expected to end (their boot time). */
const WARM_UP_SECONDS = 3;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function aborted(store: CheckpointStore): VdfError {
  store.flush();
  return new VdfError('VDF_ABORTED', 'VDF solve cancelled; checkpoints kept for resumption');
}

export async function solve(o: SolveOptions): Promise<SolveResult> {
  checkIterations(o.iterations);
  checkSeed(o.seed);
  const T = o.iterations;
  const group = groupFor(o.group, o.seed, o.native !== false);
  const params = proofParams(o.group, T);
  const store = o.checkpointDir
    ? diskCheckpoints(o.checkpointDir, {
        group: o.group,
        seed: o.seed,
        iterations: T,
        interval: params.interval,
        elementBytes: group.elementBytes,
      })
    : memoryCheckpoints();
  if (o.signal?.aborted) throw aborted(store);

  const inWorkers = o.checkpointDir !== undefined && useWorkers(o.workers, o.group, T, params);
  let workers: ProofWorkers | undefined;
  const startWorkers = (): ProofWorkers => {
    workers ??= new ProofWorkers(proofWorkerCount(o.workers, params.l), {
      group: o.group,
      seed: toHex(o.seed),
      iterations: T,
      params,
      checkpointDir: o.checkpointDir!,
    });
    return workers;
  };
  try {
    const x = group.input;
    const y = await evaluate(group, o, params, store, inWorkers ? startWorkers : undefined);
    const input = group.encode(x);
    const output = group.encode(y);
    const saved = store.loadResult('proof');
    if (saved) return { group: o.group, seed: o.seed, iterations: T, input, output, proof: saved };

    const challenge = group.challengePrime(T, x, y);
    const proofElement = await proveStored(
      group,
      o,
      params,
      challenge,
      store,
      inWorkers ? startWorkers : undefined,
    );
    const proof = group.encode(proofElement);
    store.saveResult('proof', proof);
    return { group: o.group, seed: o.seed, iterations: T, input, output, proof };
  } finally {
    await workers?.close();
  }
}

async function evaluate<E>(
  group: VdfGroup<E>,
  o: SolveOptions,
  params: ProofParams,
  store: CheckpointStore,
  warmUp: (() => void) | undefined,
): Promise<E> {
  const T = o.iterations;
  const saved = store.loadResult('output');
  if (saved) return group.decode(saved);
  if (store.count === 0) store.append(group.encode(group.input));
  let current = group.decode(store.last()!);
  // The native chain works on encodings: the element is decoded once, at the end.
  let currentBytes = store.last()!;
  let done = (store.count - 1) * params.interval;
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
  // Up to a chunk of squarings: through the native chain, many checkpoints per call; otherwise
  // up to the next checkpoint.
  const advance = (): void => {
    if (chain) {
      const step = Math.min(NATIVE_SUB_CHUNK[o.group], T - done);
      const records = chain(currentBytes, done, step, params.interval);
      currentBytes = records.pop()!;
      let at = (Math.floor(done / params.interval) + 1) * params.interval;
      for (const r of records) {
        if (at < T) store.append(r);
        at += params.interval;
      }
      done += step;
      return;
    }
    const nextCheckpoint = (Math.floor(done / params.interval) + 1) * params.interval;
    const step = Math.min(SUB_CHUNK[o.group], nextCheckpoint - done, T - done);
    current = group.squareTimes(current, step);
    done += step;
    if (done % params.interval === 0 && done < T) store.append(group.encode(current));
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
      if (warmUp && (T - done) / rate < WARM_UP_SECONDS) warmUp();
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

async function proveStored<E>(
  group: VdfGroup<E>,
  o: SolveOptions,
  params: ProofParams,
  challenge: bigint,
  store: CheckpointStore,
  workers: (() => ProofWorkers) | undefined,
): Promise<E> {
  const needed = checkpointCount(o.iterations, params);
  if (store.count < needed)
    throw new VdfError(
      'VDF_CHECKPOINT',
      `checkpoints incomplete: have ${store.count}, need ${needed}`,
    );
  const started = performance.now();
  let passes = 0;
  const onPass = () => {
    if (o.signal?.aborted) throw aborted(store);
    passes++;
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? passes / elapsed : 0;
    o.onProgress?.({
      done: passes,
      total: params.l,
      rate,
      etaSeconds: rate > 0 ? (params.l - passes) / rate : Number.POSITIVE_INFINITY,
      phase: 'prove',
    });
  };
  if (workers) return proveInWorkers(group, o, params, challenge, store, onPass, workers());
  const useNative = o.native !== false;
  if (needed <= CACHE_DECODED_MAX) {
    // The native pass reads the encodings; keep them in one buffer instead of decoding.
    const encoded = new Uint8Array(needed * group.elementBytes);
    let cached = 0;
    for (const bytes of store.read()) {
      if (cached === needed) break;
      encoded.set(bytes, cached++ * group.elementBytes);
    }
    const sum = solverBucketSum<E>(group, useNative, challenge, params.k, () => [encoded]);
    if (sum)
      return proveRange(group, o.iterations, challenge, params, 0, params.l, () => [], onPass, sum);
    const decoded: E[] = [];
    for (let i = 0; i < needed; i++)
      decoded.push(
        group.decode(encoded.subarray(i * group.elementBytes, (i + 1) * group.elementBytes)),
      );
    return proveRange(group, o.iterations, challenge, params, 0, params.l, () => decoded, onPass);
  }
  const sum = solverBucketSum<E>(group, useNative, challenge, params.k, () => store.readChunks());
  const read = function* () {
    for (const bytes of store.read()) yield group.decode(bytes);
  };
  return proveRange(group, o.iterations, challenge, params, 0, params.l, read, onPass, sum);
}
