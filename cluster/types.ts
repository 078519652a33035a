/**
 * The data the Raft core consumes and produces. Node ids are opaque strings (in production the
 * node's attested public key, fresh per enclave start and never reused).
 */
export type NodeId = string;

/** `noop` is the leader's first entry of its term; `conf` carries a `ConfChange`. */
export type EntryType = 'normal' | 'noop' | 'conf';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  /** Client session: '' and 0 for entries without one. The applier dedups on (clientId, seq). */
  readonly clientId: string;
  readonly seq: number;
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId; // '' when none
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Single-server changes only: a node joins as a learner and is promoted once caught up. */
export type ConfChangeOp = 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  readonly op: ConfChangeOp;
  readonly node: NodeId;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

/**
 * A snapshot as the core sees it: only where it stands. The state itself lives in the shell's
 * store (the applied state machine at `meta.index`), and is streamed to a follower by the shell
 * in chunks the core never holds whole (etcd's merged snapshot message does the same).
 */
export interface Snapshot {
  readonly meta: SnapshotMeta;
}

interface Header {
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

export interface VoteRequest extends Header {
  readonly type: 'preVote' | 'vote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set by a leadership-transfer campaign: voters skip their check-quorum lease. */
  readonly transfer: boolean;
}

export interface VoteResponse extends Header {
  readonly type: 'preVoteResp' | 'voteResp';
  readonly reject: boolean;
}

export interface AppendRequest extends Header {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends Header {
  readonly type: 'appendResp';
  readonly reject: boolean;
  /** Accepted: the follower's match index. Rejected: the prevIndex that did not match. */
  readonly index: number;
  /** Rejected: the follower's last index, so the leader can skip back quickly. */
  readonly hint: number;
  /** The sender's clock as its shell last set it (`Raft.setClock`): the quorum clock's input. */
  readonly clock: number;
}

export interface Heartbeat extends Header {
  readonly type: 'heartbeat';
  readonly commit: number;
}

export interface HeartbeatResponse extends Header {
  readonly type: 'heartbeatResp';
  /** As in `AppendResponse`. */
  readonly clock: number;
}

/**
 * Chunk `seq` of the snapshot at `meta`. The leader's core asks for it with an empty `chunk`;
 * its shell reads the chunk from its store and fills `chunk` and `last` before sending.
 */
export interface SnapshotChunk extends Header {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly seq: number;
  /** The final chunk: once it is staged the snapshot is complete. */
  readonly last: boolean;
  readonly chunk: Uint8Array;
}

export interface SnapshotChunkResponse extends Header {
  readonly type: 'snapshotResp';
  readonly snapshotIndex: number;
  /** The chunk the follower wants next (0 restarts a broken transfer). */
  readonly nextSeq: number;
}

/** A received snapshot chunk the follower's shell must stage before the Ready's messages go. */
export interface StagedChunk {
  readonly meta: SnapshotMeta;
  readonly seq: number;
  readonly chunk: Uint8Array;
}

export interface TimeoutNow extends Header {
  readonly type: 'timeoutNow';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotChunkResponse
  | TimeoutNow;

export type MessageType = Message['type'];

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/**
 * One batch of work for the shell, in this order: stage `snapshotChunks`; persist `snapshot`,
 * `entries` and `hardState` in one write (entries replace every stored entry at or above
 * `entries[0].index`), synced when `mustSync`; only then send `messages` (except those `canSendBeforePersist` allows to go out
 * during the write); then apply `committed` in order (restoring from `snapshot` first when
 * `snapshot.install`); then call `advance(ready)`.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: { readonly snapshot: Snapshot; readonly install: boolean } | null;
  /**
   * Snapshot chunks to stage, in order and before anything else of this Ready: `seq` 0 starts
   * over. A `snapshot` with `install` (in this Ready, with the last chunk) makes the staged
   * chunks the applied state. Chunks of one snapshot index must cut the same state the same way
   * whichever attempt (or leader) sent them: the follower accepts any chunk whose position fits.
   */
  readonly snapshotChunks: readonly StagedChunk[];
  readonly messages: readonly Message[];
  readonly committed: readonly Entry[];
  /**
   * False when the only thing to persist is a new commit index: losing it in a crash is harmless
   * (the leader tells it again), so the messages need not wait for it and the shell may write it
   * later, with its next synced batch.
   */
  readonly mustSync: boolean;
}

export interface PeerStatus {
  readonly id: NodeId;
  readonly voter: boolean;
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly inflightMessages: number;
  readonly inflightBytes: number;
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly role: Role;
  readonly leader: NodeId;
  readonly vote: NodeId;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly conf: ConfState;
  /** Filled on the leader only. */
  readonly peers: readonly PeerStatus[];
}
