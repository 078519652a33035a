/**
 * A committed vault command as written to the node's log: the command and the proposer's context,
 * without the epoch secret (P4: it never touches disk) and without the cluster's private keys.
 */
import { VaultError } from '../errors.ts';
import { type Command, decodeCommand, encodeCommand } from '../machine/index.ts';

export const EPOCH_ID_BYTES = 16;
export const RANDOM_BYTES = 32;
const HEADER_BYTES = 8 + 8 + EPOCH_ID_BYTES + RANDOM_BYTES;

export interface LogEntry {
  logIndex: number;
  timestamp: number;
  epochId: Uint8Array;
  random: Uint8Array;
  command: Command;
}

export function encodeEntry(e: LogEntry): Uint8Array {
  const body = encodeCommand(e.command);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(e.logIndex));
  view.setBigUint64(8, BigInt(e.timestamp));
  out.set(e.epochId, 16);
  out.set(e.random, 16 + EPOCH_ID_BYTES);
  out.set(body, HEADER_BYTES);
  return out;
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  if (bytes.length <= HEADER_BYTES)
    throw new VaultError('STORAGE_CORRUPT', 'log entry too short', 500);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    logIndex: Number(view.getBigUint64(0)),
    timestamp: Number(view.getBigUint64(8)),
    epochId: bytes.slice(16, 16 + EPOCH_ID_BYTES),
    random: bytes.slice(16 + EPOCH_ID_BYTES, HEADER_BYTES),
    command: decodeCommand(bytes.subarray(HEADER_BYTES)),
  };
}
