import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { solve } from '../../vdf/index.ts';
import { StorageBox } from '../enclave/storage-box.ts';
import { VaultError } from '../errors.ts';
import type { Answer, ClaimView } from '../machine/index.ts';
import { scalarToBytes } from '../protocol/index.ts';
import { Claimant, Operator, Tenant } from './actors.test-support.ts';
import { VaultNode } from './vault-node.ts';

const policy = { group: 'rsa2048' as const, iterations: 64 };
let dir: string;
let storageKey: Uint8Array;
const operator = new Operator();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-node-'));
  storageKey = randomBytes(32);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function openNode(key = storageKey) {
  return VaultNode.open({
    dataDir: dir,
    cipher: new StorageBox(key),
    operatorKey: operator.publicKey,
    limits: { claimIntervalMs: 0 },
    // a frozen quorum clock proposes no time entries: the log holds only what the tests write
    monotonicClock: () => 0,
  });
}

function expectResult<T extends Answer['type']>(r: Answer, type: T) {
  expect(r.type).toBe(type);
  return r as Extract<Answer, { type: T }>;
}

async function setup() {
  const node = await openNode();
  const cluster = node.publicKeys;
  const tenant = new Tenant('acme');
  await node.submit(operator.registerTenant(cluster, tenant));
  const wallet = tenant.newWallet();
  const receipt = expectResult(
    await node.submit(tenant.deposit(cluster, wallet, policy)),
    'deposited',
  );
  return { node, cluster, tenant, wallet, receipt };
}

async function startClaim(node: VaultNode, claimant: Claimant): Promise<ClaimView> {
  const cluster = node.publicKeys;
  const nonce = node.mintClaimNonce(claimant.wallet.walletId);
  return expectResult(await node.submit(claimant.claim(cluster, nonce.nonce)), 'claim').claim;
}

async function solution(claim: ClaimView) {
  const r = await solve({
    group: claim.group,
    seed: claim.seed,
    iterations: claim.iterations,
    workers: 'never',
  });
  return {
    type: 'solve' as const,
    solution: { claimId: claim.claimId, y: r.output, proof: r.proof },
  };
}

describe('VaultNode on LevelDB', () => {
  it('keeps acknowledged deposits across a restart, with the same cluster keys', async () => {
    const { node, cluster, wallet, receipt } = await setup();
    await node.close();
    const again = await openNode();
    expect(Buffer.from(again.publicKeys.clusterEncryptionKey)).toEqual(
      Buffer.from(cluster.clusterEncryptionKey),
    );
    expect(again.machine.wallet(wallet.walletId)?.q2).toEqual(wallet.q2);
    expect(await again.receipt(wallet.walletId)).toEqual(receipt.receipt);
    await again.close();
  });

  it('releases x2 to the claimant after a valid solution, and only to them', async () => {
    const { node, cluster, wallet } = await setup();
    const claimant = new Claimant(wallet);
    const claim = await startClaim(node, claimant);
    const released = expectResult(await node.submit(await solution(claim)), 'released');
    expect(claimant.openRelease(cluster, claim, released.release)).toBe(wallet.x2);
    const stranger = new Claimant(wallet);
    expect(() => stranger.openRelease(cluster, claim, released.release)).toThrow();
    await node.close();
  });

  it('voids a pending claim on restart (new epoch) but keeps the deposit (P4)', async () => {
    const { node, wallet } = await setup();
    const claim = await startClaim(node, new Claimant(wallet));
    await node.close();
    const again = await openNode();
    expect(again.machine.claim(claim.claimId)?.status).toBe('voided');
    expect(again.machine.wallet(wallet.walletId)?.liveClaim).toBeNull();
    await expect(again.submit(await solution(claim))).rejects.toBeInstanceOf(VaultError);
    await again.close();
  });

  it('a disk rolled back to a copy taken while a claim was live does not revive it (P4)', async () => {
    const { node, cluster, tenant, wallet } = await setup();
    const claim = await startClaim(node, new Claimant(wallet));
    await node.close();
    const copy = `${dir}-copy`;
    await cp(dir, copy, { recursive: true }); // the host keeps an image with the claim live
    let again = await openNode();
    await again.submit(tenant.ping(cluster, again.mintPingNonce('acme').nonce)); // the provider lives
    await again.close();
    await rm(dir, { recursive: true, force: true });
    await rename(copy, dir); // ... and rolls the disk back to it
    again = await openNode();
    expect(again.machine.claim(claim.claimId)?.status).toBe('voided');
    await expect(again.submit(await solution(claim))).rejects.toMatchObject({
      code: 'CLAIM_NOT_LIVE',
    });
    expect(again.machine.wallet(wallet.walletId)?.released).toBe(false);
    await again.close();
  });

  it('keeps a release across a restart', async () => {
    const { node, wallet } = await setup();
    const claim = await startClaim(node, new Claimant(wallet));
    await node.submit(await solution(claim));
    await node.close();
    const again = await openNode();
    expect(again.machine.wallet(wallet.walletId)?.released).toBe(true);
    await again.close();
  });

  it('a restart finds the records as they were (pings, deletions, deposits)', async () => {
    const { node, cluster, tenant, wallet } = await setup();
    const second = tenant.newWallet();
    await node.submit(tenant.deposit(cluster, second, policy));
    const nonce = node.mintPingNonce('acme');
    await node.submit(tenant.ping(cluster, nonce.nonce));
    await node.submit(tenant.deletion(cluster, wallet.walletId));
    const lastIndex = node.machine.lastIndex;
    await node.close();
    const again = await openNode();
    expect(again.machine.wallet(wallet.walletId)).toBeNull();
    expect(again.machine.wallet(second.walletId)).not.toBeNull();
    // Same state but for the restart's own entries (a new term's no-op, the new epoch).
    expect(again.machine.lastIndex).toBeGreaterThan(lastIndex);
    expect(again.machine.lastIndex).toBeLessThanOrEqual(lastIndex + 3);
    // A replayed ping nonce cannot be used again.
    await expect(again.submit(tenant.ping(cluster, nonce.nonce))).rejects.toMatchObject({
      status: expect.any(Number),
    });
    await again.close();
  });

  it('writes nothing for a rejected command', async () => {
    const { node, cluster, tenant, wallet } = await setup();
    const index = node.machine.lastIndex;
    await expect(node.submit(tenant.deposit(cluster, wallet, policy))).rejects.toBeInstanceOf(
      VaultError,
    );
    expect(node.machine.lastIndex).toBe(index);
    await node.close();
    const again = await openNode();
    // the restart adds only its own entries (a new leader term's no-op, the new epoch)
    expect(again.machine.lastIndex).toBeGreaterThan(index);
    expect(again.machine.lastIndex).toBeLessThanOrEqual(index + 3);
    await again.close();
  });

  it('refuses a disk sealed under another storage key, and a tampered record', async () => {
    const { node } = await setup();
    await node.close();
    await expect(openNode(randomBytes(32))).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    // Someone with the disk flips one bit of a stored record.
    const raw = new Level<string, Uint8Array>(join(dir, 'raft'), { valueEncoding: 'view' });
    const value = (await raw.get('s0/v/clock'))!;
    value[value.length - 5]! ^= 1;
    await raw.put('s0/v/clock', value);
    await raw.close();
    await expect(openNode()).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
  });

  it('never writes x2 in plaintext to disk (P1)', async () => {
    const { node, wallet } = await setup();
    const claim = await startClaim(node, new Claimant(wallet));
    await node.submit(await solution(claim));
    await node.close();
    const needle = Buffer.from(scalarToBytes(wallet.x2));
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    expect(files.filter((f) => f.isFile()).length).toBeGreaterThan(3);
    for (const f of files.filter((x) => x.isFile())) {
      expect((await readFile(join(f.parentPath, f.name))).includes(needle)).toBe(false);
    }
  });
});
