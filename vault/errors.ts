/**
 * One error type for the vault with stable codes. HTTP maps `status` and `code` to a JSON body
 * `{"error": {"code", "message"}}`. Messages describe the input, never a secret.
 */
export class VaultError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
    this.status = status;
  }
}
