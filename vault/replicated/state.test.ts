import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { decodeLogCommand, encodeLogCommand, recoveredDigest } from './codec.ts';
import { EpochKeeper } from './epochs.ts';
import { newGenesis } from './local.ts';
import { buildRecoveredVault } from './recovery.test-support.ts';
import { RECOVERY_MISMATCH, ReplicatedState } from './state.ts';

const small = buildRecoveredVault({ deposits: 3 });
const other = buildRecoveredVault({ deposits: 2 });

function founder(recovered: Uint8Array | undefined, halts: VaultError[] = []) {
  return new ReplicatedState({
    epochs: new EpochKeeper(),
    recovered,
    onHalt: (e) => halts.push(e),
  });
}

const genesisOf = (state: Uint8Array) =>
  encodeLogCommand({ kind: 'recovered', digest: recoveredDigest(state), members: [] });

describe('the recovered genesis: a digest, checked by every founder', () => {
  it('a founder whose copy matches applies it, keeps every wallet, and asks for compaction once', () => {
    const s = founder(small.state);
    s.apply(genesisOf(small.state), 5);
    expect(s.machine).not.toBeNull();
    for (const id of small.walletIds) expect(s.machine!.wallet(id)).not.toBeNull();
    expect(s.machine!.claim(small.claimId)?.status).toBe('live'); // voided by the next epoch
    expect(s.compactNow()).toBe(true);
    expect(s.compactNow()).toBe(false);
    // a second genesis changes nothing (same rejection on every replica)
    const again = new TextDecoder().decode(s.apply(genesisOf(small.state), 6));
    expect(again).toContain('CLUSTER_INITIALIZED');
  });

  it('a founder whose copy differs refuses: it halts with both digests and applies nothing', () => {
    const halts: VaultError[] = [];
    const s = founder(other.state, halts);
    let thrown: unknown;
    try {
      s.apply(genesisOf(small.state), 5);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(VaultError);
    expect((thrown as VaultError).code).toBe(RECOVERY_MISMATCH);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect((thrown as VaultError).message).toContain(hex(recoveredDigest(small.state)));
    expect((thrown as VaultError).message).toContain(hex(recoveredDigest(other.state)));
    expect(halts).toEqual([thrown]);
    expect(s.halted).toBe(thrown);
    expect(s.machine).toBeNull();
    expect(s.compactNow()).toBe(false);
  });

  it('a member without a copy cannot apply it; a founder with one refuses a brand-new vault', () => {
    expect(() => founder(undefined).apply(genesisOf(small.state), 5)).toThrow(
      /holds no recovered vault/,
    );
    const fresh = encodeLogCommand(newGenesis(small.operator.publicKey));
    expect(() => founder(small.state).apply(fresh, 5)).toThrow(/committed a new one/);
  });

  it('the entry stays small whatever the vault size; the digest is domain-separated', () => {
    const entry = decodeLogCommand(genesisOf(small.state));
    expect(entry).toEqual({ kind: 'recovered', digest: recoveredDigest(small.state), members: [] });
    expect(genesisOf(small.state).length).toBeLessThan(64);
    expect(recoveredDigest(small.state)).not.toEqual(sha256(small.state));
    expect(recoveredDigest(small.state)).not.toEqual(recoveredDigest(other.state));
    const truncated = genesisOf(small.state).slice(0, 20);
    expect(() => decodeLogCommand(truncated)).toThrow(/malformed/);
  });
});
