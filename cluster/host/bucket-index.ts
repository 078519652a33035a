/**
 * What lets a node believe a store it cannot trust, in bounded memory. Every key falls in one of
 * B buckets (by hash); the store holds, beside the records, each bucket's list of (key, hash of
 * the stored value), in key order. The node keeps only each bucket's digest, in memory, and
 * only for the life of the process — the same life as the store: a node restarted from disk is
 * a new member with a new, empty store (DESIGN.md P4), so the digests start from "all empty"
 * and every answer is checked against what this process wrote:
 *   - a read brings the value and its bucket's list: the list must match the digest, and the
 *     value must match the list's hash (or be absent if the list lacks the key);
 *   - a write updates the lists it touches and sends them with the records in the same batch;
 *   - an ordered iteration chains each bucket's (key, hash) pairs as they come, and at the end
 *     compares every bucket's chain with its list cut to the range: nothing left out, added,
 *     stale or out of order goes unnoticed.
 * A stale, dropped, reordered or replayed answer is therefore detected, not believed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Reader, Writer } from '../bytes.ts';
import { ClusterError } from '../errors.ts';

export const INDEX_PREFIX = '~i/';
export const INDEX_END = '~i0';
export const HASH = 32;
const utf8 = new TextEncoder();
const KEY_TAG = utf8.encode('vigil/v1/host-index/key');
const VALUE_TAG = utf8.encode('vigil/v1/host-index/value');
const LIST_TAG = utf8.encode('vigil/v1/host-index/bucket');
const CHAIN_TAG = utf8.encode('vigil/v1/host-index/chain');

export type IndexEntry = readonly [key: string, hash: Uint8Array];

export function storageFault(message: string): ClusterError {
  return new ClusterError('CLUSTER_STORAGE', `host storage answered wrongly: ${message}`);
}

function tagged(tag: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const w = new Writer().bytes(tag);
  for (const p of parts) w.bytes(p);
  return sha256(w.finish());
}

export function valueHash(value: Uint8Array): Uint8Array {
  return tagged(VALUE_TAG, value);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class BucketIndex {
  readonly buckets: number;
  /** Bucket b's digest at [32b, 32b+32); all zero: the bucket is empty (no list stored). */
  digests: Uint8Array;

  constructor(buckets: number) {
    if (!Number.isInteger(Math.log2(buckets)) || buckets < 1 || buckets > 1 << 20) {
      throw new ClusterError('CLUSTER_INVARIANT', 'buckets: a power of two up to 2^20');
    }
    this.buckets = buckets;
    this.digests = new Uint8Array(buckets * HASH);
  }

  bucketOf(key: string): number {
    const h = tagged(KEY_TAG, utf8.encode(key));
    return (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0) & (this.buckets - 1);
  }

  static listKey(bucket: number): string {
    return INDEX_PREFIX + bucket.toString(16).padStart(5, '0');
  }

  static isEmpty(digest: Uint8Array): boolean {
    return digest.every((x) => x === 0);
  }

  digestOf(bucket: number, from: Uint8Array = this.digests): Uint8Array {
    return from.subarray(bucket * HASH, bucket * HASH + HASH);
  }

  static encodeList(entries: readonly IndexEntry[]): Uint8Array {
    const w = new Writer().u32(entries.length);
    for (const [k, h] of entries) w.str(k).bytes(h);
    return w.finish();
  }

  static listDigest(bucket: number, encoded: Uint8Array): Uint8Array {
    return tagged(LIST_TAG, new Writer().u32(bucket).finish(), encoded);
  }

  /** The list stored for `bucket` (`stored` as the host answered), checked against `digests`. */
  verifiedList(
    bucket: number,
    stored: Uint8Array | undefined,
    digests = this.digests,
  ): IndexEntry[] {
    const want = this.digestOf(bucket, digests);
    if (BucketIndex.isEmpty(want)) {
      if (stored !== undefined) throw storageFault(`bucket ${bucket} should be empty`);
      return [];
    }
    if (stored === undefined || !sameBytes(BucketIndex.listDigest(bucket, stored), want)) {
      throw storageFault(`bucket ${bucket}'s list is not the one this node wrote last`);
    }
    const r = new Reader(stored);
    const out: IndexEntry[] = [];
    for (let n = r.u32(); n > 0; n--) out.push([r.str(1024), r.bytes(HASH)]);
    r.end();
    return out;
  }

  /** Sets bucket's digest for its new list; returns what to store (undefined: delete it). */
  commitList(bucket: number, entries: readonly IndexEntry[]): Uint8Array | undefined {
    const at = bucket * HASH;
    if (entries.length === 0) {
      this.digests.fill(0, at, at + HASH);
      return undefined;
    }
    const encoded = BucketIndex.encodeList(entries);
    this.digests.set(BucketIndex.listDigest(bucket, encoded), at);
    return encoded;
  }
}

/** Sets (hash) or removes (null) `key` in a sorted list, returning the new list. */
export function updateList(
  list: readonly IndexEntry[],
  key: string,
  hash: Uint8Array | null,
): IndexEntry[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]![0] < key) lo = mid + 1;
    else hi = mid;
  }
  const found = lo < list.length && list[lo]![0] === key;
  const out = list.slice();
  if (hash === null) {
    if (found) out.splice(lo, 1);
  } else if (found) out[lo] = [key, hash];
  else out.splice(lo, 0, [key, hash]);
  return out;
}

export function findInList(list: readonly IndexEntry[], key: string): Uint8Array | undefined {
  return list.find(([k]) => k === key)?.[1];
}

/** One bucket's running chain over the (key, hash) pairs an iteration met, in order. */
export function chainStep(prev: Uint8Array | undefined, key: string, hash: Uint8Array): Uint8Array {
  return tagged(CHAIN_TAG, prev ?? new Uint8Array(0), utf8.encode(key), hash);
}
