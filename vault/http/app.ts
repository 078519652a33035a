/**
 * The vault's HTTP API under /v1 (fastify). Every route has a JSON schema (served as OpenAPI at
 * /docs/json); bodies are capped before parsing, then parsed strictly by the wire protocol, then
 * handed to the backend as commands. Replies to writes leave only after the command is durable.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AttestationProvider } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import type { Answer, Command, IssuedNonce, VaultMachine } from '../machine/index.ts';

import {
  type ClusterKeys,
  capConnectionsPerAddress,
  clusterKeysBinding,
  DEFAULT_SERVER_LIMITS,
  type DepositReceipt,
  depositReceiptToJson,
  enforceRequestDeadline,
  parseClaim,
  parseClaimId,
  parseDeletion,
  parseDeposit,
  parseHex,
  parsePing,
  parseSolution,
  parseTenantName,
  parseTenantRegistration,
  parseWalletId,
  releaseToJson,
  type ServerLimits,
  serverTimeouts,
  toHex,
} from '../protocol/index.ts';
import type { TlsIdentity } from '../tls/certificate.ts';
import { registerCors } from './cors.ts';
import { errorBody, frameworkError, handleError } from './errors.ts';
import { createVaultMetrics } from './metrics.ts';
import {
  attestationResponseSchema,
  claimIdParams,
  claimSchema,
  claimViewSchema,
  clusterMembersSchema,
  deletionSchema,
  depositSchema,
  errorOf,
  nonceResponseSchema,
  pingResponseSchema,
  pingSchema,
  receiptSchema,
  redirectToLeader,
  registrationSchema,
  releaseSchema,
  solutionSchema,
  tenantParams,
  tlsAttestationResponseSchema,
  walletIdParams,
  walletViewSchema,
} from './schemas.ts';
import { claimJson, walletJson } from './views.ts';

export type { ClusterKeys };

/** A client's retry identity: the same (client, seq) is applied at most once (replicated backend). */
export interface ClientSession {
  clientId: string;
  seq: number;
}

/** Optional headers `x-vigil-client` (1–64 of [A-Za-z0-9_-]) and `x-vigil-seq` (a positive integer). */
function sessionOf(req: { headers: Record<string, string | string[] | undefined> }) {
  const id = req.headers['x-vigil-client'];
  const seq = req.headers['x-vigil-seq'];
  if (id === undefined && seq === undefined) return undefined;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new VaultError('MALFORMED', 'x-vigil-client: 1 to 64 of [A-Za-z0-9_-]');
  if (typeof seq !== 'string' || !/^[1-9]\d{0,14}$/.test(seq))
    throw new VaultError('MALFORMED', 'x-vigil-seq: a positive integer');
  return { clientId: id, seq: Number(seq) };
}

/** What the HTTP layer needs of a vault: a single node or the Raft cluster (vault/replicated). */
export interface VaultBackend {
  /** `session` (when the client sent one) makes a retried request exactly-once. */
  submit(command: Command, session?: ClientSession): Promise<Answer>;
  mintPingNonce(tenant: string): IssuedNonce;
  mintClaimNonce(walletId: Uint8Array): IssuedNonce;
  readonly machine: Pick<VaultMachine, 'wallet' | 'claim' | 'lastIndex'>;
  /** A wallet's deposit receipt, signed by the cluster's receipt key. */
  receipt(walletId: Uint8Array): Promise<DepositReceipt | null>;
  readonly publicKeys: ClusterKeys;
  /** Why the node cannot serve the vault API yet (starting, no vault, catching up), or null. */
  notReady?(): string | null;
}

export interface ClusterMembers {
  members: { id: string; url: string; voter: boolean }[];
  leaderUrl: string | null;
}

/** What a replicated backend adds: Raft status, admission of new members, Raft metrics. */
export interface ClusterApi {
  /** This node's Raft view (served locally; says so). */
  status(): Record<string, unknown>;
  /**
   * The members' HTTP URLs and the leader's, as this node knows them: what a client (the
   * cosigner's pinger) needs to follow the leader and fail over when a node goes away.
   */
  members(): ClusterMembers;
  /** Admits a joining member (leader only; followers redirect). */
  join(body: unknown): Promise<unknown>;
  registerMetrics(registry: Registry): void;
  /**
   * Benchmark-only (`npm run bench:cluster`): a raw put through Raft that changes no vault state.
   * When present, `POST /bench/put` takes the payload as a binary body.
   */
  benchPut?: (payload: Uint8Array) => Promise<void>;
}

export interface VaultAppOptions {
  backend: VaultBackend;
  cluster?: ClusterApi;
  attestation: AttestationProvider;
  /** Requests per minute per client address (default 600). */
  rateLimitPerMinute?: number;
  logger?: boolean | object;
  /** Request and idle timeouts, connections per address (DEFAULT_SERVER_LIMITS). */
  limits?: Partial<ServerLimits>;
  /** Origins whose pages may call the browser-facing routes (cors.ts); default none. */
  corsOrigins?: readonly string[];
  /** Serve HTTPS with this attested key (`GET /v1/attestation/tls` vouches for it). */
  tls?: TlsIdentity;
}

export const BODY_LIMIT_BYTES = 64 * 1024;
export const BENCH_PUT_MAX_BYTES = 1024;
const MAX_ATTESTATION_NONCE_BYTES = 64;
/** Answered even before the node has a vault: peers and clients need it to reach the node. */
const TLS_ATTESTATION_PATH = '/v1/attestation/tls';

const nonceQuery = {
  type: 'object',
  properties: {
    nonce: {
      type: 'string',
      pattern: '^([0-9a-f]{2})+$',
      maxLength: MAX_ATTESTATION_NONCE_BYTES * 2,
    },
  },
} as const;

function parseNonce(query: unknown): { nonce?: Uint8Array } {
  const { nonce } = query as { nonce?: string };
  return nonce ? { nonce: parseHex('nonce', nonce, nonce.length / 2) } : {};
}

/** `{ <field>: string }`: a one-field answer. */
const object1 = (field: string, description: string) => ({
  type: 'object',
  required: [field],
  additionalProperties: false,
  properties: { [field]: { type: 'string', description } },
});

const claimAnswer = (description: string) => ({
  type: 'object',
  required: ['existing', 'claim'],
  additionalProperties: false,
  description,
  properties: { existing: { type: 'boolean' }, claim: claimViewSchema },
});

function expect<T extends Answer['type']>(r: Answer, type: T) {
  if (r.type !== type) throw new Error(`backend returned ${r.type} for ${type}`);
  return r as Extract<Answer, { type: T }>;
}

/**
 * Each route's responses: its success body and the error statuses it really answers with (the
 * codes each carries there). Every /v1 route may also answer 429 RATE_LIMITED (the per-address
 * limit) and 503 NOT_READY (a replicated node that is starting or catching up); every write
 * goes through the log, so on a replicated node it may also meet 307 (a follower that knows the
 * leader) or 503 (no leader known, the epoch not current, the node closing); a POST may be 413.
 */
function responses(
  kind: 'read' | 'write' | 'nonce',
  success: Record<number, object>,
  errors: Record<number, string>,
  withPathParams = false,
): Record<number, object> {
  const all: Record<number, object> = { ...success };
  const add = (status: number, codes: string) => {
    const before = (all[status] as { description?: string } | undefined)?.description;
    all[status] = errorOf(before ? `${before}; ${codes}` : codes);
  };
  add(400, 'MALFORMED (the schema or the strict parser refused it)');
  for (const [status, codes] of Object.entries(errors)) add(Number(status), codes);
  add(429, 'RATE_LIMITED (per client address; retry later)');
  if (withPathParams) add(414, 'URL_TOO_LONG (an over-long path parameter)');
  if (kind !== 'read') {
    all[307] = redirectToLeader;
    add(413, 'BODY_TOO_LARGE (over 64 KiB)');
    if (kind === 'write') {
      add(409, 'SESSION_CONFLICT, STALE_RETRY (x-vigil-client/x-vigil-seq misused)');
    }
    add(503, 'NOT_LEADER (no leader known; retry), NODE_CLOSED');
  }
  add(503, 'NOT_READY (node starting or catching up; Retry-After)');
  return all;
}

/**
 * The benchmark's raw put measures the cluster's write path, so its route costs as little as
 * fastify allows: a binary body (no JSON, no hex), no rate-limit bookkeeping, an empty 204. The
 * octet-stream parser is registered in this route's own scope only: elsewhere such a body is
 * still refused with 415.
 */
function benchRoute(
  scope: FastifyInstance,
  benchPut: (payload: Uint8Array) => Promise<void>,
): void {
  scope.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: BENCH_PUT_MAX_BYTES },
    (_req, body, done) => done(null, body),
  );
  scope.post(
    '/bench/put',
    { schema: { hide: true }, config: { rateLimit: false } },
    async (req, reply) => {
      const body = req.body;
      if (!(body instanceof Uint8Array) || body.length === 0) {
        const msg = `body: 1 to ${BENCH_PUT_MAX_BYTES} bytes of application/octet-stream`;
        throw new VaultError('MALFORMED', msg);
      }
      await benchPut(body);
      return reply.code(204).send();
    },
  );
}

export async function buildVaultApp(opts: VaultAppOptions): Promise<FastifyInstance> {
  const { backend, attestation } = opts;
  const limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    frameworkErrors: frameworkError,
    ...serverTimeouts(limits),
    ...(opts.tls ? { https: { key: opts.tls.keyPem, cert: opts.tls.certPem } } : {}),
  }) as unknown as FastifyInstance;
  capConnectionsPerAddress(app.server, limits.maxConnectionsPerAddress);
  enforceRequestDeadline(app, limits.requestTimeoutMs);
  const metrics = createVaultMetrics();
  app.setErrorHandler(handleError);
  // Response schemas document the bodies (OpenAPI); the bodies are sent as the views build them,
  // so a schema can neither drop nor coerce a field (test/api-contract.test.ts checks they agree).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      info: { title: 'Vigil vault API', version: '1', description: 'docs/protocol.md' },
    },
  });
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    // Behind the vsock relays (a Unix socket) a request has no client address: every client
    // then counts as the one relay (docs/operator-guide.md, "Transport").
    keyGenerator: (req) => req.ip ?? 'relay',
  });

  async function run<T extends Answer['type']>(
    command: Command,
    type: T,
    session: ClientSession | undefined,
  ) {
    const end = metrics.commandSeconds.startTimer({ type: command.type });
    try {
      const result = expect(await backend.submit(command, session), type);
      metrics.commands.inc({ type: command.type, outcome: 'ok' });
      return result;
    } catch (err) {
      const code = err instanceof VaultError ? err.code : 'INTERNAL';
      metrics.commands.inc({ type: command.type, outcome: code });
      throw err;
    } finally {
      end();
      metrics.lastIndex.set(backend.machine.lastIndex);
    }
  }

  registerCors(app, opts.corsOrigins ?? []);
  const cluster = opts.cluster;
  cluster?.registerMetrics(metrics.registry);
  // A node that is starting, has no vault yet or is still catching up says so (503 and a retry
  // hint) instead of answering from a state it does not have yet; its cluster routes stay open.
  const notReady = backend.notReady?.bind(backend);
  if (notReady) {
    app.addHook('onRequest', (req, reply, done) => {
      const reason =
        req.url.startsWith('/v1/') &&
        !req.url.startsWith('/v1/cluster/') &&
        !req.url.startsWith(TLS_ATTESTATION_PATH) &&
        notReady();
      if (!reason) return done();
      reply.header('retry-after', '1').code(503).send(errorBody('NOT_READY', reason));
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!.slice(0, 128);
    reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${path}`));
  });
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const reason = notReady?.() ?? null;
    if (reason) return reply.code(503).send({ status: 'starting', reason });
    return {
      status: 'ok',
      lastIndex: backend.machine.lastIndex,
      ...(cluster ? { raft: cluster.status() } : {}),
    };
  });
  if (cluster) {
    app.get('/v1/cluster/status', { schema: { hide: true } }, async () => cluster.status());
    app.get(
      '/v1/cluster/members',
      {
        schema: {
          summary: "The cluster's members and leader (this node's view), for client failover",
          response: {
            200: clusterMembersSchema,
            429: errorOf('RATE_LIMITED (per client address; retry later)'),
          },
        },
      },
      async () => cluster.members(),
    );
    app.post('/v1/cluster/join', { schema: { hide: true } }, async (req) => cluster.join(req.body));
    // Reads of a replica's applied state decide nothing; they say where they come from. (A
    // callback hook: it runs on every reply, and an async one costs a promise per request.)
    app.addHook('onSend', (req, reply, payload, done) => {
      if (req.method === 'GET' && req.url.startsWith('/v1/')) {
        reply.header('x-vigil-read', `local-replica; applied=${backend.machine.lastIndex}`);
      }
      done(null, payload);
    });
    const benchPut = cluster.benchPut;
    if (benchPut) await app.register(async (scope) => benchRoute(scope, benchPut));
  }
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/attestation',
    {
      schema: {
        summary: "This node's attestation document, binding the cluster's public keys",
        querystring: nonceQuery,
        response: responses(
          'read',
          { 200: attestationResponseSchema },
          {
            502: 'ATTESTATION_UNAVAILABLE (the Nitro NSM answered with a malformed response)',
            503: 'ATTESTATION_UNAVAILABLE (the NSM refused or failed)',
          },
        ),
      },
    },
    async (req) => {
      const keys = backend.publicKeys;
      const document = await attestation.attest({
        userData: clusterKeysBinding(keys),
        ...parseNonce(req.query),
      });
      return {
        kind: attestation.kind,
        insecure: attestation.insecure,
        ...(attestation.insecure
          ? { warning: 'INSECURE DEV ATTESTATION: this document proves nothing about the node' }
          : {}),
        document: Buffer.from(document).toString('base64'),
        cluster: {
          clusterId: toHex(keys.clusterId),
          clusterEncryptionKey: toHex(keys.clusterEncryptionKey),
          receiptKey: toHex(keys.receiptKey),
        },
      };
    },
  );

  const tls = opts.tls;
  if (tls) {
    app.get(
      TLS_ATTESTATION_PATH,
      {
        schema: {
          summary: "This node's attestation document binding the key of its TLS certificate",
          querystring: nonceQuery,
          response: responses(
            'read',
            { 200: tlsAttestationResponseSchema },
            {
              502: 'ATTESTATION_UNAVAILABLE (the Nitro NSM answered with a malformed response)',
              503: 'ATTESTATION_UNAVAILABLE (the NSM refused or failed)',
            },
          ),
        },
      },
      async (req) => {
        const document = await attestation.attest({
          userData: tls.binding,
          ...parseNonce(req.query),
        });
        return {
          kind: attestation.kind,
          insecure: attestation.insecure,
          document: Buffer.from(document).toString('base64'),
          spki: toHex(tls.spki),
        };
      },
    );
  }

  app.post(
    '/v1/tenants',
    {
      schema: {
        summary: 'Register a tenant (operator-signed)',
        body: registrationSchema,
        response: responses(
          'write',
          { 201: object1('tenant', 'the registered tenant name') },
          {
            401: 'BAD_SIGNATURE (not signed by the operator key)',
            403: 'TENANT_LIMIT',
            409: 'TENANT_EXISTS',
          },
        ),
      },
    },
    async (req, reply) => {
      const registration = parseTenantRegistration(req.body);
      const r = await run(
        { type: 'registerTenant', registration },
        'tenantRegistered',
        sessionOf(req),
      );
      return reply.status(201).send({ tenant: r.tenant });
    },
  );

  app.post(
    '/v1/deposits',
    {
      schema: {
        summary: 'Deposit a sealed server share (tenant-signed)',
        body: depositSchema,
        response: responses(
          'write',
          {
            201: { type: 'object', required: ['receipt'], properties: { receipt: receiptSchema } },
          },
          {
            400: 'BAD_POINT, BAD_LENGTH, SCHEME_MISMATCH, SHARE_MISMATCH (x2·G ≠ Q2), POLICY_REJECTED, DECRYPT_FAILED, OUT_OF_RANGE',
            401: 'BAD_SIGNATURE (not the tenant key)',
            403: 'WALLET_LIMIT',
            404: 'TENANT_UNKNOWN',
            409: 'WALLET_EXISTS, STALE_SEQUENCE (seq not above the last committed one)',
          },
        ),
      },
    },
    async (req, reply) => {
      const deposit = parseDeposit(req.body);
      const r = await run({ type: 'deposit', deposit }, 'deposited', sessionOf(req));
      return reply.status(201).send({ receipt: depositReceiptToJson(r.receipt) });
    },
  );

  app.post(
    '/v1/deletions',
    {
      schema: {
        summary: 'Delete a deposit (tenant-signed)',
        body: deletionSchema,
        response: responses(
          'write',
          { 200: object1('walletId', 'the deleted wallet (32 bytes, hex)') },
          {
            401: 'BAD_SIGNATURE',
            404: 'TENANT_UNKNOWN, WALLET_NOT_FOUND',
            409: 'STALE_SEQUENCE',
          },
        ),
      },
    },
    async (req) => {
      const deletion = parseDeletion(req.body);
      const r = await run({ type: 'delete', deletion }, 'deleted', sessionOf(req));
      return { walletId: toHex(r.walletId) };
    },
  );

  app.get(
    '/v1/wallets/:walletId',
    {
      schema: {
        summary: 'Does the vault hold this wallet, under which policy, is a claim live?',
        params: walletIdParams,
        response: responses('read', { 200: walletViewSchema }, { 404: 'WALLET_NOT_FOUND' }, true),
      },
    },
    async (req) => {
      const walletId = parseWalletId('walletId', (req.params as { walletId: string }).walletId);
      const w = backend.machine.wallet(walletId);
      if (!w) throw new VaultError('WALLET_NOT_FOUND', 'no deposit for this wallet', 404);
      return walletJson(w);
    },
  );

  app.get(
    '/v1/wallets/:walletId/receipt',
    {
      schema: {
        summary: 'The cluster-signed deposit receipt',
        params: walletIdParams,
        response: responses(
          'read',
          {
            200: { type: 'object', required: ['receipt'], properties: { receipt: receiptSchema } },
          },
          { 404: 'WALLET_NOT_FOUND' },
          true,
        ),
      },
    },
    async (req) => {
      const walletId = parseWalletId('walletId', (req.params as { walletId: string }).walletId);
      const receipt = await backend.receipt(walletId);
      if (!receipt) throw new VaultError('WALLET_NOT_FOUND', 'no deposit for this wallet', 404);
      return { receipt: depositReceiptToJson(receipt) };
    },
  );

  app.post(
    '/v1/tenants/:tenant/ping-nonce',
    {
      schema: {
        summary: 'A fresh single-use nonce for the next ping',
        params: tenantParams,
        response: responses(
          'nonce',
          { 200: nonceResponseSchema('tenant') },
          { 404: 'TENANT_UNKNOWN' },
          true,
        ),
      },
    },
    async (req) => {
      const tenant = parseTenantName('tenant', (req.params as { tenant: string }).tenant);
      const r = backend.mintPingNonce(tenant);
      return { tenant, nonce: toHex(r.nonce), expiresAt: r.expiresAt };
    },
  );

  app.post(
    '/v1/pings',
    {
      schema: {
        summary: 'Proof of life (ping-key signed); cancels live claims',
        body: pingSchema,
        response: responses(
          'write',
          { 200: pingResponseSchema },
          {
            401: 'BAD_SIGNATURE (not the ping key)',
            404: 'TENANT_UNKNOWN',
            409: 'PING_NONCE_INVALID (unknown, used or expired)',
            429: 'PING_RATE',
          },
        ),
      },
    },
    async (req) => {
      const ping = parsePing(req.body);
      const r = await run({ type: 'ping', ping }, 'pinged', sessionOf(req));
      return {
        tenant: r.tenant,
        logIndex: r.logIndex,
        cancelledClaims: r.cancelledClaims.map(toHex),
      };
    },
  );

  app.post(
    '/v1/wallets/:walletId/claim-nonce',
    {
      schema: {
        summary: 'A fresh single-use nonce for a claim',
        params: walletIdParams,
        response: responses(
          'nonce',
          { 200: nonceResponseSchema('walletId') },
          {
            404: 'WALLET_NOT_FOUND',
            409: 'WALLET_RELEASED',
            503: 'EPOCH_MISMATCH (the epoch is not current yet; retry)',
          },
          true,
        ),
      },
    },
    async (req) => {
      const walletId = parseWalletId('walletId', (req.params as { walletId: string }).walletId);
      const r = backend.mintClaimNonce(walletId);
      return { walletId: toHex(walletId), nonce: toHex(r.nonce), expiresAt: r.expiresAt };
    },
  );

  app.post(
    '/v1/claims',
    {
      schema: {
        summary: 'Claim a wallet with a proof of knowledge of x1',
        body: claimSchema,
        response: responses(
          'write',
          {
            200: claimAnswer('the live claim this key already holds (existing: true)'),
            201: claimAnswer('a new claim (existing: false)'),
          },
          {
            401: 'BAD_CLAIM_PROOF',
            404: 'WALLET_NOT_FOUND',
            409: 'CLAIM_NONCE_INVALID, WALLET_RELEASED',
            429: 'CLAIM_RATE (one claim a wallet per interval), CLAIM_LIMIT (live claims of the tenant)',
          },
        ),
      },
    },
    async (req, reply) => {
      const claim = parseClaim(req.body);
      const r = await run({ type: 'claim', claim }, 'claim', sessionOf(req));
      return reply
        .status(r.existing ? 200 : 201)
        .send({ existing: r.existing, claim: claimJson(r.claim) });
    },
  );

  app.get(
    '/v1/claims/:claimId',
    {
      schema: {
        summary: 'A claim: its VDF challenge and status',
        params: claimIdParams,
        response: responses('read', { 200: claimViewSchema }, { 404: 'CLAIM_NOT_FOUND' }, true),
      },
    },
    async (req) => {
      const claimId = parseClaimId('claimId', (req.params as { claimId: string }).claimId);
      const c = backend.machine.claim(claimId);
      if (!c) throw new VaultError('CLAIM_NOT_FOUND', 'no such claim', 404);
      return claimJson(c);
    },
  );

  app.post(
    '/v1/claims/:claimId/solution',
    {
      schema: {
        summary: 'Submit the VDF solution; returns x2 sealed to the claim key',
        params: claimIdParams,
        body: solutionSchema,
        response: responses(
          'write',
          {
            200: { type: 'object', required: ['release'], properties: { release: releaseSchema } },
          },
          {
            400: 'BAD_LENGTH, VDF_PROOF_INVALID',
            404: 'CLAIM_NOT_FOUND',
            409:
              'CLAIM_NOT_LIVE (cancelled by a ping, voided, expired or already released), ' +
              'CLOCK_NOT_REACHED (clock-gated: the delay has not elapsed on the quorum clock; ' +
              'retryAfterSeconds and Retry-After say when to send the same solution again)',
            429: 'SOLVE_RATE (10 attempts a minute per claim and node)',
            503: 'EPOCH_MISMATCH',
          },
          true,
        ),
      },
    },
    async (req) => {
      const { claimId } = req.params as { claimId: string };
      const solution = parseSolution({ ...(req.body as object), claimId });
      const r = await run({ type: 'solve', solution }, 'released', sessionOf(req));
      return { release: releaseToJson(r.release) };
    },
  );

  return app;
}
