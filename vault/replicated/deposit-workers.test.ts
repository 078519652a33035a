import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.ts';
import { type Command, encodeCommand } from '../machine/index.ts';
import { Operator, Tenant } from '../node/actors.test-support.ts';
import { type Deposit, verifyDepositReceipt } from '../protocol/index.ts';
import { decodeLogCommand, decodeReply, encodeLogCommand, type LogCommand } from './codec.ts';
import { DepositWorkers } from './deposit-workers.ts';
import { EpochKeeper } from './epochs.ts';
import { newGenesis } from './local.ts';
import { mapReader } from './recovery.test-support.ts';
import { clusterPublicKeys, ReplicatedState } from './state.ts';

const policy = { group: 'rsa2048' as const, iterations: 64 };
const operator = new Operator();
const tenant = new Tenant('acme');
const genesis = newGenesis(operator.publicKey) as Extract<LogCommand, { kind: 'genesis' }>;
const keys = clusterPublicKeys(genesis.secrets);
const pool = new DepositWorkers({ ...genesis.secrets, receiptKey: keys.receiptKey }, 1);
afterAll(() => pool.close());

const bytesOf = (d: Deposit) => encodeCommand({ type: 'deposit', deposit: d });

function deposit(): Extract<Command, { type: 'deposit' }> {
  return tenant.deposit(keys, tenant.newWallet(), policy) as Extract<Command, { type: 'deposit' }>;
}

describe('deposit workers: prechecks run once by the proposer, receipts signed, off the main thread', () => {
  it('passes a good deposit; refuses a forged signature and a share that does not open', async () => {
    const good = deposit();
    await expect(pool.verify(bytesOf(good.deposit), tenant.publicKey)).resolves.toBeUndefined();
    const forged = { ...good.deposit, signature: randomBytes(64) };
    await expect(pool.verify(bytesOf(forged), tenant.publicKey)).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    // signed by another tenant's key: refused against this tenant's
    await expect(
      pool.verify(bytesOf(good.deposit), new Tenant('x').publicKey),
    ).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    // a properly signed deposit whose x2 is not Q2's: its share proof cannot show Q = x2·Q1
    const w = tenant.newWallet();
    const wrong = tenant.deposit(keys, { ...w, x2: w.x2 + 1n }, policy);
    if (wrong.type !== 'deposit') throw new Error('not a deposit');
    await expect(pool.verify(bytesOf(wrong.deposit), tenant.publicKey)).rejects.toMatchObject({
      code: 'SCHEME_MISMATCH',
    });
  }, 30_000);

  it('the log says which entries were prechecked; a prechecked entry is not checked again', async () => {
    const d = deposit();
    const entry = (prechecked: boolean): Extract<LogCommand, { kind: 'vault' }> => ({
      kind: 'vault',
      timestamp: Date.now(),
      epochId: randomBytes(16),
      random: randomBytes(32),
      command: d,
      prechecked,
    });
    expect(decodeLogCommand(encodeLogCommand(entry(true)))).toMatchObject({ prechecked: true });
    expect(decodeLogCommand(encodeLogCommand(entry(false)))).not.toHaveProperty('prechecked');

    // The trust boundary, stated as a test: replicas take the proposer's word for the
    // signature (only an attested leader proposes entries), and check it when not prechecked.
    const records = new Map<string, Uint8Array>();
    const s = new ReplicatedState({ epochs: new EpochKeeper() });
    await s.load(mapReader(records));
    let index = 0;
    const apply = (c: LogCommand) => decodeReply(s.apply(encodeLogCommand(c), ++index));
    apply(genesis);
    const t = new Tenant('acme2');
    expect(apply({ ...entry(false), command: operator.registerTenant(keys, t) }).ok).toBe(true);
    const mine = t.deposit(keys, t.newWallet(), policy) as Extract<Command, { type: 'deposit' }>;
    const forged = { ...mine, deposit: { ...mine.deposit, signature: randomBytes(64) } };
    const checked = apply({ ...entry(false), command: forged });
    expect(checked.ok ? 'accepted' : checked.error.code).toBe('BAD_SIGNATURE');
    expect(apply({ ...entry(true), command: forged }).ok).toBe(true);
  }, 30_000);

  it('a prechecked entry is decoded without decompressing its points again, but keeps their shape', async () => {
    const d = deposit();
    // the first x with no point above it: well formed, not on secp256k1
    let offCurve = new Uint8Array(33);
    for (let x = 1; ; x++) {
      offCurve = new Uint8Array(33);
      offCurve[0] = 2;
      offCurve[32] = x;
      try {
        secp256k1.Point.fromBytes(offCurve);
      } catch {
        break;
      }
    }
    const badShape = Uint8Array.from(offCurve, (b, i) => (i === 0 ? 5 : b));
    const entry = (q1: Uint8Array, prechecked: boolean): LogCommand => ({
      kind: 'vault',
      timestamp: Date.now(),
      epochId: randomBytes(16),
      random: randomBytes(32),
      command: { ...d, deposit: { ...d.deposit, q1 } },
      prechecked,
    });
    const decoded = (c: LogCommand) => {
      try {
        const out = decodeLogCommand(encodeLogCommand(c));
        return out.kind === 'vault' && out.command.type === 'deposit'
          ? out.command.deposit.q1
          : null;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(decoded(entry(offCurve, false))).toBe('BAD_POINT');
    expect(decoded(entry(offCurve, true))).toEqual(offCurve);
    expect(decoded(entry(badShape, true))).toBe('BAD_POINT');
    expect(decoded(entry(d.deposit.q1, false))).toEqual(d.deposit.q1);
  });
});

describe('receipts are signed where they are answered', () => {
  it('a worker signs the bytes any replica would, under the receipt key; refuses a foreign key', async () => {
    const records = new Map<string, Uint8Array>();
    const s = new ReplicatedState({ epochs: new EpochKeeper() });
    await s.load(mapReader(records));
    let index = 0;
    const vault = (command: Command) =>
      decodeReply(
        s.apply(
          encodeLogCommand({
            kind: 'vault',
            timestamp: Date.now(),
            epochId: randomBytes(16),
            random: randomBytes(32),
            command,
          }),
          ++index,
        ),
      );
    s.apply(encodeLogCommand(genesis), ++index);
    const t = new Tenant('acme3');
    vault(operator.registerTenant(keys, t));
    const w = t.newWallet();
    const r = vault(t.deposit(keys, w, policy));
    const result = r.ok ? r.result : null;
    if (result?.type !== 'deposited') throw new Error('not deposited');
    const signed = await pool.signReceipt(result.receipt);
    expect(signed).toEqual(s.signReceipt(result.receipt));
    const scheme = 'ecdsa-2p-mult' as const;
    const expected = { walletId: w.walletId, scheme, q: w.q, q1: w.q1, q2: w.q2, policy };
    const check = { clusterId: keys.clusterId, receiptKey: keys.receiptKey, expected };
    expect(verifyDepositReceipt({ ...check, receipt: signed })).toBe(true);
    expect(signed).not.toHaveProperty('aux');
    const foreign = { ...genesis.secrets, receiptSecretKey: randomBytes(32) };
    const wrongKey = new DepositWorkers({ ...foreign, receiptKey: keys.receiptKey }, 1);
    await expect(wrongKey.signReceipt(result.receipt)).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    await wrongKey.close();
  }, 30_000);
});

describe('solutions are checked before they reach the log (issue 11 item 5)', () => {
  it('a wrong solution costs the leader one check and no entry; a claim gets 10 tries a minute', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Claimant } = await import('../node/actors.test-support.ts');
    const { solve } = await import('../../vdf/index.ts');
    const { startLocalCluster } = await import('./local.ts');
    const dir = await mkdtemp(join(tmpdir(), 'vigil-solve-'));
    const op = new Operator();
    const c = await startLocalCluster({
      n: 3,
      dir,
      operatorKey: op.publicKey,
      limits: { claimIntervalMs: 0 },
      clocks: () => () => 0, // frozen: no time entries, so the log index moves only for commands
    });
    try {
      const leader = await until(() => c.members.find((m) => m.isLeader && m.epochReady), 20_000);
      const k = leader.publicKeys;
      const t = new Tenant('acme');
      await leader.submit(op.registerTenant(k, t));
      const w = t.newWallet();
      await leader.submit(t.deposit(k, w, policy));
      const nonce = leader.mintClaimNonce(w.walletId);
      const r = await leader.submit(new Claimant(w).claim(k, nonce.nonce));
      if (r.type !== 'claim') throw new Error('no claim');
      const good = await solve({
        group: r.claim.group,
        seed: r.claim.seed,
        iterations: r.claim.iterations,
        workers: 'never',
      });
      const wrong = Uint8Array.from(good.output);
      wrong[wrong.length - 1]! ^= 1;
      const before = leader.status().lastIndex;
      for (let i = 0; i < 10; i++) {
        await expect(
          leader.submit({
            type: 'solve',
            solution: { claimId: r.claim.claimId, y: wrong, proof: good.proof },
          }),
        ).rejects.toMatchObject({ code: 'VDF_PROOF_INVALID' });
      }
      expect(leader.status().lastIndex).toBe(before); // nothing reached the log
      await expect(
        leader.submit({
          type: 'solve',
          solution: { claimId: r.claim.claimId, y: good.output, proof: good.proof },
        }),
      ).rejects.toMatchObject({ code: 'SOLVE_RATE', status: 429 });
    } finally {
      await Promise.all(c.members.map((m) => m.close()));
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
