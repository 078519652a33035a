/**
 * A hash-chained audit log per wallet: each record carries the hash of the one before it, so
 * removing, reordering or editing a record breaks every later link. Records say what happened,
 * never a secret. Pure: the time enters as an argument.
 */
import { canonicalHash, u64, utf8 } from '../../vault/index.ts';

export type AuditDetails = Record<string, string | number | boolean>;

export interface AuditRecord {
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  event: string;
  details: AuditDetails;
  /** Hex hash of the previous record; 64 zeros for the first. */
  prev: string;
  hash: string;
}

export const AUDIT_GENESIS = '0'.repeat(64);

function detailsBytes(details: AuditDetails): Uint8Array {
  const keys = Object.keys(details).sort();
  return utf8(JSON.stringify(keys.map((k) => [k, details[k]])));
}

export function auditHash(r: Omit<AuditRecord, 'hash'>, walletId: string): string {
  return Buffer.from(
    canonicalHash('vigil/cosigner/audit/v1', [
      utf8(walletId),
      u64(r.seq),
      u64(r.time),
      utf8(r.event),
      detailsBytes(r.details),
      Buffer.from(r.prev, 'hex'),
    ]),
  ).toString('hex');
}

export function nextAuditRecord(
  walletId: string,
  previous: AuditRecord | undefined,
  time: number,
  event: string,
  details: AuditDetails = {},
): AuditRecord {
  const unhashed = {
    seq: previous ? previous.seq + 1 : 0,
    time,
    event,
    details,
    prev: previous ? previous.hash : AUDIT_GENESIS,
  };
  return { ...unhashed, hash: auditHash(unhashed, walletId) };
}

/** Index of the first record that breaks the chain, or -1 when the whole chain verifies. */
export function verifyAuditChain(walletId: string, records: readonly AuditRecord[]): number {
  let prev = AUDIT_GENESIS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as AuditRecord;
    const { hash, ...rest } = r;
    if (r.seq !== i || r.prev !== prev || auditHash(rest, walletId) !== hash) return i;
    prev = hash;
  }
  return -1;
}
