/**
 * Issue 12's done-criterion, end to end with real processes: three `vigil cluster node`s, each
 * keeping its records with its own `vigil host` agent (`--storage host:unix:...`) and serving
 * attested HTTPS on its API and its peer links (`--tls on`, the dev attestation). Every request
 * of this test goes through a client that pins each node's TLS key through its attestation
 * document. Through it: deposits and claims under way, a ping that cancels a claim, a claim
 * solved and released; then one node's host agent is SIGKILLed, the node stops, both are
 * restarted (a new member), and no acknowledged deposit is lost.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Tenant, testLimits } from '../vault/node/actors.test-support.ts';
import {
  agreedClaimStatus,
  depositClaimSolve,
  missingWrites,
  pingTenant,
  releaseWithRetries,
  submitSolution,
  urlsOf,
  WriteStream,
} from './support/cluster.ts';
import { HostedCluster } from './support/hosted-cluster.ts';

let cluster: HostedCluster | undefined;
const plainFetch = globalThis.fetch;
afterAll(async () => {
  vi.unstubAllGlobals();
  await cluster?.destroy();
});

describe('host agents and attested TLS together', () => {
  it('deposits, pings, claims and releases over attested HTTPS, and survives a host agent killed', async () => {
    cluster = await HostedCluster.start({ tls: true });
    const c = cluster;
    // every fetch below (the shared helpers' too) pins the nodes' keys through attestation
    vi.stubGlobal('fetch', c.client!.fetch);
    const first = await c.founded();
    expect(first.every((n) => (n.url as string).startsWith('https://'))).toBe(true);
    // no CA vouches for a node: a client that does not check its attestation cannot connect
    await expect(plainFetch(`${first[0]!.url}/v1/cluster/status`)).rejects.toThrow();

    const keys = c.keys;
    const acme = new Tenant('acme');
    const beta = new Tenant('beta');
    const follower = first.find((n) => n.role !== 'leader')!;
    expect(await c.registerTenant(follower.url, acme)).toBe(201);
    expect(await c.registerTenant(follower.url, beta)).toBe(201);
    const stream = new WriteStream(c, acme, urlsOf(first));
    await stream.more(5, 'the first deposits');

    // a ping cancels beta's live claim (P2): its solution is refused afterwards
    const T = testLimits.minIterations;
    const cancelled = await depositClaimSolve(follower.url, keys, beta, T);
    const pinged = await pingTenant(c, beta, follower.url, first[0]!.url);
    expect([pinged.status, pinged.json.cancelledClaims]).toEqual([200, [cancelled.claimId]]);
    const late = await submitSolution(follower.url, cancelled, { client: 'late', seq: 1 });
    expect([late.status, late.json.error?.code]).toEqual([409, 'CLAIM_NOT_LIVE']);

    // a claim made after the ping, solved and released; the x2 it carries opens against Q2
    const released = await depositClaimSolve(follower.url, keys, beta, T);
    const x2 = await releaseWithRetries(c, urlsOf(first), released, { client: 'r', seq: 1 });
    expect(x2).toBe(released.wallet.x2);

    // the host agent of a follower is SIGKILLed: its node stops rather than run without a store
    const i = c.slots.indexOf(follower.slot as string);
    stream.live = urlsOf(first.filter((n) => n !== follower));
    await c.killHost(i);
    expect(c.nodes[i]!.output()).toMatch(/storage failed, exiting/);
    await stream.more(5, 'deposits on the two others');
    const rejoined = await c.rejoin(i);
    expect(rejoined.find((n) => n.slot === follower.slot)!.id).not.toBe(follower.id);
    stream.live = urlsOf(rejoined);
    await stream.more(5, 'deposits with the new member');
    await stream.stop();

    const end = await c.until('the final convergence', () => c.converged());
    expect(await missingWrites(end, stream)).toEqual([]);
    expect(stream.acked.length).toBeGreaterThanOrEqual(15);
    expect(await agreedClaimStatus(end, released.claimId)).toBe('released');
    expect(await agreedClaimStatus(end, cancelled.claimId)).toBe('cancelled');
  }, 240_000);
});
