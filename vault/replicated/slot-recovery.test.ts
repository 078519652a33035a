import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forkFaultyHost } from '../../cluster/host/faulty-host.test-support.ts';
import { HostKvStore, RaftStorage } from '../../cluster/index.ts';
import { StorageBox } from '../enclave/index.ts';
import { openRecovered } from './recover.ts';
import { buildRecoveredVault } from './recovery.test-support.ts';
import {
  chooseFounder,
  openHostRecovered,
  type RecoveryView,
  readRecoveryView,
  recoverHostedSlot,
  recoverLocalSlot,
  recoveryViewFromJson,
  retireHostRecovered,
} from './slot-recovery.ts';
import { recoveryRecord } from './state.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-slot-recovery-'));
  dirs.push(d);
  return d;
}

const slots = ['node-1', 'node-2', 'node-3'];
const view = (
  slot: string,
  lastTerm: number,
  lastIndex: number,
  appliedIndex = 0,
): RecoveryView => ({
  slot,
  lastTerm,
  lastIndex,
  appliedIndex,
  records: 10,
  digest: 'ab'.repeat(32),
  stores: 1,
});

describe('choosing the founder of a recovered cluster', () => {
  it('takes the most up-to-date log of a majority, in Raft order', () => {
    // a longer log of an older term loses to a shorter one of a newer term
    expect(chooseFounder([view('node-1', 2, 90), view('node-2', 3, 80)], slots)).toBe('node-2');
    expect(chooseFounder([view('node-1', 3, 70), view('node-3', 3, 80)], slots)).toBe('node-3');
    // equal logs: the one that applied more, then the first slot
    expect(chooseFounder([view('node-2', 3, 80, 5), view('node-3', 3, 80, 9)], slots)).toBe(
      'node-3',
    );
    expect(chooseFounder([view('node-3', 3, 80), view('node-2', 3, 80)], slots)).toBe('node-2');
  });

  it('refuses fewer than a majority, strangers and a slot reported twice', () => {
    expect(() => chooseFounder([view('node-1', 9, 9)], slots)).toThrow(/a majority is needed/);
    expect(() => chooseFounder([view('node-1', 1, 1), view('node-9', 1, 1)], slots)).toThrow(
      /not one of the slots/,
    );
    expect(() => chooseFounder([view('node-1', 1, 1), view('node-1', 2, 2)], slots)).toThrow(
      /two views/,
    );
  });

  it('reads only a well-formed view', () => {
    const good = view('node-1', 1, 2, 3);
    expect(recoveryViewFromJson(JSON.parse(JSON.stringify(good)))).toEqual(good);
    for (const bad of [
      null,
      { ...good, digest: 'zz' },
      { ...good, lastIndex: -1 },
      { ...good, lastTerm: 1.5 },
      { ...good, slot: 7 },
    ]) {
      expect(() => recoveryViewFromJson(bad)).toThrow(/not a recovery view/);
    }
  });
});

describe("a node rebuilding its own slot's vault (--recover)", () => {
  it('from its local disk: the copy founds as `vigil cluster recover` writes it', async () => {
    const built = await buildRecoveredVault({ deposits: 2 });
    const cipher = new StorageBox(crypto.getRandomValues(new Uint8Array(32)));
    const slotDir = await tempDir();
    const storage = await RaftStorage.open(join(slotDir, 'raft-a'), cipher);
    await storage.load();
    await storage.importState(built.recovered.records(), [recoveryRecord(built.recovered.digest)]);
    await storage.close();
    const view = await recoverLocalSlot(slotDir, 'node-2', cipher);
    expect(view).toMatchObject({ slot: 'node-2', records: built.recovered.count, stores: 1 });
    expect(view.digest).toBe(Buffer.from(built.recovered.digest).toString('hex'));
    expect((await openRecovered(slotDir, cipher))?.digest).toEqual(built.recovered.digest);
    await expect(recoverLocalSlot(await tempDir(), 'node-2', cipher)).rejects.toThrow(
      /no Raft store/,
    );
  }, 30_000);

  it('from its host agent: the copy and the view stay there, adopted and checked when founding', async () => {
    const built = await buildRecoveredVault({ deposits: 2 });
    const cipher = new StorageBox(crypto.getRandomValues(new Uint8Array(32)));
    const dir = await tempDir();
    // the agent in a process of its own: the store's reads block this thread
    const agent = await forkFaultyHost(
      join(dir, 'host'),
      join(dir, 'agent.sock'),
      join(dir, 'f.sock'),
    );
    const address = { kind: 'unix' as const, path: join(dir, 'agent.sock') };
    try {
      const kv = await HostKvStore.connect(address, 'node-1/raft-a', 'open');
      const storage = RaftStorage.on(kv, cipher);
      await storage.load();
      await storage.importState(built.recovered.records(), [
        recoveryRecord(built.recovered.digest),
      ]);
      await storage.close();
      expect(await openHostRecovered(address, 'node-1', cipher)).toBeNull();

      const view = await recoverHostedSlot(address, 'node-1', cipher);
      expect(view.digest).toBe(Buffer.from(built.recovered.digest).toString('hex'));
      expect(await readRecoveryView(address, 'node-1')).toEqual(view);
      const copy = await openHostRecovered(address, 'node-1', cipher);
      expect(copy?.digest).toEqual(built.recovered.digest);
      let n = 0;
      for await (const _ of copy!.records()) n++;
      expect(n).toBe(built.recovered.count);
      // with another key the copy does not open (each slot has its own data key)
      const stranger = new StorageBox(crypto.getRandomValues(new Uint8Array(32)));
      await expect(openHostRecovered(address, 'node-1', stranger)).rejects.toThrow();
      // founded from: no longer pending
      await retireHostRecovered(address, 'node-1');
      expect(await openHostRecovered(address, 'node-1', cipher)).toBeNull();
      await expect(recoverHostedSlot(address, 'node-2', cipher)).rejects.toThrow(/no Raft store/);
    } finally {
      await agent.stop();
    }
  }, 30_000);
});
