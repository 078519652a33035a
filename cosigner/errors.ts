/**
 * The cosigner's one error class. Codes are API: the HTTP layer maps them to status codes, and
 * messages describe what is wrong with an input without ever quoting a secret.
 */
export type CosignerErrorCode =
  /** A received message or field is malformed: wrong type, length, encoding or range. */
  | 'COSIGNER_MALFORMED'
  /** A received point, scalar, modulus or ciphertext is not a valid group or ring element. */
  | 'COSIGNER_INVALID_ELEMENT'
  /** A zero-knowledge proof, commitment opening or signature share did not verify. */
  | 'COSIGNER_PROOF_FAILED'
  /** A protocol step was called out of order, twice, or on a consumed session. */
  | 'COSIGNER_BAD_STATE'
  /** The key is locked for good after a failed final signature (CVE-2023-33242 defence). */
  | 'COSIGNER_KEY_LOCKED'
  /** A completed signature failed verification; the key has just been locked. */
  | 'COSIGNER_SIGNATURE_FAILED'
  /** A requested feature exists in the API but is deliberately not implemented. */
  | 'COSIGNER_UNSUPPORTED'
  /** Server: a request's auth signature is missing or does not verify. */
  | 'COSIGNER_UNAUTHORIZED'
  /** Server: a request's counter is not above the last accepted one (a replay). */
  | 'COSIGNER_REPLAYED'
  /** Server: no such wallet. */
  | 'COSIGNER_WALLET_NOT_FOUND'
  /** Server: no live session with this id (unknown, expired, finished or another kind). */
  | 'COSIGNER_SESSION_NOT_FOUND'
  /** Server: the wallet is not in the state the request needs (e.g. keygen twice). */
  | 'COSIGNER_CONFLICT'
  /** Server: too many live sessions; retry later. */
  | 'COSIGNER_BUSY'
  /** Server: no pre-generated Paillier key is ready (keys are never made on a request); retry. */
  | 'COSIGNER_POOL_EMPTY'
  /** Server: this wallet started its hourly allowance of keygens and refreshes; retry later. */
  | 'COSIGNER_WALLET_QUOTA'
  /** Server: this client address used its hourly allowance of keygens and refreshes. */
  | 'COSIGNER_CLIENT_QUOTA'
  /** Server: this client address registered its hourly allowance of wallets. */
  | 'COSIGNER_REGISTRATION_QUOTA'
  /** Server: the vault capacity left is kept for refreshes (no new wallets), or is full. */
  | 'COSIGNER_WALLET_CAPACITY'
  /** Server: a requested policy is outside the server's limits. */
  | 'COSIGNER_POLICY_REJECTED'
  /** Server: the vault could not be reached. */
  | 'COSIGNER_VAULT_UNAVAILABLE'
  /** Server: the vault refused a request or returned something that does not verify. */
  | 'COSIGNER_VAULT_REJECTED'
  /** Server: the vault's attestation document or key binding did not verify. */
  | 'COSIGNER_ATTESTATION_FAILED';

export class CosignerError extends Error {
  readonly code: CosignerErrorCode;
  /** For "retry later" answers (quotas, an empty key pool): when to retry, in whole seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: CosignerErrorCode, message: string, opts: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'CosignerError';
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export function malformed(message: string): CosignerError {
  return new CosignerError('COSIGNER_MALFORMED', message);
}

export function invalidElement(message: string): CosignerError {
  return new CosignerError('COSIGNER_INVALID_ELEMENT', message);
}

export function proofFailed(message: string): CosignerError {
  return new CosignerError('COSIGNER_PROOF_FAILED', message);
}

export function badState(message: string): CosignerError {
  return new CosignerError('COSIGNER_BAD_STATE', message);
}

export function cosignerError(code: CosignerErrorCode, message: string): CosignerError {
  return new CosignerError(code, message);
}
