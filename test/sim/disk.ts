import type { Entry, HardState, Ready, Snapshot } from '../../cluster/index.ts';
import type { Rng } from './rng.ts';

/**
 * A simulated disk with the durable twin of cluster/storage.ts. A write is synced unless a crash
 * interrupts it: then it is lost or torn (a prefix of its operations lands). `rollback` swaps in
 * an older copy, as a host restoring an old disk image would.
 *
 * The applied state is kept in one piece (`appliedState` at `applied`). Received snapshot chunks
 * are staged unsynced (`staging`, lost in a crash: the core restarts the transfer from chunk 0);
 * an install switches to them together with the snapshot position and the applied index in one
 * operation, as the real storage does in one synced batch.
 */
export class SimDisk {
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  applied = 0;
  appliedState: Uint8Array = new Uint8Array();
  /** Staged snapshot chunks, in order; volatile (see `crash`). */
  staging: Uint8Array[] = [];
  private copies: SimDisk[] = [];

  clone(): SimDisk {
    const d = new SimDisk();
    d.hardState = this.hardState;
    d.snapshot = this.snapshot;
    d.entries = [...this.entries];
    d.applied = this.applied;
    d.appliedState = this.appliedState;
    return d;
  }

  keepCopy(): void {
    this.copies.push(this.clone());
    if (this.copies.length > 4) this.copies.shift();
  }

  /** Restore an older copy; false when there is none. */
  rollback(rng: Rng): boolean {
    if (this.copies.length === 0) return false;
    const old = this.copies[rng.int(this.copies.length)]!;
    this.hardState = old.hardState;
    this.snapshot = old.snapshot;
    this.entries = [...old.entries];
    this.applied = old.applied;
    this.appliedState = old.appliedState;
    this.staging = [];
    this.copies = [];
    return true;
  }

  /** The node went down: unsynced staged chunks are gone. */
  crash(): void {
    this.staging = [];
  }

  term(index: number): number | undefined {
    if (this.snapshot !== null && index === this.snapshot.meta.index)
      return this.snapshot.meta.term;
    if (index === 0) return 0;
    const first = this.entries[0];
    if (first === undefined) return undefined;
    return this.entries[index - first.index]?.term;
  }

  /**
   * Persist a Ready (its snapshot chunks staged first, as the shell does before the synced
   * write); `tearAt` applies only that many operations (a crash mid-write).
   */
  save(rd: Ready, tearAt = Number.POSITIVE_INFINITY): void {
    const ops: (() => void)[] = [];
    for (const c of rd.snapshotChunks) {
      ops.push(() => {
        if (c.seq === 0) this.staging = [];
        this.staging.push(c.chunk);
      });
    }
    if (rd.snapshot !== null) {
      const { snapshot, install } = rd.snapshot;
      ops.push(() => {
        this.snapshot = snapshot;
        if (install) {
          this.appliedState = Buffer.concat(this.staging);
          this.applied = snapshot.meta.index;
          this.staging = [];
        }
      });
      ops.push(() => {
        this.entries = install ? [] : this.entries.filter((e) => e.index > snapshot.meta.index);
      });
    }
    const first = rd.entries[0];
    if (first !== undefined) {
      ops.push(() => {
        this.entries = this.entries.filter((e) => e.index < first.index);
      });
      for (const e of rd.entries) {
        ops.push(() => {
          const last = this.entries.at(-1);
          // a torn snapshot install can leave older entries below; keep the log contiguous
          if (last !== undefined && last.index + 1 !== e.index) this.entries = [];
          this.entries.push(e);
        });
      }
    }
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      ops.push(() => {
        this.hardState = hs;
      });
    }
    const n = Math.min(ops.length, tearAt);
    for (let i = 0; i < n; i++) ops[i]!();
  }

  saveApplied(index: number, state: Uint8Array): void {
    this.applied = index;
    this.appliedState = state;
  }

  hasEntry(index: number, term: number): boolean {
    if (this.snapshot !== null && index <= this.snapshot.meta.index) return true;
    return this.term(index) === term;
  }
}
