/**
 * Evaluation checkpoints C_i = x^(2^(interval·i)), i = 0, 1, …: resume points for the solver and
 * the prover's input. On disk they are segment files of consecutive encoded elements, each written
 * atomically and sealed with a SHA-256 that binds the job, so a torn or foreign file is detected.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, toHex, u64be, utf8 } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import { writeFileAtomic } from './atomic.ts';

/** Decoded checkpoints stay in memory when few; otherwise each pass re-reads and decodes them. */
export const CACHE_DECODED_MAX = 2 ** 15;

export interface CheckpointJob {
  group: GroupName;
  seed: Uint8Array;
  iterations: number;
  interval: number;
  elementBytes: number;
  /**
   * A split solve (solver/plan.ts): the first segment's end and the final segment's spacing. Its
   * checkpoints follow the first segment's, from y1 at index ⌈segmentAt/interval⌉.
   */
  split?: { segmentAt: number; finalInterval: number };
}

/** What a store keeps beside the checkpoints: y, the proof, and segment s's proof. */
export type ResultName = 'output' | 'proof' | `segment-${number}`;

export interface CheckpointStore {
  /** Checkpoints already stored (persisted or buffered). */
  readonly count: number;
  last(): Uint8Array | undefined;
  append(element: Uint8Array): void;
  /** Persists buffered checkpoints (no-op in memory). */
  flush(): void;
  /** The stored checkpoints in order from index `from`; each call starts a fresh pass. */
  read(from?: number): Iterable<Uint8Array>;
  /** The same bytes as read(from), in chunks of whole elements (a segment each on disk). */
  readChunks(from?: number): Iterable<Uint8Array>;
  /**
   * Picks up segments another writer added since this store was opened, verifying only those
   * (a proof worker opens the directory while the evaluation is still writing it).
   */
  refresh(): void;
  saveResult(name: ResultName, bytes: Uint8Array): void;
  loadResult(name: ResultName): Uint8Array | undefined;
}

/** Encodings from..from+count−1, concatenated (shorter when the store ends first). */
export function readRange(
  store: CheckpointStore,
  from: number,
  count: number,
  elementBytes: number,
): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(count, store.count - from)) * elementBytes);
  let at = 0;
  for (const chunk of store.readChunks(from)) {
    if (at === out.length) break;
    const part = chunk.subarray(0, Math.min(chunk.length, out.length - at));
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function memoryCheckpoints(): CheckpointStore {
  const items: Uint8Array[] = [];
  const results = new Map<string, Uint8Array>();
  return {
    get count() {
      return items.length;
    },
    last: () => items[items.length - 1],
    append: (e) => void items.push(e),
    flush: () => {},
    refresh: () => {},
    read: (from = 0) => items.slice(from),
    readChunks: (from = 0) => items.slice(from),
    saveResult: (name, bytes) => void results.set(name, bytes),
    loadResult: (name) => results.get(name),
  };
}

const META_FILE = 'job.json';
const SEGMENT = /^seg-(\d{12})\.bin$/;
const MAX_SEGMENT_ELEMENTS = 4096;

function jobJson(job: CheckpointJob): string {
  return JSON.stringify({
    format: 'vigil-vdf-checkpoints/v1',
    group: job.group,
    seed: toHex(job.seed),
    iterations: job.iterations,
    interval: job.interval,
    elementBytes: job.elementBytes,
    // absent for a depth-0 job, so its directories read as before
    ...(job.split
      ? { segmentAt: job.split.segmentAt, finalInterval: job.split.finalInterval }
      : {}),
  });
}

/**
 * The split a directory was started with (0: none), or undefined when it holds no job yet; a
 * resumed solve keeps it whatever its options would choose now, so the checkpoints still fit.
 */
export function storedSegmentAt(dir: string): number | undefined {
  const path = join(dir, META_FILE);
  if (!existsSync(path)) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new VdfError('VDF_CHECKPOINT', `checkpoint directory ${dir} has an unreadable job`);
  }
  const at = (meta as { segmentAt?: unknown }).segmentAt;
  return typeof at === 'number' ? at : 0;
}

/** Opens (or creates) a checkpoint directory for one job; rejects a directory of another job. */
export function diskCheckpoints(dir: string, job: CheckpointJob): CheckpointStore {
  mkdirSync(dir, { recursive: true });
  const meta = jobJson(job);
  const metaPath = join(dir, META_FILE);
  if (existsSync(metaPath)) {
    if (readFileSync(metaPath, 'utf8') !== meta)
      throw new VdfError(
        'VDF_CHECKPOINT',
        `checkpoint directory ${dir} belongs to another VDF job`,
      );
  } else {
    writeFileAtomic(metaPath, meta);
  }
  const jobDigest = sha256(utf8(meta));
  // Segments hold up to 1 GiB in all and every proof worker re-checks them before its first pass,
  // so the bulk hashing goes through node:crypto (OpenSSL's SHA-256, hardware accelerated);
  // the digest is the same SHA-256 either way.
  const seal = (start: number, body: Uint8Array) =>
    new Uint8Array(
      createHash('sha256')
        .update(jobDigest)
        .update(u64be(start))
        .update(u64be(body.length / job.elementBytes))
        .update(body)
        .digest(),
    );

  const segments: { start: number; count: number; path: string }[] = [];
  let persisted = 0;
  let lastElement: Uint8Array | undefined;
  // Verifies and adds the segments after the ones already known (all of them at open).
  const scan = () => {
    const names = readdirSync(dir)
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= persisted)
      .sort((a, b) => Number(a[1]) - Number(b[1]));
    for (const m of names) {
      const start = Number(m[1]);
      const path = join(dir, m[0]);
      if (start !== persisted)
        throw new VdfError(
          'VDF_CHECKPOINT',
          `checkpoint segments are not contiguous at ${persisted}`,
        );
      const file = new Uint8Array(readFileSync(path));
      const body = file.subarray(0, file.length - 32);
      if (file.length < 32 || body.length % job.elementBytes !== 0 || body.length === 0)
        throw new VdfError('VDF_CHECKPOINT', `checkpoint segment ${m[0]} has a bad length`);
      if (!bytesEqual(file.subarray(file.length - 32), seal(start, body)))
        throw new VdfError('VDF_CHECKPOINT', `checkpoint segment ${m[0]} fails its checksum`);
      const count = body.length / job.elementBytes;
      segments.push({ start, count, path });
      persisted += count;
      lastElement = body.slice(body.length - job.elementBytes);
    }
  };
  scan();

  let pending: Uint8Array[] = [];
  const resultPath = (name: string) => join(dir, `${name}.bin`);
  const readSegment = (path: string): Uint8Array => {
    const file = new Uint8Array(readFileSync(path));
    return file.subarray(0, file.length - 32);
  };

  const store: CheckpointStore = {
    get count() {
      return persisted + pending.length;
    },
    last: () => pending[pending.length - 1] ?? lastElement,
    append(e) {
      pending.push(e);
      if (pending.length >= MAX_SEGMENT_ELEMENTS) store.flush();
    },
    flush() {
      if (pending.length === 0) return;
      const body = concatBytes(...pending);
      const name = `seg-${String(persisted).padStart(12, '0')}.bin`;
      writeFileAtomic(join(dir, name), concatBytes(body, seal(persisted, body)));
      segments.push({ start: persisted, count: pending.length, path: join(dir, name) });
      persisted += pending.length;
      lastElement = pending[pending.length - 1];
      pending = [];
    },
    *read(from = 0) {
      for (const chunk of store.readChunks(from))
        for (let at = 0; at < chunk.length; at += job.elementBytes)
          yield chunk.subarray(at, at + job.elementBytes);
    },
    *readChunks(from = 0) {
      for (const s of segments) {
        if (s.start + s.count <= from) continue;
        const body = readSegment(s.path);
        yield s.start >= from ? body : body.subarray((from - s.start) * job.elementBytes);
      }
      yield* pending.slice(Math.max(0, from - persisted));
    },
    refresh() {
      if (pending.length > 0)
        throw new VdfError('VDF_CHECKPOINT', 'refresh of a store with unsaved checkpoints');
      scan();
    },
    saveResult: (name, bytes) => writeFileAtomic(resultPath(name), bytes),
    loadResult(name) {
      const p = resultPath(name);
      if (!existsSync(p)) return undefined;
      const bytes = new Uint8Array(readFileSync(p));
      if (name === 'output' && bytes.length !== job.elementBytes)
        throw new VdfError('VDF_CHECKPOINT', 'stored output has a bad length');
      return bytes;
    },
  };
  return store;
}
