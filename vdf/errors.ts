/**
 * Stable codes for everything the VDF module rejects. `malformed` inputs cannot be parsed or are
 * out of range; `invalid` inputs parse but are not a correct proof.
 */
export type VdfErrorCode =
  | 'VDF_MALFORMED' // bytes that do not decode to a canonical element, bad lengths, bad hex
  | 'VDF_OUT_OF_RANGE' // T zero, above the cap, oversized inputs
  | 'VDF_UNKNOWN_GROUP'
  | 'VDF_INVALID_PROOF' // well-formed but the proof does not verify
  | 'VDF_CHECKPOINT' // unreadable or mismatched checkpoint
  | 'VDF_ABORTED'
  | 'VDF_CONFIG'; // an invalid VDF setting in the environment

export class VdfError extends Error {
  readonly code: VdfErrorCode;

  constructor(code: VdfErrorCode, message: string) {
    super(message);
    this.name = 'VdfError';
    this.code = code;
  }
}
