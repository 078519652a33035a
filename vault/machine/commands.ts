import { VaultError } from '../errors.ts';
import {
  claimToJson,
  deletionToJson,
  depositToJson,
  parseClaim,
  parseDeletion,
  parseDeposit,
  parsePing,
  parseSolution,
  parseTenantRegistration,
  pingToJson,
  solutionToJson,
  tenantRegistrationToJson,
} from '../protocol/index.ts';
import type { Command } from './types.ts';

/**
 * Commands as log entries: UTF-8 JSON of {type, body} with each body in its wire shape. Decoding
 * goes back through the strict wire parsers, so a command read from the log is validated exactly
 * like one that arrived over HTTP.
 */
export function encodeCommand(c: Command): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: c.type, body: commandToJson(c) }));
}

/** The JSON wire body of a command: what its HTTP request carries and what the log stores. */
export function commandToJson(c: Command): unknown {
  switch (c.type) {
    case 'registerTenant':
      return tenantRegistrationToJson(c.registration);
    case 'deposit':
      return depositToJson(c.deposit);
    case 'delete':
      return deletionToJson(c.deletion);
    case 'ping':
      return pingToJson(c.ping);
    case 'claim':
      return claimToJson(c.claim);
    case 'solve':
      return solutionToJson(c.solution);
    case 'beginEpoch':
      return {};
    case 'time':
      return { quorumTime: c.quorumTime };
  }
}

/** The largest quorum time a command may carry: 400 days of ms, far beyond any epoch's life. */
export const MAX_QUORUM_TIME_MS = 400 * 86_400_000;

function parseQuorumTime(body: Record<string, unknown> | null): number {
  const t = body?.quorumTime;
  if (body === null || Object.keys(body).length !== 1 || typeof t !== 'number') {
    throw new VaultError('MALFORMED', 'time: expected {quorumTime}');
  }
  if (!Number.isSafeInteger(t) || t < 1 || t > MAX_QUORUM_TIME_MS) {
    throw new VaultError('OUT_OF_RANGE', `time: quorumTime must be in [1, ${MAX_QUORUM_TIME_MS}]`);
  }
  return t;
}

/** `prechecked`: a log entry whose deposit the leader verified (see `parseDeposit`). */
export function decodeCommand(bytes: Uint8Array, prechecked = false): Command {
  let o: { type?: unknown; body?: unknown };
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new VaultError('MALFORMED', 'command is not valid JSON');
  }
  const body = (o?.body ?? null) as Record<string, unknown> | null;
  switch (o?.type) {
    case 'registerTenant':
      return { type: 'registerTenant', registration: parseTenantRegistration(body) };
    case 'deposit':
      return { type: 'deposit', deposit: parseDeposit(body, prechecked) };
    case 'delete':
      return { type: 'delete', deletion: parseDeletion(body) };
    case 'ping':
      return { type: 'ping', ping: parsePing(body) };
    case 'claim':
      return { type: 'claim', claim: parseClaim(body) };
    case 'solve':
      return { type: 'solve', solution: parseSolution(body) };
    case 'beginEpoch':
      return { type: 'beginEpoch' };
    case 'time':
      return { type: 'time', quorumTime: parseQuorumTime(body) };
    default:
      throw new VaultError('MALFORMED', 'unknown command type');
  }
}
