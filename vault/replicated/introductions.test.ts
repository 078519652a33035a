import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type PausableProxy, startPausableProxy } from '../../test/support/pausable-proxy.ts';
import { until } from '../../test/support/until.ts';
import { Operator, Tenant } from '../node/actors.test-support.ts';
import type { Member } from './codec.ts';
import { attestMember, newIdentity } from './identity.ts';
import {
  decodeIntroduction,
  encodeIntroduction,
  introductionRefusal,
  type VouchContext,
} from './introductions.ts';
import { devAttestation, listenNextGeneration, startLocalCluster } from './local.ts';
import type { ClusterMember } from './member.ts';

const dev = devAttestation(randomBytes(32));
const clusterId = randomBytes(32);

async function recordOf(slot: string, generation: number, attestation = dev) {
  const identity = newIdentity(attestation.provider);
  const record = await attestMember(identity, {
    host: '127.0.0.1',
    port: 7401,
    httpUrl: `http://${slot}.invalid`,
    slot,
    generation,
  });
  return record;
}

function context(remote: Member, members: Member[], replayed: string[] = []): VouchContext {
  return {
    remoteStatic: remote.publicKey,
    clusterId,
    members: new Map(members.map((m) => [m.id, m])),
    replayedIds: new Set([...members.map((m) => m.id), ...replayed]),
    verifier: dev.verifier,
  };
}

describe('link introductions (issue 11 item 11)', () => {
  it('admit an attested member of this cluster that the replay has not reached yet', async () => {
    const [a, b] = [await recordOf('node-1', 1), await recordOf('node-2', 1)];
    const newer = await recordOf('node-2', 2);
    const intro = decodeIntroduction(encodeIntroduction({ clusterId, record: newer }));
    expect(intro?.record).toEqual(newer);
    expect(introductionRefusal(intro, context(newer, [a, b]))).toBeNull();
  });

  it('refuse anything else, and anything malformed', async () => {
    const a = await recordOf('node-1', 1);
    const b = await recordOf('node-2', 2);
    const intro = (record: Member, id = clusterId) =>
      decodeIntroduction(encodeIntroduction({ clusterId: id, record }));
    const refusal = (i: ReturnType<typeof intro>, c: VouchContext) => introductionRefusal(i, c);
    expect(refusal(intro(b, randomBytes(32)), context(b, [a]))).toBe('another cluster');
    expect(refusal(intro(b), { ...context(b, [a]), clusterId: null })).toMatch(/genesis/);
    const impostor = await recordOf('node-3', 1);
    expect(refusal(intro(b), context(impostor, [a]))).toBe('its record names another key');
    // a removed identity, and one whose slot already has its generation or a newer one
    expect(refusal(intro(b), context(b, [a], [b.id]))).toBe('a removed member');
    const newer = await recordOf('node-2', 3);
    expect(refusal(intro(b), context(b, [a, newer]))).toMatch(/already has generation 3/);
    // a document from another attestation key, and a record edited after it was attested
    const foreign = await recordOf('node-4', 1, devAttestation(randomBytes(32)));
    expect(refusal(intro(foreign), context(foreign, [a]))).toBe('attestation refused');
    const moved = { ...b, port: 9999 };
    expect(refusal(intro(moved), context(moved, [a]))).toBe('attestation refused');
    const bytes = encodeIntroduction({ clusterId, record: b });
    expect(decodeIntroduction(bytes.subarray(0, bytes.length - 1))).toBeNull();
    expect(decodeIntroduction(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(refusal(null, context(b, [a]))).toBe('malformed introduction');
  });
});

describe('a founder that lags behind the addition of a newer member, which then leads', () => {
  let dir: string;
  let members: ClusterMember[] = [];
  let proxy: PausableProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await Promise.all(members.map((m) => m.close()));
    members = [];
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts that leader’s link by its handshake introduction and catches up', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-introductions-'));
    const operator = new Operator();
    // node-3's peers reach it through a proxy on 127.0.0.2 (the host its record names), so the
    // test can cut the links to it without stopping it
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      advertiseHost: (slot) => (slot === 'node-3' ? '127.0.0.2' : undefined),
    });
    members = c.members;
    const lagging = members.find((m) => m.slot === 'node-3')!;
    proxy = await startPausableProxy(`tcp://127.0.0.1:${lagging.port}`, {
      host: '127.0.0.2',
      port: lagging.port,
    });
    const leaderNow = () => members.find((m) => m.isLeader && m.epochReady);
    if ((await until(leaderNow, 20_000, 'a leader')) === lagging) {
      lagging.raft.transferLeadership(members.find((m) => m !== lagging)!.id);
    }
    const first = await until(
      () => {
        const l = leaderNow();
        return l !== lagging && l;
      },
      20_000,
      `a leader other than node-3: ${JSON.stringify(members.map((m) => m.status().role))}`,
    );
    const keys = first.publicKeys;
    const tenant = new Tenant('acme');
    await first.submit(operator.registerTenant(keys, tenant));
    await until(() => lagging.state.machine?.tenantKey('acme'), 20_000, 'node-3 applying');

    // node-3 hears nobody from now on; the other follower is replaced by a new generation
    await proxy.down();
    const old = members.find((m) => m !== first && m !== lagging)!;
    const replacement = await listenNextGeneration({ dir, ...c }, old);
    members.push(replacement);
    await replacement.start(await first.admit(await replacement.record('http://r.invalid')));
    // promoted, and the identity it replaces removed (by the leader's housekeeping)
    await until(
      () => {
        const conf = first.status().conf;
        return conf.voters.includes(replacement.id) && !conf.voters.includes(old.id);
      },
      30_000,
      'the replacement promoted and its predecessor removed',
    );
    members = members.filter((m) => m !== old);
    await old.close();
    first.raft.transferLeadership(replacement.id);
    await until(() => replacement.isLeader && replacement.epochReady, 20_000, 'the new leader');
    const w = tenant.newWallet();
    await replacement.submit(tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 }));
    // node-3's replay has not reached the replacement's addition: it knows no such member
    expect(lagging.state.members.has(replacement.id)).toBe(false);

    await proxy.up();
    await until(
      () => lagging.state.machine?.wallet(w.walletId),
      30_000,
      'node-3 catching up from the leader it did not know',
    );
    expect(lagging.state.members.has(replacement.id)).toBe(true);
    expect(lagging.status().leader).toBe(replacement.id);
    await until(
      () => lagging.status().appliedIndex >= replacement.status().commitIndex,
      10_000,
      'node-3 at the leader’s commit index',
    );
  }, 90_000);
});
