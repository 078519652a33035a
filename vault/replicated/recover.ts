/**
 * `vigil cluster recover`: the only way a whole cluster restarts from its disks (P4). The epoch
 * secrets died with the processes, so the recovered vault keeps every deposit and voids every
 * pending claim: the first leader of the new cluster proposes the recovered state as its genesis
 * (`restore`), then a new epoch.
 *
 * Which state: the applied state of the disk that applied the most (every reply any node gave was
 * applied there or is in the log below), extended with the committed-or-later entries of the most
 * up-to-date log (Raft's election rule: it holds every committed entry), claim-family entries of
 * the dead epochs applied as rejected. The old Raft directories are retired, never reused.
 */
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Applier, type Entry, quorum, RaftStorage, type ValueCipher } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import { recoveredDigest } from './codec.ts';
import { EpochKeeper } from './epochs.ts';
import { ReplicatedState } from './state.ts';

interface DiskView {
  dir: string;
  applied: number;
  state: ReplicatedState;
  entries: Entry[];
  lastTerm: number;
  lastIndex: number;
}

/**
 * The vault a previous recovery founded this slot's cluster from: its log starts with that
 * vault's digest, so replaying a log whose genesis nobody applied yet needs it.
 */
async function previousRecovery(slotDir: string, cipher: ValueCipher) {
  const sealed = await readFile(join(slotDir, 'recovered.bin.used')).catch(() => null);
  if (sealed === null) return undefined;
  try {
    return cipher.open('recovered.bin', sealed);
  } catch {
    return undefined; // unreadable: a replay that needs it halts with the digest mismatch
  }
}

async function readDisk(
  dir: string,
  cipher: ValueCipher,
  recovered: Uint8Array | undefined,
): Promise<DiskView> {
  const storage = await RaftStorage.open(dir, cipher);
  try {
    const stored = await storage.load();
    const kv = await storage.readState();
    const state = new ReplicatedState({
      epochs: new EpochKeeper(),
      voidUnknownEpochs: true,
      recovered,
    });
    state.load(kv);
    let applied = stored.applied;
    const snap = stored.snapshot;
    if (snap !== null && snap.meta.index > applied) {
      new Applier(state).restore(snap.data); // sessions wrap the machine's bytes
      applied = snap.meta.index;
    }
    const last = stored.entries.at(-1);
    return {
      dir,
      applied,
      state,
      entries: stored.entries,
      lastTerm: last?.term ?? snap?.meta.term ?? 0,
      lastIndex: last?.index ?? snap?.meta.index ?? 0,
    };
  } finally {
    await storage.close();
  }
}

export interface RecoveredVault {
  state: Uint8Array;
  /** What the new cluster's genesis entry will carry (a halted founder's log names it too). */
  digest: Uint8Array;
  sourceDir: string;
  appliedIndex: number;
  replayed: number;
  disks: number;
}

/**
 * Reads every `raft-*` directory under each slot directory and rebuilds the vault. Refuses
 * without the disks of a majority of the slots.
 */
export async function recoverVault(
  slots: readonly { dir: string; cipher: ValueCipher }[],
): Promise<RecoveredVault> {
  const found: { dir: string; cipher: ValueCipher; recovered: Uint8Array | undefined }[][] = [];
  for (const slot of slots) {
    const names = (await readdir(slot.dir).catch(() => [] as string[])).filter((n) =>
      n.startsWith('raft-'),
    );
    const recovered = await previousRecovery(slot.dir, slot.cipher);
    found.push(names.map((n) => ({ dir: join(slot.dir, n), cipher: slot.cipher, recovered })));
  }
  const slotDirs = slots.map((s) => s.dir);
  const slotsWithDisk = found.filter((f) => f.length > 0).length;
  if (slotsWithDisk < quorum(slotDirs.length)) {
    throw new VaultError(
      'RECOVER_NO_MAJORITY',
      `only ${slotsWithDisk} of ${slotDirs.length} nodes have a disk: no majority`,
      500,
    );
  }
  const disks: DiskView[] = [];
  for (const d of found.flat()) disks.push(await readDisk(d.dir, d.cipher, d.recovered));
  const source = disks.reduce((a, b) => (b.applied > a.applied ? b : a));
  const newest = disks.reduce((a, b) =>
    b.lastTerm > a.lastTerm || (b.lastTerm === a.lastTerm && b.lastIndex > a.lastIndex) ? b : a,
  );
  let replayed = 0;
  for (const e of newest.entries) {
    if (e.index <= source.applied || e.type !== 'normal') continue;
    source.state.apply(e.data, e.index);
    replayed += 1;
  }
  if (source.state.machine === null) {
    throw new VaultError('RECOVER_EMPTY', 'no disk holds an initialised vault', 500);
  }
  const state = source.state.snapshot();
  return {
    state,
    digest: recoveredDigest(state),
    sourceDir: source.dir,
    appliedIndex: source.applied,
    replayed,
    disks: disks.length,
  };
}

/** Moves every old Raft directory aside so the new cluster never mistakes it for its own. */
export async function retireRaftDirs(slotDirs: readonly string[]): Promise<void> {
  for (const slot of slotDirs) {
    for (const n of await readdir(slot).catch(() => [] as string[])) {
      if (n.startsWith('raft-')) await rename(join(slot, n), join(slot, `retired-${n}`));
    }
  }
}
