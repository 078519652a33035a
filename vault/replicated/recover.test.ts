import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorage } from '../../cluster/index.ts';
import { StorageBox } from '../enclave/index.ts';
import { openRecovered, recoverVault } from './recover.ts';
import { buildRecoveredVault } from './recovery.test-support.ts';
import { recoveryRecord } from './state.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('vigil cluster recover', () => {
  it('recovers a cluster that stopped before its recovered genesis reached any log', async () => {
    const built = await buildRecoveredVault({ deposits: 2 });
    const cipher = new StorageBox(crypto.getRandomValues(new Uint8Array(32)));
    const slots: string[] = [];
    for (let i = 0; i < 3; i++) {
      const slot = await mkdtemp(join(tmpdir(), 'vigil-recover-'));
      dirs.push(slot);
      slots.push(slot);
      // what a founder holds after importing its copy, before any entry
      const storage = await RaftStorage.open(join(slot, 'raft-a'), cipher);
      await storage.load();
      await storage.importState(built.recovered.records(), [
        recoveryRecord(built.recovered.digest),
      ]);
      await storage.close();
    }
    const report = await recoverVault(slots.map((dir) => ({ dir, cipher })));
    expect(report.digest).toEqual(built.recovered.digest);
    expect(report.records).toBe(built.recovered.count);
    const copy = await openRecovered(slots[1]!, cipher);
    expect(copy?.digest).toEqual(built.recovered.digest);
  }, 30_000);
});
