/**
 * CORS for the routes a wallet app calls from a browser (docs/sdk.md): the read-only ones
 * (attestation, wallet status and receipt, claim status, cluster members) and the claim's own
 * (claim nonce, claim, solution). Nothing else answers a browser: tenants, deposits, deletions
 * and pings are the provider's server's business, the cluster's routes the operator's.
 *
 * Allowed origins are configured (`--cors-origins`, docs/configuration.md); none by default, so
 * a production node answers no browser until its operator names the wallet apps' origins. The
 * vault sets no cookies and reads no credentials, so CORS here keeps no secret: it decides which
 * web pages may read the vault's answers.
 */
import type { FastifyInstance } from 'fastify';
import { VaultError } from '../errors.ts';
import { errorBody } from './errors.ts';

/** The browser-facing routes and their methods (OPTIONS preflights answered for each). */
export const CORS_ROUTES: Readonly<Record<string, readonly ('GET' | 'POST')[]>> = {
  '/v1/attestation': ['GET'],
  '/v1/cluster/members': ['GET'],
  '/v1/wallets/:walletId': ['GET'],
  '/v1/wallets/:walletId/receipt': ['GET'],
  '/v1/wallets/:walletId/claim-nonce': ['POST'],
  '/v1/claims': ['POST'],
  '/v1/claims/:claimId': ['GET'],
  '/v1/claims/:claimId/solution': ['POST'],
};

const MAX_ORIGINS = 32;
/** scheme://host[:port], or scheme://host:* for any port (a local dev server's). */
const ORIGIN = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(?:\d{1,5}|\*))?$/;
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** An allowed-origins list parsed from `a,b,c`; throws CONFIG_INVALID naming each bad entry. */
export function parseCorsOrigins(text: string): string[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const bad = entries.filter((e) => !ORIGIN.test(e));
  if (bad.length > 0) {
    throw new VaultError(
      'CONFIG_INVALID',
      `--cors-origins: not an origin (scheme://host[:port|:*], lowercase, no path): ${bad.join(', ')}`,
      500,
    );
  }
  if (entries.length > MAX_ORIGINS) {
    throw new VaultError('CONFIG_INVALID', `--cors-origins: at most ${MAX_ORIGINS} origins`, 500);
  }
  return entries;
}

/** A test of a request's Origin header against the allowed list, compiled once. */
export function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  const exact = new Set(allowed.filter((a) => !a.endsWith(':*')));
  const anyPort = allowed
    .filter((a) => a.endsWith(':*'))
    .map((a) => new RegExp(`^${escapeRegExp(a.slice(0, -2))}(?::\\d{1,5})?$`));
  return (origin) => exact.has(origin) || anyPort.some((r) => r.test(origin));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Adds the CORS headers to the browser-facing routes' answers (errors, 503s and leader
 * redirects included) for allowed origins, and answers their preflights: 204 for an allowed
 * origin and method, 403 `CORS_REFUSED` otherwise. With no allowed origin, nothing changes but
 * the preflight routes, which then always refuse.
 */
export function registerCors(app: FastifyInstance, allowed: readonly string[]): void {
  const allows = originMatcher(allowed);
  app.addHook('onSend', (req, reply, payload, done) => {
    const route = req.routeOptions.url;
    if (route === undefined || !(route in CORS_ROUTES) || req.method === 'OPTIONS') {
      return done(null, payload);
    }
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (typeof origin === 'string' && allows(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', 'retry-after, x-vigil-read');
    }
    done(null, payload);
  });
  for (const [url, methods] of Object.entries(CORS_ROUTES)) {
    app.options(url, { schema: { hide: true } }, async (req, reply) => {
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const origin = req.headers.origin;
      const method = req.headers['access-control-request-method'];
      if (typeof origin !== 'string' || !allows(origin)) {
        return reply
          .code(403)
          .send(errorBody('CORS_REFUSED', 'this origin may not call the vault from a browser'));
      }
      if (typeof method !== 'string' || !(methods as readonly string[]).includes(method)) {
        return reply
          .code(403)
          .send(errorBody('CORS_REFUSED', `${url} answers ${methods.join(', ')} only`));
      }
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', methods.join(', '))
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
        .send();
    });
  }
}
