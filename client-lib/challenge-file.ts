/**
 * Solving elsewhere (docs/client.md, "Solving elsewhere"): a phone cannot square for weeks, so
 * a claim's VDF challenge leaves the device as a file, any solver computes y = x^(2^T) and its
 * proof (`vigil vdf solve --challenge` on a desktop, or Chia's chiavdf for class1024), and the
 * proof comes back to be checked here and submitted. The file carries no secret: the claim is
 * bound to the ephemeral key that stays in the device's claim state, so whoever solves it can
 * only hand the proof back. Parsing is strict and recomputes every derived field from the seed.
 * Portable (the VDF's portable face): the client SDK runs this same code in browsers.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  deriveInput,
  type GroupName,
  groupParameter,
  isGroupName,
  MAX_ITERATIONS,
  parseProofFile,
  VdfError,
  type VdfProofRecord,
  verifyProof,
} from '../vdf/portable.ts';
import type { CommittedClaim } from './claim-state.ts';
import { nodeOrigin } from './cluster-nodes.ts';
import { ClientError } from './errors.ts';

export const CHALLENGE_FORMAT = 'vigil-vdf-challenge/v1';
export const MAX_CHALLENGE_FILE_BYTES = 16 * 1024;
/** chiavdf's BQFC element size for 1024-bit discriminants, and one n-Wesolowski segment. */
const CLASS1024_ELEMENT_BYTES = 100;
const CHIA_SEGMENT_BYTES = 141;
const MAX_CHIA_SEGMENTS = 64;

export interface ChallengeFile {
  format: typeof CHALLENGE_FORMAT;
  group: GroupName;
  /** The vault's challenge seed: chiavdf's challenge_hash for class1024. */
  seed: Uint8Array;
  /** class1024: D = −HashPrime(seed, 1024, {0,1,2,1023}); rsa2048: the RSA-2048 modulus N. */
  discriminant?: bigint;
  modulus?: bigint;
  /** x: the form (2, 1) in BQFC for class1024; the seed's SHAKE256 element for rsa2048. */
  input: Uint8Array;
  iterations: number;
  claimId: Uint8Array;
  walletId: Uint8Array;
  vault: { clusterId: Uint8Array; urls: string[] };
}

const bad = (why: string) => new ClientError('CHALLENGE_FILE', `challenge file: ${why}`);

export function challengeFor(args: {
  claim: CommittedClaim;
  walletId: Uint8Array;
  clusterId: Uint8Array;
  vaultUrls: readonly string[];
}): ChallengeFile {
  const { claim } = args;
  const parameter = groupParameter(claim.group, claim.seed);
  return {
    format: CHALLENGE_FORMAT,
    group: claim.group,
    seed: claim.seed,
    ...(claim.group === 'class1024' ? { discriminant: parameter } : { modulus: parameter }),
    input: deriveInput(claim.group, claim.seed),
    iterations: claim.iterations,
    claimId: claim.claimId,
    walletId: args.walletId,
    vault: { clusterId: args.clusterId, urls: [...args.vaultUrls] },
  };
}

export function encodeChallengeFile(c: ChallengeFile): string {
  const obj = {
    format: c.format,
    group: c.group,
    seed: bytesToHex(c.seed),
    ...(c.discriminant !== undefined ? { discriminant: c.discriminant.toString(10) } : {}),
    ...(c.modulus !== undefined ? { modulus: c.modulus.toString(16) } : {}),
    input: bytesToHex(c.input),
    iterations: c.iterations,
    claimId: bytesToHex(c.claimId),
    walletId: bytesToHex(c.walletId),
    vault: { clusterId: bytesToHex(c.vault.clusterId), urls: c.vault.urls },
  };
  return `${JSON.stringify(obj, null, 2)}\n`;
}

const KEYS = [
  'format',
  'group',
  'seed',
  'discriminant',
  'modulus',
  'input',
  'iterations',
  'claimId',
  'walletId',
  'vault',
];

function hexField(o: Record<string, unknown>, key: string, len?: number): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(v)) {
    throw bad(`"${key}" must be lowercase hex bytes`);
  }
  if (len !== undefined && v.length !== len * 2) throw bad(`"${key}" must be ${len} bytes`);
  return hexToBytes(v);
}

/** Parses and checks a challenge file: every derived field must match what the seed gives. */
export function parseChallengeFile(text: string): ChallengeFile {
  if (new TextEncoder().encode(text).length > MAX_CHALLENGE_FILE_BYTES) {
    throw bad(`larger than ${MAX_CHALLENGE_FILE_BYTES} bytes`);
  }
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not a JSON object');
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw bad(`unknown key "${k}"`);
  if (o.format !== CHALLENGE_FORMAT) throw bad(`"format" must be "${CHALLENGE_FORMAT}"`);
  if (!isGroupName(o.group)) throw bad('"group" must be "rsa2048" or "class1024"');
  const group = o.group;
  const seed = hexField(o, 'seed');
  if (seed.length > 1024) throw bad('"seed" is longer than 1024 bytes');
  const { iterations } = o;
  if (!Number.isSafeInteger(iterations) || (iterations as number) < 1) {
    throw bad('"iterations" must be a positive integer');
  }
  if ((iterations as number) > MAX_ITERATIONS) throw bad(`"iterations" above ${MAX_ITERATIONS}`);
  const parameter = groupParameter(group, seed);
  const stated = group === 'class1024' ? o.discriminant : o.modulus;
  const other = group === 'class1024' ? 'modulus' : 'discriminant';
  if (other in o) throw bad(`"${other}" does not belong to ${group}`);
  const expected = group === 'class1024' ? parameter.toString(10) : parameter.toString(16);
  if (stated !== expected) {
    throw bad(
      group === 'class1024'
        ? '"discriminant" is not the one the seed gives'
        : '"modulus" is not the RSA-2048 modulus',
    );
  }
  const input = hexField(o, 'input');
  const derived = deriveInput(group, seed);
  if (bytesToHex(input) !== bytesToHex(derived)) throw bad('"input" is not the seed\'s x');
  const vault = o.vault as { clusterId?: unknown; urls?: unknown } | null;
  if (typeof vault !== 'object' || vault === null) throw bad('"vault" must be an object');
  if (Object.keys(vault).some((k) => k !== 'clusterId' && k !== 'urls')) {
    throw bad('"vault" has an unknown key');
  }
  const urls = vault.urls;
  if (!Array.isArray(urls) || urls.length > 64) throw bad('"vault.urls": at most 64 URLs');
  for (const u of urls) {
    if (typeof u !== 'string' || nodeOrigin(u) === null) throw bad(`"vault.urls": bad URL`);
  }
  return {
    format: CHALLENGE_FORMAT,
    group,
    seed,
    ...(group === 'class1024' ? { discriminant: parameter } : { modulus: parameter }),
    input,
    iterations: iterations as number,
    claimId: hexField(o, 'claimId', 32),
    walletId: hexField(o, 'walletId', 32),
    vault: {
      clusterId: hexField(vault as Record<string, unknown>, 'clusterId', 32),
      urls: urls as string[],
    },
  };
}

/**
 * A proof for the challenge from chiavdf's output: the bytes `prove()` returns (Python binding,
 * or `prove_wrapper` of libchiavdfc) are y (100 B) ‖ π (100 B) ‖ d segments of 141 B, which is
 * Vigil's output ‖ proof. Checked here before it is written anywhere.
 */
export function proofFromChiavdf(c: ChallengeFile, blob: Uint8Array): VdfProofRecord {
  if (c.group !== 'class1024') throw bad('chiavdf proofs are for class1024 challenges');
  const extra = blob.length - 2 * CLASS1024_ELEMENT_BYTES;
  if (
    extra < 0 ||
    extra % CHIA_SEGMENT_BYTES !== 0 ||
    extra / CHIA_SEGMENT_BYTES > MAX_CHIA_SEGMENTS
  ) {
    throw new ClientError(
      'PROOF_INVALID',
      `chiavdf output must be 200 + 141·d bytes (d ≤ ${MAX_CHIA_SEGMENTS}); got ${blob.length}`,
    );
  }
  const record: VdfProofRecord = {
    group: c.group,
    seed: c.seed,
    iterations: c.iterations,
    input: c.input,
    output: blob.slice(0, CLASS1024_ELEMENT_BYTES),
    proof: blob.slice(CLASS1024_ELEMENT_BYTES),
  };
  checkProofForClaim(
    { claimId: c.claimId, seed: c.seed, group: c.group, iterations: c.iterations, logIndex: 0 },
    record,
  );
  return record;
}

/**
 * A proof made elsewhere must answer this claim's challenge (group, seed, T and x) and verify;
 * checked before it is sent, so a wrong file is reported as such and not as a vault refusal.
 */
export function checkProofForClaim(claim: CommittedClaim, record: VdfProofRecord): void {
  if (
    record.group !== claim.group ||
    bytesToHex(record.seed) !== bytesToHex(claim.seed) ||
    record.iterations !== claim.iterations
  ) {
    throw new ClientError(
      'PROOF_MISMATCH',
      `the proof is for another challenge (${record.group}, ${record.iterations} squarings, seed ` +
        `${bytesToHex(record.seed).slice(0, 16)}…) than claim ${bytesToHex(claim.claimId)} ` +
        `(${claim.group}, ${claim.iterations} squarings, seed ${bytesToHex(claim.seed).slice(0, 16)}…)`,
    );
  }
  const outcome = verifyProof(record, { maxIterations: claim.iterations });
  if (!outcome.valid) {
    throw new ClientError(
      'PROOF_INVALID',
      `the proof does not verify: ${outcome.reason} (${outcome.code})`,
    );
  }
}

/**
 * A proof file (`vigil vdf solve --out`, `vigil vdf from-chiavdf --out`) for this claim: parsed
 * strictly, then held to the claim's challenge and verified (checkProofForClaim). What it returns
 * is the solution to submit.
 */
export function checkProofFile(claim: CommittedClaim, text: string): VdfProofRecord {
  let record: VdfProofRecord;
  try {
    record = parseProofFile(text);
  } catch (err) {
    if (!(err instanceof VdfError)) throw err;
    throw new ClientError('PROOF_INVALID', `${err.message} (${err.code})`);
  }
  checkProofForClaim(claim, record);
  return record;
}
