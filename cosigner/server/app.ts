/**
 * The cosigner's HTTP API under /v1 (fastify). Every route has a JSON schema (OpenAPI at
 * /docs/json); bodies are capped before parsing; every wallet route is authenticated by the
 * wallet's BIP-340 auth key over requestBytes (cosigner/api.ts) with a strictly increasing
 * counter, checked and persisted before the handler runs.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  capConnectionsPerAddress,
  DEFAULT_SERVER_LIMITS,
  enforceRequestDeadline,
  type ServerLimits,
  serverTimeouts,
} from '../../vault/protocol/index.ts';
import { AUTH_COUNTER_HEADER, AUTH_SIGNATURE_HEADER, type RegisterRequest } from '../api.ts';
import { cosignerError } from '../errors.ts';
import { errorBody, frameworkError, handleError } from './http-errors.ts';
import type { CosignerMetrics } from './metrics.ts';
import { errorsOf, responses, success } from './response-schemas.ts';
import type { AuthInput, CosignerService } from './service.ts';
import type { CosignerStore, WalletRecord } from './store.ts';

export const BODY_LIMIT_BYTES = 256 * 1024;

const hexOf = (bytes: number) => ({ type: 'string', pattern: `^[0-9a-f]{${bytes * 2}}$` });
const message = { type: 'object', maxProperties: 16 };
const path = {
  type: 'array',
  maxItems: 255,
  items: { type: 'integer', minimum: 0, maximum: 0xffffffff },
};
const policySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['group', 'iterations'],
  properties: {
    group: { type: 'string', enum: ['rsa2048', 'class1024'] },
    iterations: { type: 'integer', minimum: 1, maximum: 2 ** 48 },
    kind: { type: 'string', enum: ['strict', 'clock-gated'] },
    delaySeconds: { type: 'integer', minimum: 1, maximum: 366 * 86_400 },
  },
};
const walletParams = {
  type: 'object',
  required: ['walletId'],
  properties: { walletId: hexOf(32) },
};
const sessionParams = {
  type: 'object',
  required: ['walletId', 'sessionId'],
  properties: { walletId: hexOf(32), sessionId: hexOf(32) },
};
const body = (required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

export interface CosignerAppOptions {
  service: CosignerService;
  store: CosignerStore;
  metrics: CosignerMetrics;
  tenant: { tenant: string; tenantKey: string; pingKey: string };
  logger: Logger;
  rateLimitPerMinute?: number;
  /** Request and idle timeouts, connections per address (DEFAULT_SERVER_LIMITS). */
  limits?: Partial<ServerLimits>;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
    wallet?: WalletRecord;
  }
}

export async function buildCosignerApp(opts: CosignerAppOptions): Promise<FastifyInstance> {
  const { service, metrics } = opts;
  const limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    frameworkErrors: frameworkError,
    ...serverTimeouts(limits),
  });
  capConnectionsPerAddress(app.server, limits.maxConnectionsPerAddress);
  enforceRequestDeadline(app as unknown as FastifyInstance, limits.requestTimeoutMs);
  app.setErrorHandler(handleError);
  // Response schemas document the bodies (OpenAPI); bodies are sent as the service builds them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) => {
    const raw = text as string;
    req.rawBody = raw;
    try {
      done(null, raw.length === 0 ? {} : JSON.parse(raw));
    } catch {
      done(cosignerError('COSIGNER_MALFORMED', 'the body is not valid JSON'), undefined);
    }
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Vigil cosigner API', version: '1', description: 'docs/cosigner.md' },
    },
  });
  await app.register(rateLimit, { max: opts.rateLimitPerMinute ?? 1200, timeWindow: 60_000 });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.requests.inc({
      route,
      outcome: reply.statusCode < 400 ? 'ok' : String(reply.statusCode),
    });
    metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });

  const authInput = (req: FastifyRequest, walletId: string): AuthInput => ({
    method: req.method,
    path: req.url.split('?')[0] ?? '',
    walletId,
    counter: req.headers[AUTH_COUNTER_HEADER] as string | undefined,
    signature: req.headers[AUTH_SIGNATURE_HEADER] as string | undefined,
    body: req.rawBody ?? '',
  });

  /** Authenticates every /v1/wallets/:walletId… request before its handler. */
  const authenticated = async (req: FastifyRequest) => {
    const { walletId } = req.params as { walletId: string };
    req.wallet = await service.authenticate(authInput(req, walletId));
  };
  const walletOf = (req: FastifyRequest): WalletRecord => {
    if (!req.wallet) throw cosignerError('COSIGNER_UNAUTHORIZED', 'not authenticated');
    return req.wallet;
  };
  const sessionOf = (req: FastifyRequest) => (req.params as { sessionId: string }).sessionId;
  const msg = (req: FastifyRequest) => (req.body as { message: unknown }).message;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/tenant',
    {
      schema: {
        summary: "The cosigner's vault tenant name, tenant key and ping key",
        response: responses({ method: 'GET', wallet: false }, { 200: success.tenant }),
      },
    },
    async () => opts.tenant,
  );

  app.post(
    '/v1/wallets',
    {
      schema: {
        summary: 'Register a wallet under a client auth key (signed by that key, counter 0)',
        body: body(['authKey', 'scheme', 'policy'], {
          authKey: hexOf(32),
          scheme: { type: 'string', enum: ['ecdsa-2p', 'musig2'] },
          policy: policySchema,
        }),
        response: responses(
          { method: 'POST', wallet: false },
          { 201: success.registered },
          errorsOf.register,
        ),
      },
    },
    async (req, reply) => {
      const r = await service.register(req.body as RegisterRequest, authInput(req, ''), req.ip);
      return reply.status(201).send(r);
    },
  );

  const wallet = { preHandler: authenticated };

  app.get(
    '/v1/wallets/:walletId',
    {
      ...wallet,
      schema: {
        summary: 'Wallet status',
        params: walletParams,
        response: responses({ method: 'GET', wallet: true }, { 200: success.status }),
      },
    },
    async (req) => service.status(walletOf(req)),
  );

  app.get(
    '/v1/wallets/:walletId/audit',
    {
      ...wallet,
      schema: {
        summary: "The wallet's hash-chained audit log",
        params: walletParams,
        response: responses({ method: 'GET', wallet: true }, { 200: success.audit }),
      },
    },
    async (req) => ({ records: await opts.store.audit(walletOf(req).walletId) }),
  );

  app.post(
    '/v1/wallets/:walletId/keygen',
    {
      ...wallet,
      schema: {
        summary: 'Two-party ECDSA keygen, message 1 → 2',
        params: walletParams,
        body: body(['sessionId', 'message'], { sessionId: hexOf(32), message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.message('keygen message 2') },
          errorsOf.start,
        ),
      },
    },
    async (req) => {
      const b = req.body as { sessionId: string; message: unknown };
      return { message: service.keygenStart(walletOf(req), b.sessionId, b.message, req.ip) };
    },
  );

  app.post(
    '/v1/wallets/:walletId/keygen/:sessionId/finish',
    {
      ...wallet,
      schema: {
        summary: 'Two-party ECDSA keygen, message 3; deposits x2 in the vault; returns the key',
        params: sessionParams,
        body: body(['message'], { message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.keyState },
          errorsOf.finish,
        ),
      },
    },
    async (req) => service.keygenFinish(walletOf(req), sessionOf(req), msg(req)),
  );

  app.post(
    '/v1/wallets/:walletId/keygen-musig2',
    {
      ...wallet,
      schema: {
        summary: "MuSig2 keygen: the client's public key in; Q2, the aggregate and the deposit out",
        params: walletParams,
        body: body(['publicKey'], { publicKey: hexOf(33) }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.keyState },
          { ...errorsOf.finish, 404: 'COSIGNER_WALLET_NOT_FOUND' },
        ),
      },
    },
    async (req) =>
      service.keygenMusig(walletOf(req), (req.body as { publicKey: string }).publicKey),
  );

  app.post(
    '/v1/wallets/:walletId/sign',
    {
      ...wallet,
      schema: {
        summary: 'Two-party ECDSA signing, message 1 → 2',
        params: walletParams,
        body: body(['sessionId', 'messageHash', 'path', 'message'], {
          sessionId: hexOf(32),
          messageHash: hexOf(32),
          path,
          message,
        }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.message('signing message 2') },
          errorsOf.sign,
        ),
      },
    },
    async (req) => ({
      message: service.signStart(
        walletOf(req),
        req.body as { sessionId: string; messageHash: string; path: number[]; message: unknown },
      ),
    }),
  );

  app.post(
    '/v1/wallets/:walletId/sign/:sessionId/finish',
    {
      ...wallet,
      schema: {
        summary: 'Two-party ECDSA signing, message 3 → the verified signature',
        params: sessionParams,
        body: body(['message'], { message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.signature },
          errorsOf.sign,
        ),
      },
    },
    async (req) => service.signFinish(walletOf(req), sessionOf(req), msg(req)),
  );

  app.post(
    '/v1/wallets/:walletId/sign-musig2',
    {
      ...wallet,
      schema: {
        summary:
          "MuSig2: the client's public nonce in; the server's nonce and partial signature out",
        params: walletParams,
        body: body(['message', 'path', 'nonce'], {
          message: hexOf(32),
          path,
          xOnlyTweak: hexOf(32),
          nonce: hexOf(66),
        }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.musigSignature },
          errorsOf.sign,
        ),
      },
    },
    async (req) =>
      service.signMusig(
        walletOf(req),
        req.body as { message: string; path: number[]; xOnlyTweak?: string; nonce: string },
      ),
  );

  app.post(
    '/v1/wallets/:walletId/refresh',
    {
      ...wallet,
      schema: {
        summary: 'Refresh keeping Q, message 1 → 2',
        params: walletParams,
        body: body(['sessionId', 'message'], { sessionId: hexOf(32), message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.message('refresh message 2') },
          errorsOf.start,
        ),
      },
    },
    async (req) => {
      const b = req.body as { sessionId: string; message: unknown };
      return { message: service.refreshStart(walletOf(req), b.sessionId, b.message, req.ip) };
    },
  );

  app.post(
    '/v1/wallets/:walletId/refresh/:sessionId/open',
    {
      ...wallet,
      schema: {
        summary: 'Refresh, message 3 → 4 (the new encrypted share with its proofs)',
        params: sessionParams,
        body: body(['message'], { message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.message('refresh message 4') },
          errorsOf.step,
        ),
      },
    },
    async (req) => ({ message: service.refreshOpen(walletOf(req), sessionOf(req), msg(req)) }),
  );

  app.post(
    '/v1/wallets/:walletId/refresh/:sessionId/finish',
    {
      ...wallet,
      schema: {
        summary: 'Refresh, message 5: deposit the new share, switch, delete the old deposit',
        params: sessionParams,
        body: body(['message'], { message }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.keyState },
          errorsOf.finish,
        ),
      },
    },
    async (req) => service.refreshFinish(walletOf(req), sessionOf(req), msg(req)),
  );

  app.post(
    '/v1/wallets/:walletId/derive',
    {
      ...wallet,
      schema: {
        summary: 'The public key at a non-hardened derivation path',
        params: walletParams,
        body: body(['path'], { path }),
        response: responses(
          { method: 'POST', wallet: true },
          { 200: success.derived },
          errorsOf.derive,
        ),
      },
    },
    async (req) => service.derive(walletOf(req), (req.body as { path: number[] }).path),
  );

  app.setNotFoundHandler((_req, reply) =>
    reply.status(404).send(errorBody('COSIGNER_NOT_FOUND', 'no such route')),
  );
  return app as unknown as FastifyInstance;
}
