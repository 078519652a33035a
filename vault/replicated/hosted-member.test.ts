/**
 * The vault on Raft with every member's store kept by a host agent (issue 12 item 1), and the
 * leader's host turned bad after a ping cancelled a claim: from then on it answers each read
 * with the first version it ever served of that key (a rollback of the leader's disk, key by
 * key) or acknowledges writes it drops. The solution for the cancelled claim is never released
 * (P2/P4): the leader's store detects the wrong answers and stops, the honest members apply the
 * solution as refused, and every acknowledged deposit is on them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Faults,
  type FaultyHostProcess,
  forkFaultyHost,
} from '../../cluster/host/faulty-host.test-support.ts';
import { type ClusterError, HostClient, HostKvStore } from '../../cluster/index.ts';
import { until } from '../../test/support/until.ts';
import { solve } from '../../vdf/index.ts';
import type { Answer } from '../machine/index.ts';
import { Claimant, Operator, Tenant } from '../node/actors.test-support.ts';
import { devAttestation, listenLocalMember, newGenesis } from './local.ts';
import type { ClusterMember } from './member.ts';

const policy = { group: 'rsa2048' as const, iterations: 64 };
let dir: string;
let host: FaultyHostProcess;
const clients: HostClient[] = [];
let members: ClusterMember[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-hosted-member-'));
  host = await forkFaultyHost(join(dir, 'host'), join(dir, 'host.sock'), join(dir, 'faulty.sock'));
});

afterAll(async () => {
  await Promise.all(members.map((m) => m.close().catch(() => {})));
  for (const c of clients) await c.close();
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

function kind<T extends Answer['type']>(r: Answer, type: T) {
  expect(r.type).toBe(type);
  return r as Extract<Answer, { type: T }>;
}

async function startCluster(operator: Operator, broken: Map<string, ClusterError>) {
  const attestation = devAttestation(new Uint8Array(32).fill(3));
  const storageKey = new Uint8Array(32).fill(4);
  const genesis = newGenesis(operator.publicKey, { claimIntervalMs: 0 });
  const list: ClusterMember[] = [];
  for (const slot of ['node-1', 'node-2', 'node-3']) {
    const client = await HostClient.connect({ kind: 'unix', path: join(dir, 'faulty.sock') });
    clients.push(client);
    list.push(
      await listenLocalMember({
        dir,
        slot,
        generation: 1,
        attestation,
        storageKey,
        clusterId: 'hosted',
        genesis,
        commitTimeoutMs: 3_000,
        openStore: (d) =>
          HostKvStore.open(client, relative(dir, d), {
            onBroken: (e) => broken.set(relative(dir, d), e),
          }),
      }),
    );
  }
  const founders = await Promise.all(list.map((m) => m.record(`http://${m.slot}.invalid`)));
  for (const m of list) m.setFounders(founders);
  await Promise.all(list.map((m) => m.start()));
  return list;
}

describe('members whose host agent lies', () => {
  for (const fault of ['staleReads', 'dropWrites'] as const) {
    it(`a leader whose host turns to ${fault} after a ping never releases the cancelled claim`, async () => {
      const operator = new Operator();
      const broken = new Map<string, ClusterError>();
      members = await startCluster(operator, broken);
      const leader = await until(
        () =>
          members.find(
            (m) => m.isLeader && m.state.machine?.epochId && m.epochs.has(m.state.machine.epochId),
          ),
        30_000,
      );
      const keys = leader.publicKeys;
      const tenant = new Tenant('acme');
      kind(await leader.submit(operator.registerTenant(keys, tenant)), 'tenantRegistered');
      const w = tenant.newWallet();
      kind(await leader.submit(tenant.deposit(keys, w, policy)), 'deposited');
      const claimant = new Claimant(w);
      const claim = kind(
        await leader.submit(claimant.claim(keys, leader.mintClaimNonce(w.walletId).nonce)),
        'claim',
      ).claim;
      const r = await solve({
        group: claim.group,
        seed: claim.seed,
        iterations: claim.iterations,
        workers: 'never',
      });
      // proof of life: the claim is cancelled on every member
      kind(await leader.submit(tenant.ping(keys, leader.mintPingNonce('acme').nonce)), 'pinged');
      const ns = `${leader.slot}/raft-${leader.id}`;
      await host.setFaults({ [fault]: true, onlyNamespace: ns } satisfies Partial<Faults>);
      // more traffic for the bad host to get wrong, then the solution of the cancelled claim
      const more = tenant.newWallet();
      const deposited = await leader.submit(tenant.deposit(keys, more, policy)).then(
        () => true,
        () => false,
      );
      const outcome = await leader
        .submit({
          type: 'solve',
          solution: { claimId: claim.claimId, y: r.output, proof: r.proof },
        })
        .then(
          (a) => a.type,
          (e: { code?: string }) => e.code,
        );
      expect(outcome).not.toBe('released');
      // the leader's store noticed (it stops), or it answered from a state that is still right
      await until(() => broken.has(ns) || outcome === 'CLAIM_NOT_LIVE', 20_000);
      const honest = members.filter((m) => m !== leader);
      for (const m of honest) {
        await until(() => m.state.machine?.wallet(w.walletId), 20_000);
        expect(m.state.machine!.wallet(w.walletId)!.released).toBe(false);
        if (deposited) await until(() => m.state.machine?.wallet(more.walletId), 20_000);
      }
      expect([...broken.keys()]).toEqual([ns]);
      await host.setFaults({ [fault]: false });
      await Promise.all(members.map((m) => m.close().catch(() => {})));
      members = [];
    }, 90_000);
  }
});
