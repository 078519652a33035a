/**
 * What a replicated vault log entry carries (the data of a Raft entry), and the reply format.
 * A vault command travels with the proposer's context — timestamp, epoch id and random bytes —
 * but never with the epoch secret (P4); the cluster keys travel once, in the genesis entry.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Reader, Writer } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import {
  type Command,
  type CommandResult,
  decodeCommand,
  encodeCommand,
} from '../machine/index.ts';

export const EPOCH_ID_BYTES = 16;
export const RANDOM_BYTES = 32;
export const DIGEST_BYTES = 32;
const KEY_BYTES = 32;
const MAX_BLOB = 64 * 1024 * 1024;

export interface ClusterSecrets {
  clusterId: Uint8Array;
  clusterSecretKey: Uint8Array;
  receiptSecretKey: Uint8Array;
  operatorKey: Uint8Array;
  limits: {
    pingNonceTtlMs: number;
    claimNonceTtlMs: number;
    claimIntervalMs: number;
    maxTenants: number;
  };
}

export interface Member {
  id: string;
  /** The node's static X25519 key: the key its peer links authenticate with. */
  publicKey: Uint8Array;
  host: string;
  port: number;
  httpUrl: string;
  /** Attestation document binding `publicKey` in user_data. */
  attestation: Uint8Array;
  /** The operator's slot (e.g. node-2); a newer generation in a slot replaces the older one. */
  slot: string;
  generation: number;
}

export type LogCommand =
  | { kind: 'genesis'; secrets: ClusterSecrets; members: Member[] }
  /**
   * The genesis of a recovered vault: every founder holds the recovered state locally (sealed
   * `recovered/ copy`), so the entry carries only its digest, which each founder checks before
   * applying its own copy. Kind 2 (the whole state in one entry, capped at 1 MiB) is retired.
   */
  | { kind: 'recovered'; digest: Uint8Array; members: Member[] }
  | {
      kind: 'vault';
      timestamp: number;
      epochId: Uint8Array;
      random: Uint8Array;
      command: Command;
      /** The proposer ran the command's stateless checks (a deposit's `verifyDeposit`). */
      prechecked?: boolean;
      /** `encodeCommand(command)`, when the proposer already encoded it (for its workers). */
      encoded?: Uint8Array;
    }
  | { kind: 'addMember'; member: Member }
  | { kind: 'removeMember'; id: string }
  /**
   * A quorum-clock reading for the epoch `epochId` (vault/replicated/quorum-clock.ts): its own
   * kind, so a node's admission hook finds it from the first byte without decoding anything else.
   */
  | { kind: 'time'; epochId: Uint8Array; quorumTime: number }
  /** Benchmark-only (`npm run bench:cluster`): an opaque payload that changes no state. */
  | { kind: 'benchPut'; payload: Uint8Array };

const KIND = {
  genesis: 1,
  vault: 3,
  addMember: 4,
  removeMember: 5,
  benchPut: 6,
  recovered: 7,
  /** A vault command the proposer prechecked: the same layout as `vault`. */
  vaultPrechecked: 8,
  time: 9,
} as const;

/** The reading a `time` entry carries, or null for any other entry (cheap: no full decode). */
export function timeEntryReading(data: Uint8Array): number | null {
  if (data[0] !== KIND.time) return null;
  try {
    const c = decodeLogCommand(data);
    return c.kind === 'time' ? c.quorumTime : null;
  } catch {
    return null; // malformed: admitted, and rejected alike by every replica's apply
  }
}

const RECOVERED_TAG = 'vigil/v1/cluster/recovered-state';

/** SHA-256 of a recovered vault's bytes, domain-separated and length-prefixed. */
export function recoveredDigest(state: Uint8Array): Uint8Array {
  return sha256(new Writer().str(RECOVERED_TAG).bytes(state).finish());
}

export function writeSecrets(w: Writer, s: ClusterSecrets): Writer {
  w.bytes(s.clusterId).bytes(s.clusterSecretKey).bytes(s.receiptSecretKey).bytes(s.operatorKey);
  const l = s.limits;
  return w.u64(l.pingNonceTtlMs).u64(l.claimNonceTtlMs).u64(l.claimIntervalMs).u64(l.maxTenants);
}

export function readSecrets(r: Reader): ClusterSecrets {
  const key = () => {
    const k = r.bytes(KEY_BYTES);
    if (k.length !== KEY_BYTES)
      throw new VaultError('STORAGE_CORRUPT', 'bad cluster key length', 500);
    return k;
  };
  return {
    clusterId: key(),
    clusterSecretKey: key(),
    receiptSecretKey: key(),
    operatorKey: key(),
    limits: {
      pingNonceTtlMs: r.u64(),
      claimNonceTtlMs: r.u64(),
      claimIntervalMs: r.u64(),
      maxTenants: r.u64(),
    },
  };
}

export function writeMember(w: Writer, m: Member): Writer {
  w.str(m.id).bytes(m.publicKey).str(m.host).u32(m.port).str(m.httpUrl).bytes(m.attestation);
  return w.str(m.slot).u32(m.generation);
}

export function readMember(r: Reader): Member {
  return {
    id: r.str(256),
    publicKey: r.bytes(KEY_BYTES),
    host: r.str(256),
    port: r.u32(),
    httpUrl: r.str(1024),
    attestation: r.bytes(64 * 1024),
    slot: r.str(256),
    generation: r.u32(),
  };
}

function writeMembers(w: Writer, list: readonly Member[]): void {
  w.u32(list.length);
  for (const m of list) writeMember(w, m);
}

function readMembers(r: Reader): Member[] {
  const n = r.u32();
  if (n > 64) throw new Error('too many members');
  const out: Member[] = [];
  for (let i = 0; i < n; i++) out.push(readMember(r));
  return out;
}

export function encodeLogCommand(c: LogCommand): Uint8Array {
  const kind = c.kind === 'vault' && c.prechecked ? KIND.vaultPrechecked : KIND[c.kind];
  const w = new Writer().u8(kind);
  switch (c.kind) {
    case 'genesis':
      writeSecrets(w, c.secrets);
      writeMembers(w, c.members);
      break;
    case 'recovered':
      w.bytes(c.digest);
      writeMembers(w, c.members);
      break;
    case 'vault':
      w.u64(c.timestamp).bytes(c.epochId).bytes(c.random);
      w.bytes(c.encoded ?? encodeCommand(c.command));
      break;
    case 'addMember':
      writeMember(w, c.member);
      break;
    case 'removeMember':
      w.str(c.id);
      break;
    case 'time':
      w.bytes(c.epochId).u64(c.quorumTime);
      break;
    case 'benchPut':
      w.bytes(c.payload);
      break;
  }
  return w.finish();
}

/** Strict: a malformed entry is a MALFORMED VaultError (the same on every replica). */
export function decodeLogCommand(bytes: Uint8Array): LogCommand {
  try {
    const r = new Reader(bytes);
    const kind = r.u8();
    let out: LogCommand;
    if (kind === KIND.genesis)
      out = { kind: 'genesis', secrets: readSecrets(r), members: readMembers(r) };
    else if (kind === KIND.recovered) {
      const digest = r.bytes(DIGEST_BYTES);
      if (digest.length !== DIGEST_BYTES) throw new Error('digest length');
      out = { kind: 'recovered', digest, members: readMembers(r) };
    } else if (kind === KIND.vault || kind === KIND.vaultPrechecked) {
      const timestamp = r.u64();
      const epochId = r.bytes(EPOCH_ID_BYTES);
      const random = r.bytes(RANDOM_BYTES);
      if (epochId.length !== EPOCH_ID_BYTES || random.length !== RANDOM_BYTES)
        throw new Error('context lengths');
      const prechecked = kind === KIND.vaultPrechecked;
      out = {
        kind: 'vault',
        timestamp,
        epochId,
        random,
        command: decodeCommand(r.bytes(MAX_BLOB), prechecked),
        ...(prechecked ? { prechecked: true } : {}),
      };
    } else if (kind === KIND.addMember) out = { kind: 'addMember', member: readMember(r) };
    else if (kind === KIND.removeMember) out = { kind: 'removeMember', id: r.str(256) };
    else if (kind === KIND.time) {
      const epochId = r.bytes(EPOCH_ID_BYTES);
      if (epochId.length !== EPOCH_ID_BYTES) throw new Error('epoch id length');
      out = { kind: 'time', epochId, quorumTime: r.u64() };
    } else if (kind === KIND.benchPut) out = { kind: 'benchPut', payload: r.bytes(64 * 1024) };
    else throw new Error('unknown kind');
    r.end();
    return out;
  } catch (e) {
    if (e instanceof VaultError) throw e;
    throw new VaultError('MALFORMED', 'malformed replicated log entry');
  }
}

// ── replies: a command's result or its rejection, as bytes every replica computes alike ──

export type Reply = { ok: true; result: CommandResult | null } | { ok: false; error: VaultError };

const BYTES_TAG = '$bytes';

export function encodeReply(reply: Reply): Uint8Array {
  const body = reply.ok
    ? { ok: true, result: reply.result }
    : {
        ok: false,
        code: reply.error.code,
        message: reply.error.message,
        status: reply.error.status,
        retryAfterSeconds: reply.error.retryAfterSeconds,
      };
  const json = JSON.stringify(body, (_k, v) =>
    v instanceof Uint8Array ? { [BYTES_TAG]: Buffer.from(v).toString('hex') } : v,
  );
  return new TextEncoder().encode(json);
}

export function decodeReply(bytes: Uint8Array): Reply {
  const body = JSON.parse(new TextDecoder().decode(bytes), (_k, v) =>
    v !== null &&
    typeof v === 'object' &&
    typeof v[BYTES_TAG] === 'string' &&
    Object.keys(v).length === 1
      ? new Uint8Array(Buffer.from(v[BYTES_TAG], 'hex'))
      : v,
  );
  if (body.ok === true) return { ok: true, result: body.result as CommandResult | null };
  const retryAfterSeconds = Number.isSafeInteger(body.retryAfterSeconds)
    ? { retryAfterSeconds: body.retryAfterSeconds as number }
    : {};
  return {
    ok: false,
    error: new VaultError(body.code, body.message, body.status, retryAfterSeconds),
  };
}
