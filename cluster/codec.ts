import { Reader, Writer } from './bytes.ts';
import { MAX_NODE_ID_BYTES } from './conf.ts';
import { ClusterError } from './errors.ts';
import type { ConfState, Entry, EntryType, Message, MessageType, SnapshotMeta } from './types.ts';

/**
 * Wire format of peer messages (docs/raft.md §Message format): version byte, type byte, term,
 * from, to, then the type's fields. Integers are big-endian u64 (≤ 2^53), byte strings and node
 * ids u32-length-prefixed. Decoding is strict: unknown versions or types, oversized fields,
 * non-canonical booleans and trailing bytes are rejected.
 */
export const WIRE_VERSION = 2;
export const MAX_MESSAGE_BYTES = 64 << 20;
export const MAX_ENTRY_BYTES = 1 << 20;
export const MAX_ENTRIES_PER_MESSAGE = 65_536;
export const MAX_CHUNK_BYTES = 16 << 20;
export const MAX_CONF_MEMBERS = 1024;
const MAX_CLIENT_ID_BYTES = 256;

const TYPES: readonly MessageType[] = [
  'preVote',
  'vote',
  'preVoteResp',
  'voteResp',
  'append',
  'appendResp',
  'heartbeat',
  'heartbeatResp',
  'snapshot',
  'snapshotResp',
  'timeoutNow',
];
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'conf'];

export function encodeEntry(w: Writer, e: Entry): void {
  w.u64(e.index)
    .u64(e.term)
    .u8(ENTRY_TYPES.indexOf(e.type))
    .str(e.clientId)
    .u64(e.seq)
    .bytes(e.data);
}

export function decodeEntry(r: Reader): Entry {
  const index = r.u64();
  const term = r.u64();
  const type = ENTRY_TYPES[r.u8()];
  if (type === undefined) throw new ClusterError('CLUSTER_MALFORMED', 'unknown entry type');
  const clientId = r.str(MAX_CLIENT_ID_BYTES);
  const seq = r.u64();
  const data = r.bytes(MAX_ENTRY_BYTES);
  return { index, term, type, clientId, seq, data };
}

export function encodeConf(w: Writer, c: ConfState): void {
  w.u32(c.voters.length);
  for (const v of c.voters) w.str(v);
  w.u32(c.learners.length);
  for (const l of c.learners) w.str(l);
}

export function decodeConf(r: Reader): ConfState {
  const list = (): string[] => {
    const n = r.u32();
    if (n > MAX_CONF_MEMBERS) throw new ClusterError('CLUSTER_TOO_LARGE', 'too many members');
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(r.str(MAX_NODE_ID_BYTES));
    return out;
  };
  return { voters: list(), learners: list() };
}

export function encodeSnapshotMeta(w: Writer, m: SnapshotMeta): void {
  w.u64(m.index).u64(m.term);
  encodeConf(w, m.conf);
}

export function decodeSnapshotMeta(r: Reader): SnapshotMeta {
  return { index: r.u64(), term: r.u64(), conf: decodeConf(r) };
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer()
    .u8(WIRE_VERSION)
    .u8(TYPES.indexOf(m.type))
    .u64(m.term)
    .str(m.from)
    .str(m.to);
  switch (m.type) {
    case 'preVote':
    case 'vote':
      w.u64(m.lastIndex)
        .u64(m.lastTerm)
        .u8(m.transfer ? 1 : 0);
      break;
    case 'preVoteResp':
    case 'voteResp':
      w.u8(m.reject ? 1 : 0);
      break;
    case 'append':
      w.u64(m.prevIndex).u64(m.prevTerm).u64(m.commit).u32(m.entries.length);
      for (const e of m.entries) encodeEntry(w, e);
      break;
    case 'appendResp':
      w.u8(m.reject ? 1 : 0)
        .u64(m.index)
        .u64(m.hint)
        .u64(m.clock);
      break;
    case 'heartbeat':
      w.u64(m.commit);
      break;
    case 'heartbeatResp':
      w.u64(m.clock);
      break;
    case 'timeoutNow':
      break;
    case 'snapshot':
      encodeSnapshotMeta(w, m.meta);
      w.u64(m.seq)
        .u8(m.last ? 1 : 0)
        .bytes(m.chunk);
      break;
    case 'snapshotResp':
      w.u64(m.snapshotIndex).u64(m.nextSeq);
      break;
  }
  const out = w.finish();
  if (out.length > MAX_MESSAGE_BYTES)
    throw new ClusterError('CLUSTER_TOO_LARGE', 'message too large');
  return out;
}

export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length > MAX_MESSAGE_BYTES)
    throw new ClusterError('CLUSTER_TOO_LARGE', 'message too large');
  const r = new Reader(bytes);
  if (r.u8() !== WIRE_VERSION) throw new ClusterError('CLUSTER_MALFORMED', 'unknown wire version');
  const type = TYPES[r.u8()];
  if (type === undefined) throw new ClusterError('CLUSTER_MALFORMED', 'unknown message type');
  const term = r.u64();
  const from = r.str(MAX_NODE_ID_BYTES);
  const to = r.str(MAX_NODE_ID_BYTES);
  if (from === '' || to === '') throw new ClusterError('CLUSTER_MALFORMED', 'empty node id');
  const h = { term, from, to };
  let m: Message;
  switch (type) {
    case 'preVote':
    case 'vote':
      m = { type, ...h, lastIndex: r.u64(), lastTerm: r.u64(), transfer: r.bool() };
      break;
    case 'preVoteResp':
    case 'voteResp':
      m = { type, ...h, reject: r.bool() };
      break;
    case 'append': {
      const prevIndex = r.u64();
      const prevTerm = r.u64();
      const commit = r.u64();
      const n = r.u32();
      if (n > MAX_ENTRIES_PER_MESSAGE)
        throw new ClusterError('CLUSTER_TOO_LARGE', 'too many entries');
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) {
        const e = decodeEntry(r);
        if (e.index !== prevIndex + 1 + i || e.term > term) {
          throw new ClusterError('CLUSTER_MALFORMED', 'entries are not contiguous after prevIndex');
        }
        entries.push(e);
      }
      m = { type, ...h, prevIndex, prevTerm, commit, entries };
      break;
    }
    case 'appendResp':
      m = { type, ...h, reject: r.bool(), index: r.u64(), hint: r.u64(), clock: r.u64() };
      break;
    case 'heartbeat':
      m = { type, ...h, commit: r.u64() };
      break;
    case 'heartbeatResp':
      m = { type, ...h, clock: r.u64() };
      break;
    case 'timeoutNow':
      m = { type, ...h };
      break;
    case 'snapshot': {
      const meta = decodeSnapshotMeta(r);
      const seq = r.u64();
      const last = r.u8();
      if (last > 1) throw new ClusterError('CLUSTER_MALFORMED', 'snapshot chunk: bad last flag');
      const chunk = r.bytes(MAX_CHUNK_BYTES);
      m = { type, ...h, meta, seq, last: last === 1, chunk };
      break;
    }
    case 'snapshotResp':
      m = { type, ...h, snapshotIndex: r.u64(), nextSeq: r.u64() };
      break;
  }
  r.end();
  return m;
}
