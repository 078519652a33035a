/**
 * One JSON error shape for every failure: {"error": {"code", "message"}}, with
 * `retryAfterSeconds` (and the same `Retry-After` header) where the vault computed when the same
 * request can succeed (CLOCK_NOT_REACHED). Unexpected errors
 * become a bare 500 so nothing internal (or secret) leaks into a response.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { VaultError } from '../errors.ts';
import { frameworkErrors } from '../protocol/index.ts';

export function errorBody(code: string, message: string, retryAfterSeconds?: number) {
  return {
    error: { code, message, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
  };
}

export function handleError(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err instanceof NotLeaderError && err.leaderUrl !== null) {
    return reply.redirect(new URL(request.url, err.leaderUrl).toString(), 307);
  }
  if (err instanceof VaultError) {
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds);
    return reply.status(err.status).send(errorBody(err.code, err.message, err.retryAfterSeconds));
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    return reply.status(400).send(errorBody('MALFORMED', fe.message));
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.status(413).send(errorBody('BODY_TOO_LARGE', 'request body is too large'));
  }
  if (fe.statusCode === 429) {
    return reply.status(429).send(errorBody('RATE_LIMITED', 'too many requests; retry later'));
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.status(fe.statusCode).send(errorBody('BAD_REQUEST', fe.message));
  }
  request.log.error({ err: { name: err.name, code: fe.code } }, 'unexpected error');
  return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
}

/** Requests fastify refuses before routing: the same JSON error shape, this server's codes. */
export const frameworkError = frameworkErrors({ urlTooLong: 'URL_TOO_LONG', badUrl: 'BAD_URL' });

/** A write reached a follower: the client is redirected (307 keeps method and body) to the leader. */
export class NotLeaderError extends VaultError {
  readonly leaderUrl: string | null;

  constructor(leaderUrl: string | null) {
    super(
      'NOT_LEADER',
      leaderUrl ? 'this node is not the leader' : 'no leader is known; retry',
      503,
    );
    this.leaderUrl = leaderUrl;
  }
}
