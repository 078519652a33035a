/**
 * One ping round and one membership refresh against a vault cluster (a shell: network and
 * randomness; which node to try is VaultRoute's). A round tries the preferred node, then the
 * others, until one commits the ping or the round's budget (one ping interval) is spent; a
 * follower's redirect names the leader, which is preferred from then on. It runs in the ping
 * worker thread and, for a ping by hand, on the main thread: nothing here touches the store.
 */
import { parseHex, pingToJson, signPing } from '../../vault/protocol/index.ts';
import { systemRandom } from '../random.ts';
import type { VaultRoute } from './vault-route.ts';

/** What one node did with one attempt: `ok`, or the reason it did not commit the ping. */
export interface PingAttempt {
  url: string;
  outcome: string;
}

export type PingRoundResult =
  | { ok: true; url: string; cancelled: string[]; attempts: PingAttempt[] }
  | {
      ok: false;
      /** UNAVAILABLE: no node committed it in time; REJECTED: a node refused it (4xx). */
      code: 'COSIGNER_VAULT_UNAVAILABLE' | 'COSIGNER_VAULT_REJECTED';
      attempts: PingAttempt[];
    };

export interface PingRoundOptions {
  route: VaultRoute;
  tenant: string;
  pingSecretKey: Uint8Array;
  clusterId: Uint8Array;
  /** The round ends by then (ms): one ping interval, so a dead node cannot cost a whole round. */
  budgetMs: number;
  fetch?: typeof fetch;
}

const MAX_REPLY_BYTES = 64 * 1024;
/** Pause between passes over every node (e.g. while the cluster elects a new leader). */
const PASS_PAUSE_MS = 150;

/** A node's answer; status 0 when there was none (`error` says why). */
interface Reply {
  status: number;
  json: unknown;
  url: string;
  error: string;
}

async function call(
  f: typeof fetch,
  url: string,
  method: 'GET' | 'POST',
  timeoutMs: number,
  body?: unknown,
): Promise<Reply> {
  try {
    // A follower answers writes with 307 to the leader; fetch follows it with the same body,
    // and res.url then names the leader.
    const res = await f(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length <= MAX_REPLY_BYTES ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, url: res.url || url, error: '' };
  } catch (err) {
    const error = (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'UNREACHABLE';
    return { status: 0, json: undefined, url, error };
  }
}

function codeOf(r: Reply): string {
  if (r.status === 0) return r.error;
  const code = (r.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code.slice(0, 64) : `HTTP_${r.status}`;
}

/** One node: a fresh nonce (minted by the leader), the signed ping, its commit. */
async function pingAt(
  o: PingRoundOptions,
  base: string,
  timeoutMs: number,
): Promise<
  | { kind: 'ok'; leader: string; cancelled: string[] }
  | { kind: 'down' | 'refused'; outcome: string }
> {
  const f = o.fetch ?? fetch;
  const deadline = performance.now() + timeoutMs;
  const left = () => deadline - performance.now();
  const path = `/v1/tenants/${encodeURIComponent(o.tenant)}/ping-nonce`;
  const n = await call(f, `${base}${path}`, 'POST', left());
  if (n.status === 0 || n.status >= 500) return { kind: 'down', outcome: codeOf(n) };
  if (n.status >= 400) return { kind: 'refused', outcome: codeOf(n) };
  let nonce: Uint8Array;
  try {
    nonce = parseHex('nonce', (n.json as { nonce?: unknown } | undefined)?.nonce, 32);
  } catch {
    return { kind: 'down', outcome: 'MALFORMED_NONCE' };
  }
  const ping = signPing(
    o.clusterId,
    { tenant: o.tenant, nonce },
    o.pingSecretKey,
    systemRandom(32),
  );
  // The ping goes where the nonce came from: the leader that minted it.
  const leader = new URL(n.url).origin;
  const p = await call(f, `${leader}/v1/pings`, 'POST', left(), pingToJson(ping));
  if (p.status === 0 || p.status >= 500) return { kind: 'down', outcome: codeOf(p) };
  if (p.status >= 400) return { kind: 'refused', outcome: codeOf(p) };
  const cancelled = (p.json as { cancelledClaims?: unknown } | undefined)?.cancelledClaims;
  return {
    kind: 'ok',
    leader,
    cancelled: Array.isArray(cancelled) ? cancelled.filter((c) => typeof c === 'string') : [],
  };
}

export async function pingRound(o: PingRoundOptions): Promise<PingRoundResult> {
  const end = performance.now() + o.budgetMs;
  // A node that hangs may take half the round; one that is down answers at once (refused).
  const perAttempt = Math.max(750, o.budgetMs / 2);
  const attempts: PingAttempt[] = [];
  let refusedOnce = false;
  while (performance.now() < end) {
    for (const url of o.route.order()) {
      const left = end - performance.now();
      if (left <= 0) break;
      const r = await pingAt(o, url, Math.min(left, perAttempt));
      if (r.kind === 'ok') {
        attempts.push({ url, outcome: r.leader === url ? 'ok' : `ok via ${r.leader}` });
        // the next round starts at the leader that committed this one (no redirect hop)
        o.route.succeeded(o.route.leader(r.leader) ?? url);
        return { ok: true, url: r.leader, cancelled: r.cancelled, attempts };
      }
      attempts.push({ url, outcome: r.outcome });
      if (r.kind === 'refused') {
        // A refusal is the cluster's answer, not one node's fault; but a leader change between
        // nonce and ping can void the nonce, so it gets one more try before the round gives up.
        if (refusedOnce) return { ok: false, code: 'COSIGNER_VAULT_REJECTED', attempts };
        refusedOnce = true;
        break;
      }
      o.route.failed(url);
    }
    const pause = Math.min(PASS_PAUSE_MS, end - performance.now());
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }
  return { ok: false, code: 'COSIGNER_VAULT_UNAVAILABLE', attempts };
}

/**
 * Asks the known nodes, in order, for the cluster's membership and learns it. A node that serves
 * no membership (a single vault node: 404) leaves the configured URLs as they are. Returns
 * whether the set of known nodes changed.
 */
export async function refreshMembers(
  route: VaultRoute,
  timeoutMs: number,
  f: typeof fetch = fetch,
): Promise<boolean> {
  for (const url of route.order()) {
    const r = await call(f, `${url}/v1/cluster/members`, 'GET', timeoutMs);
    if (r.status === 200) return route.learn(r.json);
    if (r.status === 404) return false;
  }
  return false;
}
