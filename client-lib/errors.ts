/**
 * The client library's one error type. Codes are stable and part of the API; messages say what is
 * wrong and never contain a secret (no key, share, password or plaintext wallet content).
 */
export type ClientErrorCode =
  | 'WALLET_PASSWORD'
  | 'WALLET_CORRUPT'
  | 'WALLET_FORMAT'
  | 'WALLET_KDF_PARAMS'
  | 'WALLET_IO'
  | 'ATTESTATION_INVALID'
  | 'BACKUP_INVALID'
  | 'VAULT_UNREACHABLE'
  | 'VAULT_ERROR'
  | 'VAULT_RESPONSE'
  | 'COSIGNER_UNREACHABLE'
  | 'COSIGNER_ERROR'
  | 'CLAIM_CANCELLED'
  | 'CLAIM_CONFLICT'
  | 'CLAIM_STATE'
  | 'CHALLENGE_FILE'
  | 'PROOF_MISMATCH'
  | 'PROOF_INVALID'
  | 'SOLVE_ABORTED'
  | 'KEY_MISMATCH'
  | 'PASSWORD_UNAVAILABLE'
  | 'NOT_IMPLEMENTED';

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** For VAULT_ERROR and COSIGNER_ERROR: the server's own error code and HTTP status. */
  readonly vaultCode: string | undefined;
  readonly status: number | undefined;
  /** For CLAIM_CANCELLED: a ping cancelled the claim, a cluster restart voided it, or it expired. */
  readonly claimStatus: 'cancelled' | 'voided' | 'expired' | undefined;
  /**
   * For VAULT_ERROR: the vault's `retryAfterSeconds` (a whole number ≥ 1), where its answer means
   * the same request succeeds that much later (CLOCK_NOT_REACHED); undefined otherwise.
   */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    details: {
      vaultCode?: string;
      status?: number;
      claimStatus?: 'cancelled' | 'voided' | 'expired';
      retryAfterSeconds?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ClientError';
    this.code = code;
    this.vaultCode = details.vaultCode;
    this.status = details.status;
    this.claimStatus = details.claimStatus;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
