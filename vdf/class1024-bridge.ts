/** The class1024 side of verifyProof, kept apart so the rest builds while class1024 is missing. */
import { VdfError } from './errors.ts';
import type { VdfProofRecord } from './proof-file.ts';

export function verifyClass1024Record(_r: VdfProofRecord): void {
  throw new VdfError('VDF_UNKNOWN_GROUP', 'class1024 is not available in this build yet');
}

export function deriveClass1024Input(_seed: Uint8Array): Uint8Array {
  throw new VdfError('VDF_UNKNOWN_GROUP', 'class1024 is not available in this build yet');
}
