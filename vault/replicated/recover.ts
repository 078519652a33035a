/**
 * `vigil cluster recover`: the only way a whole cluster restarts from its disks (P4). The epoch
 * secrets died with the processes, so the recovered vault keeps every deposit and voids every
 * pending claim: the first leader of the new cluster proposes the recovered vault's digest as its
 * genesis (`recovered`), then a new epoch.
 *
 * Which state: the applied records of the disk that applied the most (every reply any node gave
 * was applied there or is in the log below), extended with the committed-or-later entries of the
 * most up-to-date log (Raft's election rule: it holds every committed entry), claim-family
 * entries of the dead epochs applied as rejected. Each slot gets its own sealed copy of the
 * records (`D/<slot>/recovered/`), written and digested as a stream: memory stays bounded
 * whatever the vault's size. The old Raft directories are retired, never reused.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Entry,
  type KvStore,
  type KvWrite,
  LevelKvStore,
  prefixRange,
  quorum,
  RaftStorage,
  type ValueCipher,
} from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import { EpochKeeper } from './epochs.ts';
import { isRecoveredRecord, RecordsDigest, ReplicatedState } from './state.ts';

const RECOVERED_DIR = 'recovered';
const RECORD = 'rec/';
const DIGEST = 'digest';
const COUNT = 'count';
const BATCH = 1_000;

/** A recovered vault as a founder reads it: its digest and its records in key order. */
export interface RecoveredRecords {
  digest: Uint8Array;
  count: number;
  records(): AsyncIterable<[string, Uint8Array]>;
}

export interface RecoveryReport {
  /** What the new cluster's genesis entry will carry (a halted founder's log names it too). */
  digest: Uint8Array;
  records: number;
  /** The store whose applied records were taken, and the index they were applied to. */
  source: string;
  appliedIndex: number;
  /** Entries of the most up-to-date log applied over them, and where that log ends. */
  replayed: number;
  lastTerm: number;
  lastIndex: number;
  disks: number;
}

/** One earlier identity's Raft store: a local directory, or a namespace kept by a host agent. */
export interface DiskSource {
  readonly name: string;
  open(): Promise<RaftStorage>;
}

interface DiskView {
  disk: DiskSource;
  /** Open until the rebuild ends: a host agent's store is adopted (its index scanned) once. */
  storage: RaftStorage;
  entries: Entry[];
  applied: number;
  lastTerm: number;
  lastIndex: number;
}

async function readDisk(disk: DiskSource): Promise<DiskView> {
  const storage = await disk.open();
  try {
    const stored = await storage.load();
    const last = stored.entries.at(-1);
    return {
      disk,
      storage,
      entries: stored.entries,
      applied: stored.applied,
      lastTerm: last?.term ?? stored.snapshot?.meta.term ?? 0,
      lastIndex: last?.index ?? stored.snapshot?.meta.index ?? 0,
    };
  } catch (e) {
    await storage.close();
    throw e;
  }
}

/** Where a rebuilt vault goes: each call of `records` streams it again, in key order. */
export type RecoveredSink = (
  records: () => AsyncIterable<[string, Uint8Array]>,
) => Promise<{ digest: Uint8Array; count: number }>;

/**
 * Rebuilds the vault from `disks`: the applied records of the one that applied the most,
 * extended with the later entries of the most up-to-date log, and hands it to `sink`.
 */
export async function rebuildVault(
  disks: readonly DiskSource[],
  sink: RecoveredSink,
): Promise<RecoveryReport> {
  if (disks.length === 0) throw new VaultError('RECOVER_EMPTY', 'no disk to recover from', 500);
  const views: DiskView[] = [];
  try {
    for (const d of disks) views.push(await readDisk(d));
    const source = views.reduce((a, b) => (b.applied > a.applied ? b : a));
    const newest = views.reduce((a, b) =>
      b.lastTerm > a.lastTerm || (b.lastTerm === a.lastTerm && b.lastIndex > a.lastIndex) ? b : a,
    );
    const state = new ReplicatedState({ epochs: new EpochKeeper(), voidUnknownEpochs: true });
    await state.load(source.storage.state);
    let replayed = 0;
    for (const e of newest.entries) {
      if (e.index <= source.applied || e.type !== 'normal') continue;
      await state.prepare([e]);
      state.apply(e.data, e.index);
      replayed += 1;
    }
    // the replayed entries' writes (bounded by the log since the last compaction)
    const replayedWrites = new Map(state.drainWrites().map((w) => [w.key, w.value] as const));
    // A cluster that stopped before its recovered genesis reached a log still holds the vault it
    // was founding from: the imported records are that vault.
    if (state.machine === null && !state.holdsRecoveredVault) {
      throw new VaultError('RECOVER_EMPTY', 'no disk holds an initialised vault', 500);
    }
    const written = await sink(() => mergeRecords(source.storage, replayedWrites));
    return {
      digest: written.digest,
      records: written.count,
      source: source.disk.name,
      appliedIndex: source.applied,
      replayed,
      lastTerm: newest.lastTerm,
      lastIndex: newest.lastIndex,
      disks: views.length,
    };
  } finally {
    for (const v of views) await v.storage.close();
  }
}

/**
 * Reads every `raft-*` directory under each slot directory, rebuilds the vault and writes each
 * slot's copy. Refuses without the disks of a majority of the slots.
 */
export async function recoverVault(
  slots: readonly { dir: string; cipher: ValueCipher }[],
): Promise<RecoveryReport> {
  const found: DiskSource[][] = [];
  for (const slot of slots) {
    const names = (await readdir(slot.dir).catch(() => [] as string[])).filter((n) =>
      n.startsWith('raft-'),
    );
    found.push(
      names.map((n) => {
        const dir = join(slot.dir, n);
        return { name: dir, open: () => RaftStorage.open(dir, slot.cipher) };
      }),
    );
  }
  const slotsWithDisk = found.filter((f) => f.length > 0).length;
  if (slotsWithDisk < quorum(slots.length)) {
    throw new VaultError(
      'RECOVER_NO_MAJORITY',
      `only ${slotsWithDisk} of ${slots.length} nodes have a disk: no majority`,
      500,
    );
  }
  return rebuildVault(found.flat(), async (records) => {
    let first: { digest: Uint8Array; count: number } | null = null;
    for (const slot of slots) {
      const written = await writeRecoveredDir(slot.dir, slot.cipher, records());
      first ??= written;
    }
    return first!;
  });
}

/** The source disk's recovered-vault records with the replayed writes laid over, key order. */
async function* mergeRecords(
  storage: RaftStorage,
  over: ReadonlyMap<string, Uint8Array | null>,
): AsyncIterable<[string, Uint8Array]> {
  const overKeys = [...over.keys()].filter(isRecoveredRecord).sort();
  let i = 0;
  const drainBelow = function* (limit: string | null) {
    while (i < overKeys.length && (limit === null || overKeys[i]! < limit)) {
      const k = overKeys[i++]!;
      const v = over.get(k);
      if (v) yield [k, v] as [string, Uint8Array];
    }
  };
  for await (const [key, value] of storage.state.iterate('')) {
    if (!isRecoveredRecord(key)) continue;
    yield* drainBelow(key);
    if (overKeys[i] === key) {
      i += 1;
      const v = over.get(key);
      if (v) yield [key, v];
    } else {
      yield [key, value];
    }
  }
  yield* drainBelow(null);
}

/**
 * Writes a recovered vault's sealed records into an empty store, digesting them as it goes;
 * the digest and count go last, in the synced batch, so a copy cut short has neither.
 */
export async function writeRecoveredRecords(
  kv: KvStore,
  cipher: ValueCipher,
  records: AsyncIterable<[string, Uint8Array]>,
): Promise<{ digest: Uint8Array; count: number }> {
  const digest = new RecordsDigest();
  let batch: KvWrite[] = [];
  for await (const [key, value] of records) {
    digest.update(key, value);
    batch.push({ key: RECORD + key, value: cipher.seal(RECORD + key, value) });
    if (batch.length >= BATCH) {
      await kv.write(batch, { sync: false });
      batch = [];
    }
  }
  const d = digest.digest();
  batch.push({ key: DIGEST, value: cipher.seal(DIGEST, d) });
  const count = new TextEncoder().encode(String(digest.count));
  batch.push({ key: COUNT, value: cipher.seal(COUNT, count) });
  await kv.write(batch, { sync: true });
  return { digest: d, count: digest.count };
}

/** Writes one slot's sealed copy in its directory; replaces an earlier unused copy. */
export async function writeRecoveredDir(
  slotDir: string,
  cipher: ValueCipher,
  records: AsyncIterable<[string, Uint8Array]>,
): Promise<{ digest: Uint8Array; count: number }> {
  const tmp = join(slotDir, `${RECOVERED_DIR}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  const kv = await LevelKvStore.open(tmp);
  try {
    const written = await writeRecoveredRecords(kv, cipher, records);
    await kv.close();
    await rm(join(slotDir, RECOVERED_DIR), { recursive: true, force: true });
    await rename(tmp, join(slotDir, RECOVERED_DIR));
    return written;
  } catch (e) {
    await kv.close().catch(() => {});
    throw e;
  }
}

/**
 * A recovered vault as written by `writeRecoveredRecords`, read from the store `open` gives
 * (opened again for each pass over the records). A copy without its digest is refused.
 */
export async function readRecoveredRecords(
  open: () => Promise<KvStore>,
  cipher: ValueCipher,
): Promise<RecoveredRecords> {
  const kv = await open();
  try {
    const field = (name: string) => {
      const sealed = kv.get(name);
      if (sealed === undefined)
        throw new VaultError('STORAGE_CORRUPT', `recovered vault has no ${name}`, 500);
      return cipher.open(name, sealed);
    };
    const digest = field(DIGEST);
    const count = Number(new TextDecoder().decode(field(COUNT)));
    return {
      digest,
      count,
      async *records() {
        const store = await open();
        try {
          for await (const [key, value] of store.iterate(prefixRange(RECORD))) {
            yield [key.slice(RECORD.length), cipher.open(key, value)];
          }
        } finally {
          await store.close();
        }
      },
    };
  } finally {
    await kv.close();
  }
}

/** This slot's recovered vault waiting to found a new cluster, if there is one. */
export async function openRecovered(
  slotDir: string,
  cipher: ValueCipher,
): Promise<RecoveredRecords | null> {
  const dir = join(slotDir, RECOVERED_DIR);
  if (!(await stat(dir).catch(() => null))) return null;
  return readRecoveredRecords(() => LevelKvStore.open(dir), cipher);
}

/** The new cluster holds the recovered vault now: its copy is kept aside for the operator. */
export async function retireRecovered(slotDir: string): Promise<void> {
  const used = join(slotDir, `${RECOVERED_DIR}.used`);
  await rm(used, { recursive: true, force: true });
  await rename(join(slotDir, RECOVERED_DIR), used).catch(() => {});
}

/** A recovered vault held in memory (tests and tools), with its digest. */
export function recoveredInMemory(records: readonly [string, Uint8Array][]): RecoveredRecords {
  const sorted = [...records]
    .filter(([k]) => isRecoveredRecord(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const digest = new RecordsDigest();
  for (const [k, v] of sorted) digest.update(k, v);
  return {
    digest: digest.digest(),
    count: sorted.length,
    async *records() {
      yield* sorted;
    },
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
