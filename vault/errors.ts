/**
 * One error type for the vault with stable codes. HTTP maps `status` and `code` to a JSON body
 * `{"error": {"code", "message"}}`, plus `retryAfterSeconds` (and a `Retry-After` header) for an
 * answer that means "the same request succeeds later". Messages describe the input, never a
 * secret.
 */
export class VaultError extends Error {
  readonly code: string;
  readonly status: number;
  /** Whole seconds (≥ 1) after which the same request can succeed; computed by the vault alone. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: string,
    message: string,
    status = 400,
    opts: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}
