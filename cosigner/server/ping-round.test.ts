/**
 * A ping round against fake vault nodes on loopback (real sockets): a dead node is skipped, a
 * follower's redirect leads to the leader, which is then tried first; a refusal ends the round
 * after one retry; with no node able to commit, the round gives up within its budget.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { pingRound } from './ping-round.ts';
import { VaultRoute } from './vault-route.ts';

type Handler = (path: string) => { status: number; body?: unknown; location?: string };

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A fake node: answers each request with `handler`, counts the paths it was asked. */
async function node(handler: Handler): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url ?? '');
      const r = handler(req.url ?? '');
      res.writeHead(r.status, {
        'content-type': 'application/json',
        ...(r.location ? { location: r.location } : {}),
      });
      res.end(JSON.stringify(r.body ?? {}));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

const leaderHandler: Handler = (path) =>
  path.endsWith('/ping-nonce')
    ? { status: 200, body: { nonce: 'ab'.repeat(32) } }
    : { status: 200, body: { cancelledClaims: ['c1'] } };

/** A port nothing listens on: connections are refused at once, as from a killed node. */
async function deadUrl(): Promise<string> {
  const n = await node(() => ({ status: 500 }));
  const s = servers.pop() as Server;
  await new Promise((r) => s.close(r));
  return n.url;
}

const opts = (route: VaultRoute, budgetMs = 3_000) => ({
  route,
  tenant: 'acme',
  pingSecretKey: new Uint8Array(32).fill(1),
  clusterId: new Uint8Array(32).fill(2),
  budgetMs,
});

describe('a ping round', () => {
  it('skips a dead node, follows a redirect to the leader, and starts there next time', async () => {
    const leader = await node(leaderHandler);
    const follower = await node((path) => ({ status: 307, location: `${leader.url}${path}` }));
    const dead = await deadUrl();
    const route = new VaultRoute([dead, follower.url]);
    const r = await pingRound(opts(route));
    expect(r).toMatchObject({ ok: true, url: leader.url, cancelled: ['c1'] });
    expect(r.attempts.map((a) => a.outcome)).toEqual(['UNREACHABLE', `ok via ${leader.url}`]);
    expect(leader.hits).toEqual(['/v1/tenants/acme/ping-nonce', '/v1/pings']);
    expect(route.order()[0]).toBe(leader.url);
    const again = await pingRound(opts(route));
    expect(again.attempts).toEqual([{ url: leader.url, outcome: 'ok' }]);
  });

  it('keeps trying while no leader is known, and commits once one is', async () => {
    let calls = 0;
    const electing = await node((path) =>
      ++calls <= 3 ? { status: 503, body: { error: { code: 'NOT_LEADER' } } } : leaderHandler(path),
    );
    const r = await pingRound(opts(new VaultRoute([electing.url])));
    expect(r.ok).toBe(true);
    expect(r.attempts.map((a) => a.outcome)).toEqual([
      'NOT_LEADER',
      'NOT_LEADER',
      'NOT_LEADER',
      'ok',
    ]);
  });

  it('gives up on a refusal after one retry, and on dead nodes within its budget', async () => {
    const refusing = await node(() => ({
      status: 404,
      body: { error: { code: 'UNKNOWN_TENANT' } },
    }));
    const refused = await pingRound(opts(new VaultRoute([refusing.url])));
    expect(refused).toMatchObject({ ok: false, code: 'COSIGNER_VAULT_REJECTED' });
    expect(refusing.hits).toHaveLength(2);
    const t = performance.now();
    const down = await pingRound(opts(new VaultRoute([await deadUrl(), await deadUrl()]), 1_000));
    expect(down).toMatchObject({ ok: false, code: 'COSIGNER_VAULT_UNAVAILABLE' });
    expect(performance.now() - t).toBeLessThan(3_000);
    expect(down.attempts.length).toBeGreaterThanOrEqual(2);
  });
});
