import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.ts';
import { NotLeaderError } from '../http/errors.ts';
import type { Answer } from '../machine/index.ts';
import { Operator, Tenant } from '../node/actors.test-support.ts';
import { listenNextGeneration, startLocalCluster } from './local.ts';
import type { ClusterMember } from './member.ts';
import type { RecoveredRecords } from './recover.ts';

const policy = { group: 'rsa2048' as const, iterations: 64 };
let dir: string;
let members: ClusterMember[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-replicated-'));
});
afterEach(async () => {
  await Promise.all(members.map((m) => m.close()));
  members = [];
  await rm(dir, { recursive: true, force: true });
});

function leaderOf(list: ClusterMember[]): ClusterMember | undefined {
  return list.find(
    (m) => m.isLeader && m.state.machine?.epochId && m.epochs.has(m.state.machine.epochId),
  );
}

function kind<T extends Answer['type']>(r: Answer, type: T) {
  expect(r.type).toBe(type);
  return r as Extract<Answer, { type: T }>;
}

describe('the vault on Raft (in-process, 3 members, loopback links)', () => {
  it('replicates keys, deposits and epochs; followers redirect writes', async () => {
    const operator = new Operator();
    const c = await startLocalCluster({ n: 3, dir, operatorKey: operator.publicKey });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    kind(await leader.submit(operator.registerTenant(keys, tenant)), 'tenantRegistered');
    const wallets = [tenant.newWallet(), tenant.newWallet()];
    for (const w of wallets)
      kind(await leader.submit(tenant.deposit(keys, w, policy)), 'deposited');
    // every replica applies the same state, with the same cluster keys and the epoch secret
    for (const m of members) {
      await until(() => m.state.machine?.wallet(wallets[1]!.walletId));
      expect(m.publicKeys.receiptKey).toEqual(keys.receiptKey);
      await until(() => m.epochs.has(m.state.machine!.epochId!));
      // any replica signs a receipt to the same bytes (receipts are signed where answered)
      expect((await m.receipt(wallets[0]!.walletId))?.signature).toEqual(
        (await leader.receipt(wallets[0]!.walletId))?.signature,
      );
    }
    const follower = members.find((m) => m !== leader)!;
    await expect(
      follower.submit(tenant.deposit(keys, tenant.newWallet(), policy)),
    ).rejects.toBeInstanceOf(NotLeaderError);
    // client sessions: a retried request (same client id + seq) is applied once, same reply
    const again = tenant.deposit(keys, tenant.newWallet(), policy);
    const once = kind(await leader.submit(again, { clientId: 'app-1', seq: 7 }), 'deposited');
    const retry = kind(await leader.submit(again, { clientId: 'app-1', seq: 7 }), 'deposited');
    expect(retry.receipt.logIndex).toBe(once.receipt.logIndex);
    await expect(leader.submit(again)).rejects.toMatchObject({ code: 'STALE_SEQUENCE' }); // not deduped without
    await expect(leader.submit(again, { clientId: 'app-1', seq: 6 })).rejects.toMatchObject({
      code: 'STALE_RETRY',
    });
    // sessions belong to the principal that signs (issue 11 item 4): a third party reusing the
    // provider's client id with a huge sequence number, on a ping it cannot sign or on its own
    // tenant's command, does not make the provider's next ping a STALE_RETRY (that let a claim
    // slip past proof of life)
    const mallory = new Tenant('mallory');
    await leader.submit(operator.registerTenant(keys, mallory));
    const forged = tenant.ping(keys, leader.mintPingNonce('acme').nonce);
    if (forged.type !== 'ping') throw new Error('unreachable');
    const unsigned = { ...forged, ping: { ...forged.ping, signature: new Uint8Array(64) } };
    await expect(leader.submit(unsigned, { clientId: 'pinger', seq: 1e9 })).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    const theirs = mallory.ping(keys, leader.mintPingNonce('mallory').nonce);
    kind(await leader.submit(theirs, { clientId: 'pinger', seq: 1e9 }), 'pinged');
    const mine = tenant.ping(keys, leader.mintPingNonce('acme').nonce);
    kind(await leader.submit(mine, { clientId: 'pinger', seq: 1 }), 'pinged');
    // the same sequence number for a different command is a 409, never another command's reply
    const next = tenant.ping(keys, leader.mintPingNonce('acme').nonce);
    await expect(leader.submit(next, { clientId: 'pinger', seq: 1 })).rejects.toMatchObject({
      code: 'SESSION_CONFLICT',
      status: 409,
    });
    // a follower sends nonce requests to the leader (it may not have applied yet the deposit a
    // client was just answered for) ...
    expect(() => follower.mintPingNonce('acme')).toThrow(NotLeaderError);
    // ... but the secret is shared: a ping nonce minted with the follower's copy verifies on the
    // leader (a nonce minted before a leader change stays good)
    const epochId = follower.state.machine!.epochId!;
    const nonce = follower.state.machine!.mintPingNonce('acme', {
      epochId,
      epochSecret: follower.epochs.get(epochId)!,
      timestamp: Date.now(),
      random: crypto.getRandomValues(new Uint8Array(32)),
    });
    kind(await leader.submit(tenant.ping(keys, nonce.nonce)), 'pinged');
  }, 30_000);

  it('a restarted node rejoins as a new member, catches up, and its old identity is removed', async () => {
    const operator = new Operator();
    // compaction every 4 entries: the joiner catches up by snapshot, not by replaying the log
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      snapshotEvery: 4,
    });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    await leader.submit(operator.registerTenant(keys, tenant));
    const w = tenant.newWallet();
    await leader.submit(tenant.deposit(keys, w, policy));
    for (let i = 0; i < 6; i++)
      await leader.submit(tenant.deposit(keys, tenant.newWallet(), policy));
    expect(leader.status().snapshotIndex).toBeGreaterThan(0);
    const victim = members.find((m) => m !== leader)!;
    const oldId = victim.id;
    const oldRecord = await victim.record('http://victim.invalid');
    await victim.close();
    members = members.filter((m) => m !== victim);
    const joiner = await listenNextGeneration({ dir, ...c }, victim, { snapshotEvery: 4 });
    members.push(joiner);
    expect(joiner.id).not.toBe(oldId);
    const record = await joiner.record('http://joiner.invalid');
    // an attested record with a field changed is refused (issue 11 item 10)
    for (const changed of [{ port: 1 }, { slot: 'node-9' }, { generation: 99 }]) {
      await expect(leader.admit({ ...record, ...changed })).rejects.toMatchObject({
        code: 'ATTESTATION_REJECTED',
        status: 403,
      });
    }
    const directory = await leader.admit(record);
    await joiner.start(directory);
    // caught up by log or snapshot, promoted, and the old identity removed from Raft and directory
    await until(() => {
      const conf = leader.status().conf;
      return (
        conf.voters.includes(joiner.id) &&
        !conf.voters.includes(oldId) &&
        !leader.state.members.has(oldId)
      );
    }, 15_000);
    await until(() => joiner.state.machine?.wallet(w.walletId));
    expect(joiner.publicKeys.receiptKey).toEqual(keys.receiptKey);
    // the replaced identity's own record, replayed, cannot come back
    await expect(leader.admit(oldRecord)).rejects.toMatchObject({ code: 'STALE_MEMBER' });
    await until(() => joiner.epochs.has(joiner.state.machine!.epochId!));
    // the new member can take over: transfer leadership and keep writing
    leader.raft.transferLeadership(joiner.id);
    await until(() => joiner.isLeader);
    const w2 = tenant.newWallet();
    kind(await joiner.submit(tenant.deposit(keys, w2, policy)), 'deposited');
    for (const m of members) await until(() => m.state.machine?.wallet(w2.walletId));
  }, 30_000);
});

describe('a replacement member whose replay predates the current leader (issue 11 item 11)', () => {
  it('keeps its link to the leader that admitted it while it replays an older membership', async () => {
    const operator = new Operator();
    const c = await startLocalCluster({ n: 3, dir, operatorKey: operator.publicKey });
    members = c.members;
    const first = await until(() => leaderOf(members));
    const keys = first.publicKeys;
    const tenant = new Tenant('acme');
    await first.submit(operator.registerTenant(keys, tenant));
    for (let i = 0; i < 12; i++)
      await first.submit(tenant.deposit(keys, tenant.newWallet(), policy));
    // small Raft messages: whoever joins replays the log in many batches, not one
    const raft = { maxMsgBytes: 4096 };
    const replace = async (old: ClusterMember, admitter: ClusterMember) => {
      await old.close();
      members = members.filter((m) => m !== old);
      const joiner = await listenNextGeneration({ dir, ...c }, old, { raft });
      members.push(joiner);
      await joiner.start(await admitter.admit(await joiner.record(`http://${old.slot}.invalid`)));
      return joiner;
    };
    // the leader's slot gets a new member, which then leads: the genesis never listed it
    const [a, b] = members.filter((m) => m !== first) as [ClusterMember, ClusterMember];
    const next = await replace(a, first);
    await until(() => first.status().conf.voters.includes(next.id), 20_000);
    first.raft.transferLeadership(next.id);
    await until(() => next.isLeader, 20_000);
    const w = tenant.newWallet();
    kind(await next.submit(tenant.deposit(keys, w, policy)), 'deposited');
    // a later joiner replays from the genesis (no snapshot yet): it must not drop `next`
    const late = await replace(b, next);
    await until(
      () => late.state.machine?.wallet(w.walletId),
      30_000,
      'the late joiner catching up',
    );
    expect(late.status().appliedIndex).toBeGreaterThanOrEqual(next.status().commitIndex - 2);
  }, 90_000);
});

describe('a cluster that lost its majority says so (issue 11 item 14)', () => {
  it('after two of three voters crash, the survivor reports the quorum lost and the command', async () => {
    const operator = new Operator();
    const c = await startLocalCluster({ n: 3, dir, operatorKey: operator.publicKey });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    const survivor = members.find((m) => m !== leader)!;
    expect(survivor.quorum().state).toBe('ok');
    // the double crash: the leader, then whoever would have led next
    for (const m of members.filter((x) => x !== survivor)) await m.close();
    members = [survivor];
    const lost = await until(
      () => (survivor.quorum().state === 'lost' ? survivor.quorum() : null),
      40_000,
      'the survivor to report the quorum lost',
    );
    expect(lost.reachable).toEqual([survivor.id]);
    expect(lost.voters).toHaveLength(3);
    expect(lost.advice).toMatch(/vigil cluster recover --data-dir D/);
  }, 60_000);
});

describe('releases need a majority', () => {
  it('an isolated leader cannot release: no reply, no released state anywhere', async () => {
    const { Claimant } = await import('../node/actors.test-support.ts');
    const { solve } = await import('../../vdf/index.ts');
    const operator = new Operator();
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      limits: { claimIntervalMs: 0 },
      commitTimeoutMs: 2_000,
    });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    await leader.submit(operator.registerTenant(keys, tenant));
    const w = tenant.newWallet();
    await leader.submit(tenant.deposit(keys, w, policy));
    const claimant = new Claimant(w);
    const nonce = leader.mintClaimNonce(w.walletId);
    const claim = kind(await leader.submit(claimant.claim(keys, nonce.nonce)), 'claim').claim;
    const r = await solve({
      group: claim.group,
      seed: claim.seed,
      iterations: claim.iterations,
      workers: 'never',
    });
    const solveCmd = {
      type: 'solve' as const,
      solution: { claimId: claim.claimId, y: r.output, proof: r.proof },
    };
    // isolate the leader: both followers stop (their state stays for the check below)
    const followers = members.filter((m) => m !== leader);
    await Promise.all(followers.map((f) => f.close()));
    const outcome = await leader.submit(solveCmd).then(
      () => 'released',
      (e: { code?: string }) => e.code,
    );
    expect(['COMMIT_TIMEOUT', 'NOT_LEADER']).toContain(outcome); // no majority: no release
    expect(leader.state.machine!.wallet(w.walletId)!.released).toBe(false);
    // the followers are stopped: read what their disks hold
    const { RaftStorage } = await import('../../cluster/index.ts');
    const { StorageBox } = await import('../enclave/index.ts');
    const { EpochKeeper } = await import('./epochs.ts');
    const { ReplicatedState } = await import('./state.ts');
    for (const f of followers) {
      const storage = await RaftStorage.open(
        join(dir, f.slot, `raft-${f.id}`),
        new StorageBox(c.storageKey),
      );
      await storage.load();
      const stored = new ReplicatedState({ epochs: new EpochKeeper() });
      await stored.load(storage.state);
      // (the deposit itself may not be applied there yet: its commit rides the next heartbeat)
      expect(stored.machine!.wallet(w.walletId)?.released ?? false).toBe(false);
      await storage.close();
    }
  }, 30_000);
});

describe('releases and the HTTP layer', () => {
  it('a release is applied in log order on every node; /metrics and /healthz show Raft', async () => {
    const { Claimant } = await import('../node/actors.test-support.ts');
    const { solve } = await import('../../vdf/index.ts');
    const { buildVaultApp } = await import('../http/app.ts');
    const { clusterApi, RaftMetrics } = await import('./api.ts');
    const operator = new Operator();
    const metrics = new RaftMetrics();
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      limits: { claimIntervalMs: 0 },
      onFsync: (s) => metrics.fsyncSeconds.observe(s),
    });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    metrics.attach(leader);
    const keys = leader.publicKeys;
    const tenant = new Tenant('acme');
    await leader.submit(operator.registerTenant(keys, tenant));
    const w = tenant.newWallet();
    await leader.submit(tenant.deposit(keys, w, policy));
    const claimant = new Claimant(w);
    const follower = members.find((m) => m !== leader)!;
    await until(() => follower.state.machine?.wallet(w.walletId) && follower.epochReady);
    const nonce = leader.mintClaimNonce(w.walletId);
    const claim = kind(await leader.submit(claimant.claim(keys, nonce.nonce)), 'claim').claim;
    const r = await solve({
      group: claim.group,
      seed: claim.seed,
      iterations: claim.iterations,
      workers: 'never',
    });
    const released = kind(
      await leader.submit({
        type: 'solve',
        solution: { claimId: claim.claimId, y: r.output, proof: r.proof },
      }),
      'released',
    );
    expect(claimant.openRelease(keys, claim, released.release)).toBe(w.x2);
    for (const m of members) {
      await until(() => m.state.machine?.wallet(w.walletId)?.released);
      expect(m.state.machine!.claim(claim.claimId)!.status).toBe('released');
    }
    const app = await buildVaultApp({
      backend: leader,
      attestation: c.attestation.provider,
      cluster: clusterApi(leader, metrics, () => 'http://leader.invalid'),
    });
    const text = (await app.inject({ url: '/metrics' })).body;
    for (const name of [
      'vigil_raft_term',
      'vigil_raft_commit_index',
      'vigil_raft_applied_index',
      'vigil_raft_peer_match_index{peer=',
      'vigil_raft_peer_inflight_messages{peer=',
      'vigil_raft_fsync_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    const health = (await app.inject({ url: '/healthz' })).json();
    expect(health.raft.role).toBe('leader');
    expect(health.raft.peers).toHaveLength(2);
    // a follower's app redirects writes to the leader
    const fapp = await buildVaultApp({
      backend: follower,
      attestation: c.attestation.provider,
      cluster: clusterApi(follower, new RaftMetrics(), () => 'http://follower.invalid'),
    });
    const { depositToJson } = await import('../protocol/index.ts');
    const dep = tenant.deposit(keys, tenant.newWallet(), policy);
    if (dep.type !== 'deposit') throw new Error('unreachable');
    const res = await fapp.inject({
      method: 'POST',
      url: '/v1/deposits',
      payload: depositToJson(dep.deposit),
    });
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe(`http://${leader.slot}.invalid/v1/deposits`);
    await app.close();
    await fapp.close();
  }, 30_000);
});

describe('vigil cluster recover (in-process)', () => {
  it('restarts a whole cluster from disk: a new epoch, every deposit kept, every pending claim void', async () => {
    const { openRecovered, recoverVault, retireRaftDirs } = await import('./recover.ts');
    const { Claimant } = await import('../node/actors.test-support.ts');
    const { StorageBox } = await import('../enclave/index.ts');
    const operator = new Operator();
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      limits: { claimIntervalMs: 0 },
    });
    members = c.members;
    const leader = await until(() => leaderOf(members));
    const keys = leader.publicKeys;
    const oldEpoch = leader.state.machine!.epochId!;
    const tenant = new Tenant('acme');
    await leader.submit(operator.registerTenant(keys, tenant));
    const wallets = [tenant.newWallet(), tenant.newWallet(), tenant.newWallet()];
    for (const w of wallets) await leader.submit(tenant.deposit(keys, w, policy));
    const claimant = new Claimant(wallets[0]!);
    const nonce = leader.mintClaimNonce(claimant.wallet.walletId);
    const claim = kind(await leader.submit(claimant.claim(keys, nonce.nonce)), 'claim').claim;
    expect(claim.status).toBe('live');
    await Promise.all(members.map((m) => m.close())); // the whole cluster stops; secrets are gone
    members = [];

    const slots = ['node-1', 'node-2', 'node-3'].map((s) => join(dir, s));
    const cipher = new StorageBox(c.storageKey);
    const report = await recoverVault(slots.map((d) => ({ dir: d, cipher })));
    await retireRaftDirs(slots);
    const copies = new Map<string, RecoveredRecords>();
    for (const d of slots) copies.set(basename(d), (await openRecovered(d, cipher))!);
    expect(copies.get('node-2')!.digest).toEqual(report.digest);
    const r = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: operator.publicKey,
      recovered: (slot) => copies.get(slot),
    });
    members = r.members;
    const next = await until(() => leaderOf(members));
    expect(next.state.machine!.epochId).not.toEqual(oldEpoch);
    expect(next.publicKeys.receiptKey).toEqual(keys.receiptKey);
    for (const w of wallets) expect(next.state.machine!.wallet(w.walletId)).not.toBeNull();
    expect(next.state.machine!.claim(claim.claimId)?.status).toBe('voided');
    // the recovered vault keeps working
    const w4 = tenant.newWallet();
    kind(await next.submit(tenant.deposit(keys, w4, policy)), 'deposited');
    // recover refuses without a majority of disks
    const few = [join(dir, 'none-1'), join(dir, 'none-2'), slots[0]!].map((d) => ({
      dir: d,
      cipher,
    }));
    await expect(recoverVault(few)).rejects.toThrow(/majority/);
  }, 40_000);
});

describe('recovering a vault larger than one Raft entry', () => {
  it('founds from each founder’s copy: every deposit kept, claims void, digests agree, a joiner gets it by snapshot', async () => {
    const { MAX_ENTRY_BYTES } = await import('../../cluster/index.ts');
    const { buildRecoveredVault } = await import('./recovery.test-support.ts');
    const big = await buildRecoveredVault({ deposits: 12, minBytes: MAX_ENTRY_BYTES + 64 * 1024 });
    expect(big.bytes).toBeGreaterThan(MAX_ENTRY_BYTES);
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: big.operator.publicKey,
      recovered: big.recovered,
      snapshotChunkBytes: 64 * 1024, // the joiner gets the vault in many chunks
    });
    members = c.members;
    const leader = await until(() => leaderOf(members), 20_000);
    // the log no longer holds the genesis: whoever joins later can only get the vault by snapshot
    expect(leader.status().snapshotIndex).toBeGreaterThan(0);
    const keys = leader.publicKeys;
    const w = big.tenant.newWallet();
    kind(await leader.submit(big.tenant.deposit(keys, w, policy)), 'deposited');
    const victim = members.find((m) => m !== leader)!;
    await victim.close();
    members = members.filter((m) => m !== victim);
    const joiner = await listenNextGeneration({ dir, ...c }, victim);
    members.push(joiner);
    await joiner.start(await leader.admit(await joiner.record('http://joiner.invalid')));
    await until(() => joiner.state.machine?.wallet(w.walletId), 20_000);
    expect(joiner.status().snapshotIndex).toBeGreaterThan(0);
    const applied = leader.status().appliedIndex;
    for (const m of members) await until(() => m.state.appliedIndex >= applied);
    const digests = new Set<string>();
    for (const m of members) {
      await m.raft.whenApplyDurable();
      digests.add(Buffer.from(await m.state.recordsDigest()).toString('hex'));
    }
    expect(digests.size).toBe(1);
    for (const m of members) {
      expect(m.state.halted).toBeNull();
      for (const id of big.walletIds) expect(m.state.machine!.wallet(id)).not.toBeNull();
      expect(m.state.machine!.claim(big.claimId)?.status).toBe('voided');
    }
  }, 60_000);

  it('a founder whose recovered copy differs from the committed one halts; no replica diverges', async () => {
    const { buildRecoveredVault } = await import('./recovery.test-support.ts');
    const a = await buildRecoveredVault({ deposits: 2 });
    const b = await buildRecoveredVault({ deposits: 1 });
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: a.operator.publicKey,
      recovered: (slot) => (slot === 'node-3' ? b.recovered : a.recovered),
    });
    members = c.members;
    await until(() => members.every((m) => m.state.halted || m.state.machine), 20_000);
    const halted = members.filter((m) => m.state.halted).map((m) => m.slot);
    // whichever copy the first leader committed, the founders holding the other one refuse it
    expect([['node-3'], ['node-1', 'node-2']]).toContainEqual(halted);
    for (const m of members) {
      if (m.state.halted) {
        expect(m.state.halted.code).toBe('RECOVERY_MISMATCH');
        expect(m.state.machine).toBeNull();
      }
    }
    const applied = members.filter((m) => !m.state.halted);
    const [mine, theirs] = applied[0]!.slot === 'node-3' ? [b, a] : [a, b];
    for (const m of applied) {
      expect(m.state.machine!.wallet(mine.walletIds[0]!)).not.toBeNull();
      expect(m.state.machine!.wallet(theirs.walletIds[0]!)).toBeNull();
    }
  }, 40_000);
});
