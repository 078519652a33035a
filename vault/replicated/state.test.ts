import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { decodeLogCommand, encodeLogCommand } from './codec.ts';
import { EpochKeeper } from './epochs.ts';
import { newGenesis } from './local.ts';
import type { RecoveredRecords } from './recover.ts';
import { buildRecoveredVault, mapReader } from './recovery.test-support.ts';
import { RECOVERY_MISMATCH, ReplicatedState, recoveryRecord } from './state.ts';

const small = await buildRecoveredVault({ deposits: 3 });
const other = await buildRecoveredVault({ deposits: 2 });

/** A founder whose store holds `recovered` as `importState` leaves it (or nothing). */
async function founder(recovered: RecoveredRecords | undefined, halts: VaultError[] = []) {
  const records = new Map<string, Uint8Array>();
  if (recovered) {
    for await (const [k, v] of recovered.records()) records.set(k, v);
    const r = recoveryRecord(recovered.digest);
    records.set(r.key, r.value!);
  }
  const s = new ReplicatedState({ epochs: new EpochKeeper(), onHalt: (e) => halts.push(e) });
  await s.load(mapReader(records));
  return s;
}

const genesisOf = (r: RecoveredRecords) =>
  encodeLogCommand({ kind: 'recovered', digest: r.digest, members: [] });

describe('the recovered genesis: a digest, checked by every founder', () => {
  it('a founder whose copy matches applies it, keeps every wallet, and asks for compaction once', async () => {
    const s = await founder(small.recovered);
    expect(s.machine).toBeNull(); // not the vault until the cluster commits it
    s.apply(genesisOf(small.recovered), 5);
    expect(s.machine).not.toBeNull();
    for (const id of small.walletIds) expect(s.machine!.wallet(id)).not.toBeNull();
    expect(s.machine!.claim(small.claimId)?.status).toBe('live'); // voided by the next epoch
    expect(s.compactNow()).toBe(true);
    expect(s.compactNow()).toBe(false);
    // the pending-recovery mark goes with the same writes
    expect(s.drainWrites().some((w) => w.key === 'r/recovery' && w.value === null)).toBe(true);
    // a second genesis changes nothing (same rejection on every replica)
    const again = new TextDecoder().decode(s.apply(genesisOf(small.recovered), 6));
    expect(again).toContain('CLUSTER_INITIALIZED');
  });

  it('a founder whose copy differs refuses: it halts with both digests and applies nothing', async () => {
    const halts: VaultError[] = [];
    const s = await founder(other.recovered, halts);
    let thrown: unknown;
    try {
      s.apply(genesisOf(small.recovered), 5);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(VaultError);
    expect((thrown as VaultError).code).toBe(RECOVERY_MISMATCH);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect((thrown as VaultError).message).toContain(hex(small.recovered.digest));
    expect((thrown as VaultError).message).toContain(hex(other.recovered.digest));
    expect(halts).toEqual([thrown]);
    expect(s.halted).toBe(thrown);
    expect(s.machine).toBeNull();
    expect(s.compactNow()).toBe(false);
  });

  it('a member without a copy cannot apply it; a founder with one refuses a brand-new vault', async () => {
    const bare = await founder(undefined);
    expect(() => bare.apply(genesisOf(small.recovered), 5)).toThrow(/holds no recovered vault/);
    const fresh = encodeLogCommand(newGenesis(small.operator.publicKey));
    const holder = await founder(small.recovered);
    expect(() => holder.apply(fresh, 5)).toThrow(/committed a new one/);
  });

  it('the entry stays small whatever the vault size; the digest is domain-separated and streamed', async () => {
    const entry = decodeLogCommand(genesisOf(small.recovered));
    expect(entry).toEqual({ kind: 'recovered', digest: small.recovered.digest, members: [] });
    expect(genesisOf(small.recovered).length).toBeLessThan(64);
    expect(small.recovered.digest).not.toEqual(other.recovered.digest);
    expect(small.recovered.digest).not.toEqual(sha256(new Uint8Array()));
    // the applied replica's own records digest to what the recovery carried
    const s = await founder(small.recovered);
    expect(await s.recordsDigest()).toEqual(small.recovered.digest);
    const truncated = genesisOf(small.recovered).slice(0, 20);
    expect(() => decodeLogCommand(truncated)).toThrow(/malformed/);
  });
});
