/**
 * The proof file: one JSON object {group, seed, iterations, input?, output, proof} with lowercase
 * hex. Parsing is strict (size cap before parsing, no unknown keys, exact lengths) and throws
 * VdfError; it checks shapes only, the verifier checks the maths.
 */
import { fromHexStrict, toHex, utf8 } from './bytes.ts';
import { VdfError } from './errors.ts';
import type { GroupName } from './group.ts';
import { ELEMENT_BYTES, isGroupName } from './groups.ts';
import { checkIterations, MAX_SEED_BYTES } from './limits.ts';

export interface VdfProofRecord {
  group: GroupName;
  seed: Uint8Array;
  iterations: number;
  /** The challenge input; when absent it is derived from the seed. */
  input?: Uint8Array;
  output: Uint8Array;
  proof: Uint8Array;
}

/** Chia's n-Wesolowski segments (141 bytes each) after π; 64 is far above any depth Chia uses. */
export const MAX_PROOF_SEGMENTS = 64;
export const CLASS1024_SEGMENT_BYTES = 141;
export const MAX_PROOF_FILE_BYTES = 64 * 1024;

const KEYS = new Set(['group', 'seed', 'iterations', 'input', 'output', 'proof']);

/** Checks proof length per group before any decoding work. */
export function checkProofLength(group: GroupName, proof: Uint8Array): void {
  const e = ELEMENT_BYTES[group];
  if (group === 'rsa2048') {
    if (proof.length !== e) throw new VdfError('VDF_MALFORMED', `rsa2048 proof must be ${e} bytes`);
    return;
  }
  const extra = proof.length - e;
  if (extra < 0 || extra % CLASS1024_SEGMENT_BYTES !== 0)
    throw new VdfError('VDF_MALFORMED', `class1024 proof must be ${e} + 141·d bytes`);
  if (extra / CLASS1024_SEGMENT_BYTES > MAX_PROOF_SEGMENTS)
    throw new VdfError(
      'VDF_OUT_OF_RANGE',
      `class1024 proof has more than ${MAX_PROOF_SEGMENTS} segments`,
    );
}

export function checkElementLength(group: GroupName, what: string, bytes: Uint8Array): void {
  if (bytes.length !== ELEMENT_BYTES[group])
    throw new VdfError(
      'VDF_MALFORMED',
      `${what} must be ${ELEMENT_BYTES[group]} bytes for ${group}`,
    );
}

export function encodeProofFile(r: VdfProofRecord): string {
  const obj: Record<string, unknown> = {
    group: r.group,
    seed: toHex(r.seed),
    iterations: r.iterations,
  };
  if (r.input) obj.input = toHex(r.input);
  obj.output = toHex(r.output);
  obj.proof = toHex(r.proof);
  return `${JSON.stringify(obj, null, 2)}\n`;
}

function hexField(obj: Record<string, unknown>, key: string): Uint8Array {
  const v = obj[key];
  if (typeof v !== 'string')
    throw new VdfError('VDF_MALFORMED', `proof file: "${key}" must be a hex string`);
  const bytes = fromHexStrict(v);
  if (!bytes)
    throw new VdfError('VDF_MALFORMED', `proof file: "${key}" is not lowercase hex of even length`);
  return bytes;
}

export function parseProofFile(text: string): VdfProofRecord {
  if (typeof text !== 'string' || utf8(text).length > MAX_PROOF_FILE_BYTES)
    throw new VdfError('VDF_OUT_OF_RANGE', `proof file larger than ${MAX_PROOF_FILE_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VdfError('VDF_MALFORMED', 'proof file is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new VdfError('VDF_MALFORMED', 'proof file must be a JSON object');
  const obj = parsed as Record<string, unknown>;
  for (const key of Object.keys(obj))
    if (!KEYS.has(key)) throw new VdfError('VDF_MALFORMED', `proof file: unknown key "${key}"`);
  const group = obj.group;
  if (!isGroupName(group))
    throw new VdfError('VDF_UNKNOWN_GROUP', 'proof file: "group" must be "rsa2048" or "class1024"');
  const seed = hexField(obj, 'seed');
  if (seed.length === 0 || seed.length > MAX_SEED_BYTES)
    throw new VdfError('VDF_MALFORMED', `proof file: "seed" must be 1..${MAX_SEED_BYTES} bytes`);
  if (!('iterations' in obj))
    throw new VdfError('VDF_MALFORMED', 'proof file: "iterations" is missing');
  checkIterations(obj.iterations);
  const output = hexField(obj, 'output');
  checkElementLength(group, 'output', output);
  const proof = hexField(obj, 'proof');
  checkProofLength(group, proof);
  const record: VdfProofRecord = { group, seed, iterations: obj.iterations, output, proof };
  if ('input' in obj) {
    const input = hexField(obj, 'input');
    checkElementLength(group, 'input', input);
    record.input = input;
  }
  return record;
}
