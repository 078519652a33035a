/**
 * A whole-cluster stop of nodes that no one machine can unseal together: KMS-sealed nodes, each
 * on its own machine, and above all enclaves, whose own memory died with them and whose records
 * a host agent keeps. Each node, started again with `--recover`, rebuilds its own slot's vault
 * from the stores of its earlier identities (its host agent's, or its local disk's), unsealed
 * with the data key KMS releases to the measured image, writes it back as a sealed copy beside
 * them, and reports a view of what it holds. The operator founds the new cluster from the most
 * up-to-date view of a majority of slots (`chooseFounder`, `vigil cluster recover --views`);
 * the other slots join it as new members and get the vault by snapshot. As with
 * `vigil cluster recover` on one machine, the new cluster begins a new epoch: every deposit is
 * kept, every pending claim is void (P4).
 *
 * What a host can do: withhold or roll back a store (a lost disk, no worse), never make the
 * node believe records it did not write (every store is checked against its bucket lists, and
 * every value is sealed with its key as associated data). Why the choice may be the operator's:
 * it decides only which acknowledged writes survive (durability, which whoever runs the disks
 * controls anyway), never custody or liveness: claims die with the epoch either way.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type HostAddress,
  HostKvStore,
  listHostStores,
  quorum,
  RaftStorage,
  type ValueCipher,
  withHostMeta,
} from '../../cluster/index.ts';
import type { BlobKeeper } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import {
  type DiskSource,
  type RecoveredRecords,
  type RecoveryReport,
  readRecoveredRecords,
  rebuildVault,
  writeRecoveredDir,
  writeRecoveredRecords,
} from './recover.ts';

const POINTER = 'recovered';
const USED = 'recovered.used';
const VIEW = 'recovery-view';
const BLOB = 'kms-data-key.blob';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Where a slot's small records live with its host agent (the generation counter's too). */
export const hostMetaNamespace = (slot: string) => `${slot}/meta`;

/** What a recovering node reports: enough for the operator to pick the founder. */
export interface RecoveryView {
  slot: string;
  /** The Raft position its most up-to-date store reached (Raft's election order). */
  lastTerm: number;
  lastIndex: number;
  appliedIndex: number;
  records: number;
  /** The rebuilt vault's digest (hex): the new cluster's genesis names it. */
  digest: string;
  stores: number;
}

/** The KMS-wrapped data key, kept by the host agent (it is not secret: only KMS opens it). */
export function hostBlobKeeper(address: HostAddress, slot: string): BlobKeeper {
  const ns = hostMetaNamespace(slot);
  return {
    where: `the host agent's ${ns}/${BLOB}`,
    read: () => withHostMeta(address, ns, (m) => m.get(BLOB)),
    write: (blob) => withHostMeta(address, ns, (m) => m.put(BLOB, blob)),
  };
}

/** Rebuilds this slot's vault from what its host agent holds and leaves the copy there. */
export async function recoverHostedSlot(
  address: HostAddress,
  slot: string,
  cipher: ValueCipher,
): Promise<RecoveryView> {
  const names = (await listHostStores(address, slot)).filter((n) => n.startsWith('raft-'));
  if (names.length === 0) {
    throw new VaultError('RECOVER_EMPTY', `the host agent holds no Raft store of ${slot}`, 500);
  }
  const disks: DiskSource[] = names.map((n) => ({
    name: `${slot}/${n}`,
    open: async () =>
      RaftStorage.on(await HostKvStore.connect(address, `${slot}/${n}`, 'adopt'), cipher),
  }));
  const copy = `${slot}/recovered-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const report = await rebuildVault(disks, async (records) => {
    const kv = await HostKvStore.connect(address, copy, 'open');
    try {
      return await writeRecoveredRecords(kv, cipher, records());
    } finally {
      await kv.close();
    }
  });
  const view = viewOf(slot, report);
  await withHostMeta(address, hostMetaNamespace(slot), async (m) => {
    await m.put(POINTER, utf8.encode(copy));
    await m.put(VIEW, utf8.encode(JSON.stringify(view)));
  });
  return view;
}

/** The same for a node on its own disk: its slot directory's `raft-*` stores, the copy in
 *  `recovered/` (as `vigil cluster recover` writes it, so `--found` takes it the same way). */
export async function recoverLocalSlot(
  slotDir: string,
  slot: string,
  cipher: ValueCipher,
): Promise<RecoveryView> {
  const names = (await readdir(slotDir).catch(() => [] as string[])).filter((n) =>
    n.startsWith('raft-'),
  );
  if (names.length === 0) {
    throw new VaultError('RECOVER_EMPTY', `${slotDir} holds no Raft store of ${slot}`, 500);
  }
  const disks: DiskSource[] = names.map((n) => {
    const dir = join(slotDir, n);
    return { name: dir, open: () => RaftStorage.open(dir, cipher) };
  });
  const report = await rebuildVault(disks, (records) =>
    writeRecoveredDir(slotDir, cipher, records()),
  );
  return viewOf(slot, report);
}

function viewOf(slot: string, report: RecoveryReport): RecoveryView {
  return {
    slot,
    lastTerm: report.lastTerm,
    lastIndex: report.lastIndex,
    appliedIndex: report.appliedIndex,
    records: report.records,
    digest: Buffer.from(report.digest).toString('hex'),
    stores: report.disks,
  };
}

/** The view the last `--recover` run of `slot` left with its host agent. */
export async function readRecoveryView(
  address: HostAddress,
  slot: string,
): Promise<RecoveryView | null> {
  const stored = await withHostMeta(address, hostMetaNamespace(slot), (m) => m.get(VIEW));
  return stored === null ? null : recoveryViewFromJson(JSON.parse(fromUtf8.decode(stored)));
}

/** This slot's rebuilt vault waiting to found the new cluster, if its host agent holds one. */
export async function openHostRecovered(
  address: HostAddress,
  slot: string,
  cipher: ValueCipher,
): Promise<RecoveredRecords | null> {
  const pointer = await withHostMeta(address, hostMetaNamespace(slot), (m) => m.get(POINTER));
  if (pointer === null) return null;
  const ns = fromUtf8.decode(pointer);
  if (!ns.startsWith(`${slot}/recovered-`)) {
    throw new VaultError(
      'STORAGE_CORRUPT',
      `the host agent points at ${ns} as this slot's copy`,
      500,
    );
  }
  return readRecoveredRecords(() => HostKvStore.connect(address, ns, 'adopt'), cipher);
}

/** The new cluster holds the recovered vault: the copy stays on the host, no longer pending. */
export async function retireHostRecovered(address: HostAddress, slot: string): Promise<void> {
  await withHostMeta(address, hostMetaNamespace(slot), async (m) => {
    const pointer = await m.get(POINTER);
    if (pointer === null) return;
    await m.put(USED, pointer);
    await m.put(POINTER, null);
  });
}

export function recoveryViewFromJson(v: unknown): RecoveryView {
  const o = v as Record<string, unknown>;
  const int = (k: string) => Number.isSafeInteger(o?.[k]) && (o[k] as number) >= 0;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.slot !== 'string' ||
    typeof o.digest !== 'string' ||
    !/^[0-9a-f]{64}$/.test(o.digest) ||
    !['lastTerm', 'lastIndex', 'appliedIndex', 'records', 'stores'].every(int)
  ) {
    throw new VaultError('MALFORMED', 'not a recovery view', 400);
  }
  const { slot, lastTerm, lastIndex, appliedIndex, records, digest, stores } = o as never;
  return { slot, lastTerm, lastIndex, appliedIndex, records, digest, stores };
}

/**
 * The slot to found the new cluster from: the most up-to-date store (Raft's order: last term,
 * then last index; then the most applied; then the first slot) among the views of a majority of
 * `slots`. That store holds every entry a majority acknowledged, as an election winner would.
 */
export function chooseFounder(views: readonly RecoveryView[], slots: readonly string[]): string {
  const bySlot = new Map<string, RecoveryView>();
  for (const v of views) {
    if (!slots.includes(v.slot))
      throw new VaultError('RECOVER_VIEWS_INVALID', `${v.slot} is not one of the slots`, 400);
    if (bySlot.has(v.slot))
      throw new VaultError('RECOVER_VIEWS_INVALID', `two views of ${v.slot}`, 400);
    bySlot.set(v.slot, v);
  }
  if (bySlot.size < quorum(slots.length)) {
    throw new VaultError(
      'RECOVER_NO_MAJORITY',
      `views of ${bySlot.size} of ${slots.length} slots: a majority is needed`,
      400,
    );
  }
  const ranked = [...bySlot.values()].sort(
    (a, b) =>
      b.lastTerm - a.lastTerm ||
      b.lastIndex - a.lastIndex ||
      b.appliedIndex - a.appliedIndex ||
      (a.slot < b.slot ? -1 : 1),
  );
  return ranked[0]!.slot;
}
