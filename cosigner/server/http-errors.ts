/**
 * One JSON error shape: {"error": {"code", "message"}}. CosignerError codes map to fixed statuses;
 * anything unexpected becomes a bare 500 so nothing internal (or secret) leaks into a response.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { frameworkErrors } from '../../vault/protocol/index.ts';
import { CosignerError, type CosignerErrorCode } from '../errors.ts';

const STATUS: Record<CosignerErrorCode, number> = {
  COSIGNER_MALFORMED: 400,
  COSIGNER_INVALID_ELEMENT: 400,
  COSIGNER_PROOF_FAILED: 400,
  COSIGNER_BAD_STATE: 409,
  COSIGNER_KEY_LOCKED: 423,
  COSIGNER_SIGNATURE_FAILED: 422,
  /** A well-formed request for something this cosigner does not do: the client's to change. */
  COSIGNER_UNSUPPORTED: 400,
  COSIGNER_UNAUTHORIZED: 401,
  COSIGNER_REPLAYED: 409,
  COSIGNER_WALLET_NOT_FOUND: 404,
  COSIGNER_SESSION_NOT_FOUND: 404,
  COSIGNER_CONFLICT: 409,
  COSIGNER_BUSY: 503,
  COSIGNER_POOL_EMPTY: 503,
  COSIGNER_WALLET_QUOTA: 429,
  COSIGNER_CLIENT_QUOTA: 429,
  COSIGNER_REGISTRATION_QUOTA: 429,
  /** The provider's capacity, not the client's fault: try again later or elsewhere. */
  COSIGNER_WALLET_CAPACITY: 503,
  COSIGNER_POLICY_REJECTED: 400,
  COSIGNER_VAULT_UNAVAILABLE: 502,
  COSIGNER_VAULT_REJECTED: 502,
  COSIGNER_ATTESTATION_FAILED: 502,
};

export function statusOf(code: CosignerErrorCode): number {
  return STATUS[code];
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Requests fastify refuses before routing: the same JSON error shape, this server's codes. */
export const frameworkError = frameworkErrors({
  urlTooLong: 'COSIGNER_URL_TOO_LONG',
  badUrl: 'COSIGNER_BAD_URL',
});

export function handleError(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err instanceof CosignerError) {
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds);
    return reply.status(statusOf(err.code)).send(errorBody(err.code, err.message));
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    return reply.status(400).send(errorBody('COSIGNER_MALFORMED', fe.message));
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply
      .status(413)
      .send(errorBody('COSIGNER_BODY_TOO_LARGE', 'request body is too large'));
  }
  if (fe.statusCode === 429) {
    return reply
      .status(429)
      .send(errorBody('COSIGNER_RATE_LIMITED', 'too many requests; retry later'));
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.status(fe.statusCode).send(errorBody('COSIGNER_BAD_REQUEST', fe.message));
  }
  request.log.error({ err: { name: err.name, code: fe.code } }, 'unexpected error');
  return reply.status(500).send(errorBody('COSIGNER_INTERNAL', 'internal error'));
}
