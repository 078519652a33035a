/**
 * What the vault's and the cosigner's HTTP servers allow a client's connections (issue 11 item
 * 6): a request must arrive whole within `requestTimeoutMs` (a slow body is cut, answered 408),
 * an idle connection closes, and one address holds at most `maxConnectionsPerAddress` sockets,
 * so a few slow clients cannot hold the server's sockets or memory.
 */
import type { Server, Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ServerLimits {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnectionsPerAddress: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxConnectionsPerAddress: 256,
};

/** The fastify options: idle sockets close, slow headers are cut by Node (checked often). */
export function serverTimeouts(limits: ServerLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: Math.min(5_000, limits.idleTimeoutMs),
    http: {
      connectionsCheckingInterval: Math.max(50, Math.floor(limits.requestTimeoutMs / 4)),
    },
  };
}

/**
 * The whole request, body included, must arrive within `ms` of its headers: a body that trickles
 * in (one byte every few seconds defeats an idle timeout, and Node's own request timeout does not
 * cover a request already handed to the app) gets its connection cut.
 */
export function enforceRequestDeadline(app: FastifyInstance, ms: number): void {
  app.server.headersTimeout = ms;
  const timers = new WeakMap<object, NodeJS.Timeout>();
  const clear = (raw: object) => {
    clearTimeout(timers.get(raw));
    timers.delete(raw);
  };
  app.addHook('onRequest', (req, _reply, done) => {
    const timer = setTimeout(() => req.raw.socket?.destroy(), ms);
    timer.unref();
    timers.set(req.raw, timer);
    done();
  });
  // the body is in once the handler is about to run; an answer before that also ends the wait
  app.addHook('preHandler', (req, _reply, done) => {
    clear(req.raw);
    done();
  });
  app.addHook('onResponse', (req, _reply, done) => {
    clear(req.raw);
    done();
  });
}

/** Destroys a new connection from an address that already holds `max` open ones. */
export function capConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * Requests fastify refuses before routing (a malformed URL, an over-long path parameter), answered
 * in the servers' one JSON error shape with their own codes, never with fastify's body.
 */
export function frameworkErrors(codes: { urlTooLong: string; badUrl: string }) {
  return (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const [status, code, message] =
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, codes.urlTooLong, 'a path parameter is too long']
        : [400, codes.badUrl, 'the request URL is malformed'];
    return reply.status(status).send({ error: { code, message } });
  };
}
