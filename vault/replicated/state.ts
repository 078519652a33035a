/**
 * The replicated vault state machine: the pure `VaultMachine` plus the cluster's keys (from the
 * genesis entry) and its member directory, applied in log order on every node.
 *
 * Persistence: the state on disk is a full snapshot plus a journal of the entries applied since,
 * written with the applied index in one synced batch (`commitApplied`). Claim-family commands
 * cannot be replayed without their epoch's secret, so an accepted one is followed by a fresh
 * snapshot instead of a journal entry (as in vault/node).
 *
 * Recovery (`vigil cluster recover`): every founder holds the same recovered vault locally; the
 * genesis entry carries only its digest. A founder applies its own copy if the digest matches
 * and halts otherwise (never diverges); the log is then compacted past that entry on every node,
 * so members joining later get the vault by snapshot.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  type DurableStateMachine,
  type Entry,
  type KvWrite,
  Reader,
  Writer,
} from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import { type Command, type Effect, VaultMachine } from '../machine/index.ts';
import { bytesEqual, toHex, x25519PublicKey } from '../protocol/index.ts';
import {
  type ClusterSecrets,
  decodeLogCommand,
  encodeReply,
  type LogCommand,
  type Member,
  readMember,
  readSecrets,
  recoveredDigest,
  writeMember,
  writeSecrets,
} from './codec.ts';
import type { EpochKeeper } from './epochs.ts';

const SNAP_KEY = 'v/snap';
const JOURNAL = 'v/j/';
const SNAPSHOT_VERSION = 1;
/** Commands that need their epoch's secret to apply (P4: a restart from disk voids them). */
export const EPOCH_BOUND: ReadonlySet<Command['type']> = new Set(['ping', 'claim', 'solve']);
/** Raised by `apply` instead of a reply: applying the entry here would diverge from the others. */
export const RECOVERY_MISMATCH = 'RECOVERY_MISMATCH';

function journalKey(index: number): string {
  return JOURNAL + index.toString(16).padStart(14, '0');
}

export interface ReplicatedStateOptions {
  epochs: EpochKeeper;
  /**
   * Recovery only: apply claim-family entries whose epoch secret is unknown as rejected instead
   * of waiting for the secret (their epoch is over: P4 voids its claims anyway).
   */
  voidUnknownEpochs?: boolean;
  onMembers?: (members: ReadonlyMap<string, Member>) => void;
  onEffects?: (effects: Effect[]) => void;
  /** This founder's copy of the recovered vault (what `recoveredDigest` must match). */
  recovered?: Uint8Array;
  /** Told why this replica stopped applying (the node stops too). */
  onHalt?: (e: VaultError) => void;
}

export function isEpochBound(c: LogCommand): c is Extract<LogCommand, { kind: 'vault' }> {
  return c.kind === 'vault' && EPOCH_BOUND.has(c.command.type);
}

export class ReplicatedState implements DurableStateMachine {
  readonly #opts: ReplicatedStateOptions;
  #secrets: ClusterSecrets | null = null;
  #machine: VaultMachine | null = null;
  /** Vault log index = Raft index + offset (a recovered vault keeps its indexes increasing). */
  #offset = 0;
  #members = new Map<string, Member>();
  #journal: { index: number; data: Uint8Array }[] = [];
  #journalOnDisk: number[] = [];
  #snapshotDue = true;
  #appliedIndex = 0;
  #recovered: Uint8Array | null;
  #compactNow = false;
  #halted: VaultError | null = null;

  constructor(opts: ReplicatedStateOptions) {
    this.#opts = opts;
    this.#recovered = opts.recovered ?? null;
  }

  /** Why this replica refused to apply an entry, if it did. */
  get halted(): VaultError | null {
    return this.#halted;
  }

  compactNow(): boolean {
    const due = this.#compactNow;
    this.#compactNow = false;
    return due;
  }

  /** The founding directory: part of the initial state, identical on every founder. */
  seedMembers(members: readonly Member[]): void {
    for (const m of members) this.#members.set(m.id, m);
    this.#opts.onMembers?.(this.#members);
  }

  get machine(): VaultMachine | null {
    return this.#machine;
  }

  get secrets(): ClusterSecrets | null {
    return this.#secrets;
  }

  get members(): ReadonlyMap<string, Member> {
    return this.#members;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  async prepare(entries: readonly Entry[]): Promise<void> {
    if (this.#opts.voidUnknownEpochs) return;
    for (const e of entries) {
      if (e.type !== 'normal') continue;
      let c: LogCommand;
      try {
        c = decodeLogCommand(e.data);
      } catch {
        continue; // apply rejects it
      }
      if (isEpochBound(c)) await this.#opts.epochs.wait(c.epochId);
    }
  }

  apply(data: Uint8Array, index: number): Uint8Array {
    this.#appliedIndex = index;
    try {
      const reply = encodeReply({
        ok: true,
        result: this.#apply(decodeLogCommand(data), index, data),
      });
      return reply;
    } catch (e) {
      if (e instanceof VaultError && e.code === RECOVERY_MISMATCH) {
        this.#halted = e;
        this.#opts.onHalt?.(e);
        throw e; // not a reply: the node stops rather than diverge
      }
      if (e instanceof VaultError) return encodeReply({ ok: false, error: e });
      throw e;
    }
  }

  #apply(c: LogCommand, index: number, data: Uint8Array) {
    switch (c.kind) {
      case 'genesis': {
        if (this.#machine !== null)
          throw new VaultError('CLUSTER_INITIALIZED', 'the vault already exists', 409);
        if (this.#recovered !== null) {
          throw halt('this node holds a recovered vault, but the cluster committed a new one');
        }
        this.#secrets = c.secrets;
        this.#machine = VaultMachine.create({
          ...c.secrets.limits,
          clusterId: c.secrets.clusterId,
          operatorKey: c.secrets.operatorKey,
          ...publicKeys(c.secrets),
        });
        this.#setMembers(c.members);
        this.#snapshotDue = true;
        return null;
      }
      case 'recovered': {
        if (this.#machine !== null)
          throw new VaultError('CLUSTER_INITIALIZED', 'the vault already exists', 409);
        const local = this.#recovered;
        if (local === null) {
          throw halt(
            `this node holds no recovered vault (the cluster's has digest ${toHex(c.digest)}); ` +
              'restart it as a new member to get the vault by snapshot',
          );
        }
        const mine = recoveredDigest(local);
        if (!bytesEqual(mine, c.digest)) {
          throw halt(
            `this node's recovered vault (digest ${toHex(mine)}) differs from the one the ` +
              `cluster committed (digest ${toHex(c.digest)}): refusing to apply it`,
          );
        }
        const restored = decodeState(local);
        if (restored.secrets === null || restored.machine === null)
          throw halt('the recovered vault is not a whole vault');
        this.#secrets = restored.secrets;
        this.#machine = VaultMachine.restore(restored.machine);
        this.#offset = this.#machine.lastIndex; // later indexes stay above the recovered ones
        this.#setMembers(c.members);
        this.#recovered = null;
        this.#snapshotDue = true;
        this.#compactNow = true; // no later member could apply this entry from the log
        return null;
      }
      case 'addMember':
        this.#members.set(c.member.id, c.member);
        this.#journal.push({ index, data });
        this.#opts.onMembers?.(this.#members);
        return null;
      case 'removeMember':
        this.#members.delete(c.id);
        this.#journal.push({ index, data });
        this.#opts.onMembers?.(this.#members);
        return null;
      case 'benchPut':
        return null;
      case 'vault': {
        const machine = this.#machine;
        const secrets = this.#secrets;
        if (machine === null || secrets === null)
          throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet', 503);
        let epochSecret = this.#opts.epochs.get(c.epochId);
        const bound = EPOCH_BOUND.has(c.command.type);
        if (epochSecret === undefined) {
          // Only recovery gets here (prepare waits otherwise): that epoch's claims are void.
          if (bound) throw new VaultError('EPOCH_VOID', 'the epoch of this command has ended', 409);
          epochSecret = new Uint8Array(32);
        }
        const outcome = machine.apply(c.command, {
          logIndex: index + this.#offset,
          timestamp: c.timestamp,
          epochId: c.epochId,
          epochSecret,
          random: c.random,
          keys: {
            clusterSecretKey: secrets.clusterSecretKey,
            receiptSecretKey: secrets.receiptSecretKey,
          },
        });
        if (!outcome.ok) throw outcome.error;
        if (bound) this.#snapshotDue = true;
        else this.#journal.push({ index, data });
        this.#opts.onEffects?.(outcome.effects);
        return outcome.result;
      }
    }
  }

  /** The genesis entry carries the founding directory, so a joiner replaying the log learns it. */
  #setMembers(list: readonly Member[]): void {
    this.#members = new Map(list.map((m) => [m.id, m]));
    this.#opts.onMembers?.(this.#members);
  }

  snapshot(): Uint8Array {
    return encodeState(this.#secrets, this.#machine, this.#members, this.#offset);
  }

  restore(data: Uint8Array): void {
    const s = decodeState(data);
    this.#recovered = null; // the cluster's state supersedes the local copy
    this.#secrets = s.secrets;
    this.#machine = s.machine === null ? null : VaultMachine.restore(s.machine);
    this.#members = new Map(s.members.map((m) => [m.id, m]));
    this.#offset = s.offset;
    this.#journal = [];
    this.#snapshotDue = true;
    this.#opts.onMembers?.(this.#members);
  }

  drainWrites(): KvWrite[] {
    if (this.#snapshotDue || this.#journal.length + this.#journalOnDisk.length > 1_000)
      return this.dumpWrites();
    const out = this.#journal.map((j) => ({ key: journalKey(j.index), value: j.data }));
    for (const j of this.#journal) this.#journalOnDisk.push(j.index);
    this.#journal = [];
    return out;
  }

  dumpWrites(): KvWrite[] {
    const out: KvWrite[] = this.#journalOnDisk.map((i) => ({ key: journalKey(i), value: null }));
    out.push({ key: SNAP_KEY, value: this.snapshot() });
    this.#journal = [];
    this.#journalOnDisk = [];
    this.#snapshotDue = false;
    return out;
  }

  /** Rebuild from disk: the snapshot, then the journal (never claim-family: see the header). */
  load(state: Map<string, Uint8Array>): void {
    const snap = state.get(SNAP_KEY);
    if (snap !== undefined) this.restore(snap);
    const journal = [...state.keys()].filter((k) => k.startsWith(JOURNAL)).sort();
    for (const key of journal) {
      const index = Number.parseInt(key.slice(JOURNAL.length), 16);
      const data = state.get(key)!;
      this.apply(data, index);
    }
    this.#journal = [];
    this.#journalOnDisk = journal.map((k) => Number.parseInt(k.slice(JOURNAL.length), 16));
    this.#snapshotDue = false;
  }
}

function halt(message: string): VaultError {
  return new VaultError(RECOVERY_MISMATCH, message, 500);
}

function publicKeys(s: ClusterSecrets) {
  return {
    clusterEncryptionKey: x25519PublicKey(s.clusterSecretKey),
    receiptKey: schnorr.getPublicKey(s.receiptSecretKey),
  };
}

export function clusterPublicKeys(s: ClusterSecrets) {
  return { clusterId: s.clusterId, ...publicKeys(s) };
}

export function encodeState(
  secrets: ClusterSecrets | null,
  machine: VaultMachine | null,
  members: ReadonlyMap<string, Member>,
  offset: number,
): Uint8Array {
  const w = new Writer().u8(SNAPSHOT_VERSION).u8(secrets ? 1 : 0);
  if (secrets) writeSecrets(w, secrets);
  w.u8(machine ? 1 : 0);
  if (machine) w.bytes(machine.snapshot());
  w.u64(offset).u32(members.size);
  for (const m of [...members.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) writeMember(w, m);
  return w.finish();
}

export function decodeState(data: Uint8Array) {
  const r = new Reader(data);
  if (r.u8() !== SNAPSHOT_VERSION)
    throw new VaultError('STORAGE_CORRUPT', 'unknown replicated state version', 500);
  const secrets = r.u8() === 1 ? readSecrets(r) : null;
  const machine = r.u8() === 1 ? r.bytes(Number.MAX_SAFE_INTEGER) : null;
  const offset = r.u64();
  const n = r.u32();
  const members: Member[] = [];
  for (let i = 0; i < n; i++) members.push(readMember(r));
  r.end();
  return { secrets, machine, members, offset };
}
