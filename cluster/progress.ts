import type { NodeId, Snapshot } from './types.ts';

/**
 * The leader's view of one peer (etcd's tracker): `probe` sends one append and waits for an answer,
 * `replicate` pipelines appends within the in-flight caps, `snapshot` streams snapshot chunks.
 */
export class Progress {
  readonly id: NodeId;
  match = 0;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot' = 'probe';
  /** In probe state: an append is outstanding, wait for a reply or the next heartbeat. */
  probeSent = false;
  /** The highest clock reading the peer reported (`Raft.quorumClock`). */
  clock = 0;
  /** The highest commit index sent to the peer (appends, heartbeats). */
  sentCommit = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Last index of each in-flight append with its byte size, oldest first. */
  inflight: { index: number; bytes: number }[] = [];
  inflightBytes = 0;
  /** Snapshot transfer: the snapshot being sent and the next chunk the peer asked for. */
  snapshotIndex = 0;
  snapshotSeq = 0;
  /** The snapshot being streamed, pinned so later compactions cannot restart the transfer. */
  snapshot: Snapshot | null = null;
  snapshotStalled = 0;

  constructor(id: NodeId, next: number) {
    this.id = id;
    this.next = next;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.reset('replicate');
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.reset('snapshot');
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot.meta.index;
    this.snapshotSeq = 0;
  }

  private reset(state: Progress['state']): void {
    this.state = state;
    this.probeSent = false;
    this.inflight = [];
    this.inflightBytes = 0;
    this.snapshotIndex = 0;
    this.snapshotSeq = 0;
    this.snapshotStalled = 0;
    this.snapshot = null;
  }

  /** Accept an acknowledgement up to `index`; true when the match index moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.freeInflightTo(index);
    return updated;
  }

  /** A rejection of an append at `rejected`; false if it is stale. */
  maybeDecrease(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  sentAppend(lastIndex: number, bytes: number, entries: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflight.push({ index: lastIndex, bytes });
        this.inflightBytes += bytes;
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  freeInflightTo(index: number): void {
    while (this.inflight.length > 0 && this.inflight[0]!.index <= index) {
      this.inflightBytes -= this.inflight.shift()!.bytes;
    }
  }

  isPaused(maxMessages: number, maxBytes: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxMessages || this.inflightBytes >= maxBytes;
      case 'snapshot':
        return true;
    }
  }
}
