import { ClusterError } from './errors.ts';
import type { Entry, Snapshot } from './types.ts';

/**
 * The in-memory view of the log: a snapshot boundary followed by every later entry. Tracks which
 * suffix is not yet durable (`unstableFrom`) so `Ready` can hand exactly that to storage.
 */
export class RaftLog {
  snapshot: Snapshot | null;
  snapIndex: number;
  snapTerm: number;
  entries: Entry[];
  /** Entries at or above this index still have to be persisted. */
  unstableFrom: number;
  committed: number;
  /** Highest index handed out for applying (applied once the shell advances). */
  applying: number;
  applied: number;
  /** Set by `append` to the first index written, for the caller to consume (0 = none). */
  lastAppendFrom = 0;

  constructor(snapshot: Snapshot | null, entries: Entry[], committed: number, applied: number) {
    this.snapshot = snapshot;
    this.snapIndex = snapshot?.meta.index ?? 0;
    this.snapTerm = snapshot?.meta.term ?? 0;
    this.entries = entries.filter((e) => e.index > this.snapIndex);
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i]!.index !== this.snapIndex + 1 + i) {
        throw new ClusterError('CLUSTER_STORAGE', 'stored log is not contiguous');
      }
    }
    this.unstableFrom = this.lastIndex() + 1;
    this.committed = Math.max(committed, this.snapIndex);
    this.applied = Math.max(applied, this.snapIndex);
    if (this.committed > this.lastIndex() || this.applied > this.committed) {
      throw new ClusterError('CLUSTER_STORAGE', 'stored commit or applied index beyond the log');
    }
    this.applying = this.applied;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term at `index`, or undefined when compacted away (below the snapshot) or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapIndex - 1]!.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi] up to `maxBytes` (always at least one entry when any exists). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= hi; i++) {
      const e = this.entry(i);
      if (e === undefined) break;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first <= this.committed) {
      throw new ClusterError('CLUSTER_INVARIANT', `refusing to overwrite committed index ${first}`);
    }
    if (first > this.lastIndex() + 1) {
      throw new ClusterError('CLUSTER_INVARIANT', `gap in log at ${first}`);
    }
    this.entries.length = first - this.snapIndex - 1;
    for (const e of entries) this.entries.push(e);
    this.unstableFrom = Math.min(this.unstableFrom, first);
    this.lastAppendFrom = first;
  }

  /**
   * Follower-side append: skip the entries we already have, truncate at the first conflict.
   * Returns the index of the last entry now known to match the leader, or -1 when prev mismatches.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    let firstNew = entries.length;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index <= this.snapIndex) continue;
      if (!this.matchTerm(e.index, e.term)) {
        firstNew = i;
        break;
      }
    }
    if (firstNew < entries.length) this.append(entries.slice(firstNew));
    return prevIndex + entries.length;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) {
      throw new ClusterError(
        'CLUSTER_INVARIANT',
        `commit ${index} beyond last ${this.lastIndex()}`,
      );
    }
    this.committed = index;
    return true;
  }

  /** Replace the whole log by a snapshot (follower install). */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.snapIndex = snapshot.meta.index;
    this.snapTerm = snapshot.meta.term;
    this.entries = [];
    this.unstableFrom = this.snapIndex + 1;
    this.committed = this.snapIndex;
    this.applying = this.snapIndex;
    this.applied = this.snapIndex;
  }

  /** Drop entries up to `snapshot.meta.index` (which must be applied). */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    if (index <= this.snapIndex) return;
    if (index > this.applied) {
      throw new ClusterError('CLUSTER_INVARIANT', 'cannot compact beyond the applied index');
    }
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapshot = snapshot;
    this.snapIndex = index;
    this.snapTerm = snapshot.meta.term;
  }

  /** Entries to persist since the last Ready. */
  unstable(): Entry[] {
    const from = Math.max(this.unstableFrom, this.firstIndex());
    return this.entries.slice(from - this.snapIndex - 1);
  }

  /** Committed entries not yet handed out for applying; only durable ones (etcd#14370). */
  nextCommitted(stableLast: number, maxBytes: number): Entry[] {
    const hi = Math.min(this.committed, stableLast);
    if (hi <= this.applying) return [];
    return this.slice(this.applying + 1, hi, maxBytes);
  }
}

/** Approximate payload size used for flow control and batching. */
export function entryBytes(e: Entry): number {
  return e.data.length + e.clientId.length + 32;
}
