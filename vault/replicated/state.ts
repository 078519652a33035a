/**
 * The replicated vault state machine: the pure `VaultMachine` plus the cluster's keys (from the
 * genesis entry) and its member directory, applied in log order on every node.
 *
 * Persistence: everything is keyed records in the node's store (cluster/storage.ts), read
 * through its `StateReader` and written by each command with the applied index it belongs to.
 * Nothing rewrites the whole state; a Raft snapshot is the records themselves, streamed.
 *
 * Recovery (`vigil cluster recover`): every founder's store already holds the same recovered
 * records, with their digest under `r/recovery`; the genesis entry carries only the digest. A
 * founder whose records match takes them as the vault, one that differs halts (never diverges);
 * the log is then compacted past that entry, so members joining later get the vault by snapshot.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  type DurableStateMachine,
  type Entry,
  type KvWrite,
  Reader,
  type StateReader,
  Writer,
} from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import {
  type Command,
  type Effect,
  encodeCommand,
  type ReceiptSigner,
  type RecordStore,
  type RecordWrite,
  StoreFailure,
  type UnsignedReceipt,
  VAULT_PREFIX,
  VaultMachine,
} from '../machine/index.ts';
import { bytesEqual, type DepositReceipt, toHex, x25519PublicKey } from '../protocol/index.ts';
import {
  type ClusterSecrets,
  DIGEST_BYTES,
  decodeLogCommand,
  encodeReply,
  type LogCommand,
  type Member,
  readMember,
  readSecrets,
  writeMember,
  writeSecrets,
} from './codec.ts';
import type { EpochKeeper } from './epochs.ts';

// The replicated layer's own records, beside the machine's `v/` ones.
const SECRETS = 'r/secrets';
const OFFSET = 'r/offset';
/** A recovered vault's digest, until the recovered genesis accepts it (see the header). */
export const RECOVERY = 'r/recovery';
const MEMBER = 'r/m/';

/** Commands that need their epoch's secret to apply (P4: a restart from disk voids them). */
export const EPOCH_BOUND: ReadonlySet<Command['type']> = new Set(['ping', 'claim', 'solve']);
/** Raised by `apply` instead of a reply: applying the entry here would diverge from the others. */
export const RECOVERY_MISMATCH = 'RECOVERY_MISMATCH';

const RECOVERED_TAG = 'vigil/v1/cluster/recovered-records';

/**
 * The digest of a recovered vault: SHA-256 over its records in key order, each key and value
 * length-prefixed, domain-separated. Streamed: it holds one record at a time, whatever the size.
 */
export class RecordsDigest {
  readonly #hash = sha256.create().update(new Writer().str(RECOVERED_TAG).finish());
  count = 0;

  update(key: string, value: Uint8Array): void {
    this.#hash.update(new Writer().str(key).bytes(value).finish());
    this.count += 1;
  }

  digest(): Uint8Array {
    return this.#hash.update(new Writer().u64(this.count).finish()).digest();
  }
}

/** Which stored records make up a recovered vault: the machine's and the cluster keys. */
export function isRecoveredRecord(key: string): boolean {
  return key.startsWith(VAULT_PREFIX) || key === SECRETS || key === OFFSET;
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
  /** Told why this replica stopped applying (the node stops too). */
  onHalt?: (e: VaultError) => void;
}

export function isEpochBound(c: LogCommand): c is Extract<LogCommand, { kind: 'vault' }> {
  return c.kind === 'vault' && EPOCH_BOUND.has(c.command.type);
}

export class ReplicatedState implements DurableStateMachine {
  readonly #opts: ReplicatedStateOptions;
  #reader: StateReader | null = null;
  /** Writes applied since the last drain (the node then overlays them until they are on disk). */
  readonly #pending = new Map<string, Uint8Array | null>();
  readonly #records: RecordStore;
  #secrets: ClusterSecrets | null = null;
  #machine: VaultMachine | null = null;
  /** Vault log index = Raft index + offset (a recovered vault keeps its indexes increasing). */
  #offset = 0;
  #members = new Map<string, Member>();
  #appliedIndex = 0;
  #recovery: Uint8Array | null = null;
  #compactNow = false;
  #halted: VaultError | null = null;
  #receiptSigner: ReceiptSigner | null = null;
  /** Entries decoded by `prepare`, so `apply` does not decode them (and their points) again. */
  readonly #decoded = new WeakMap<Uint8Array, LogCommand>();

  constructor(opts: ReplicatedStateOptions) {
    this.#opts = opts;
    this.#records = {
      get: (key) => {
        if (this.#pending.has(key)) return this.#pending.get(key) ?? undefined;
        return this.#reader?.get(key);
      },
      write: (writes) => {
        for (const w of writes) this.#pending.set(w.key, w.value);
      },
    };
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

  /** Signs on this thread: the member's fallback when its deposit workers failed. */
  signReceipt(receipt: UnsignedReceipt): DepositReceipt {
    const machine = this.#machine;
    const secrets = this.#secrets;
    if (machine === null || secrets === null)
      throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet', 503);
    this.#receiptSigner ??= machine.receiptSigner(secrets.receiptSecretKey);
    return this.#receiptSigner.sign(receipt);
  }

  get members(): ReadonlyMap<string, Member> {
    return this.#members;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** This store holds a recovered vault whose genesis was never applied (a founder's import). */
  get holdsRecoveredVault(): boolean {
    return this.#machine === null && this.#recovery !== null && this.#secrets !== null;
  }

  /** Opens on the stored records: a handful of reads, whatever the number of wallets. */
  async load(reader: StateReader): Promise<void> {
    this.#reader = reader;
    this.#pending.clear();
    const secrets = reader.get(SECRETS);
    this.#secrets = secrets === undefined ? null : readSecrets(new Reader(secrets));
    const offset = reader.get(OFFSET);
    this.#offset = offset === undefined ? 0 : new Reader(offset).u64();
    this.#recovery = reader.get(RECOVERY) ?? null;
    const ready = this.#secrets !== null && this.#recovery === null;
    this.#machine = ready ? new VaultMachine(this.#records) : null;
    const members = new Map<string, Member>();
    for await (const [, value] of reader.iterate(MEMBER)) {
      const m = readMember(new Reader(value));
      members.set(m.id, m);
    }
    // a brand-new store keeps the directory it was seeded with (founders), or none (a joiner,
    // whose links the member that admitted it set up)
    if (members.size > 0 || ready) {
      this.#members = members;
      this.#opts.onMembers?.(this.#members);
    }
  }

  async prepare(entries: readonly Entry[]): Promise<void> {
    for (const e of entries) {
      if (e.type !== 'normal') continue;
      let c: LogCommand;
      try {
        c = decodeLogCommand(e.data);
      } catch {
        continue; // apply rejects it
      }
      this.#decoded.set(e.data, c);
      if (!this.#opts.voidUnknownEpochs && isEpochBound(c)) await this.#opts.epochs.wait(c.epochId);
    }
  }

  /** A client's request is the vault command, without the proposer's time and randomness. */
  fingerprint(data: Uint8Array): Uint8Array {
    try {
      const c = this.#decoded.get(data) ?? decodeLogCommand(data);
      return c.kind === 'vault' ? encodeCommand(c.command) : data;
    } catch {
      return data;
    }
  }

  /** Only accepted commands advance a client's session (cluster/sessions.ts). */
  accepted(reply: Uint8Array): boolean {
    return startsWith(reply, ACCEPTED);
  }

  apply(data: Uint8Array, index: number): Uint8Array {
    this.#appliedIndex = index;
    try {
      const command = this.#decoded.get(data) ?? decodeLogCommand(data);
      return encodeReply({ ok: true, result: this.#apply(command, index) });
    } catch (e) {
      if (e instanceof VaultError && e.code === RECOVERY_MISMATCH) {
        this.#halted = e;
        this.#opts.onHalt?.(e);
        throw e; // not a reply: the node stops rather than diverge
      }
      // a record this replica cannot read is its own failure, not a rejection: stop the node
      if (e instanceof StoreFailure) throw e;
      if (e instanceof VaultError) return encodeReply({ ok: false, error: e });
      throw e;
    }
  }

  #apply(c: LogCommand, index: number) {
    switch (c.kind) {
      case 'genesis': {
        if (this.#machine !== null)
          throw new VaultError('CLUSTER_INITIALIZED', 'the vault already exists', 409);
        if (this.#recovery !== null) {
          throw halt('this node holds a recovered vault, but the cluster committed a new one');
        }
        this.#secrets = c.secrets;
        this.#records.write([{ key: SECRETS, value: encodeSecrets(c.secrets) }]);
        this.#machine = VaultMachine.create(
          {
            ...c.secrets.limits,
            clusterId: c.secrets.clusterId,
            operatorKey: c.secrets.operatorKey,
            ...publicKeys(c.secrets),
          },
          undefined,
          this.#records,
        );
        this.#setMembers(c.members);
        return null;
      }
      case 'recovered': {
        if (this.#machine !== null)
          throw new VaultError('CLUSTER_INITIALIZED', 'the vault already exists', 409);
        const mine = this.#recovery;
        if (mine === null) {
          throw halt(
            `this node holds no recovered vault (the cluster's has digest ${toHex(c.digest)}); ` +
              'restart it as a new member to get the vault by snapshot',
          );
        }
        if (!bytesEqual(mine, c.digest)) {
          throw halt(
            `this node's recovered vault (digest ${toHex(mine)}) differs from the one the ` +
              `cluster committed (digest ${toHex(c.digest)}): refusing to apply it`,
          );
        }
        const secrets = this.#records.get(SECRETS);
        if (secrets === undefined) throw halt('the recovered vault is not a whole vault');
        this.#secrets = readSecrets(new Reader(secrets));
        this.#machine = new VaultMachine(this.#records);
        this.#offset = this.#machine.lastIndex; // later indexes stay above the recovered ones
        this.#records.write([
          { key: RECOVERY, value: null },
          { key: OFFSET, value: new Writer().u64(this.#offset).finish() },
        ]);
        this.#recovery = null;
        this.#setMembers(c.members);
        this.#compactNow = true; // no later member could apply this entry from the log
        return null;
      }
      case 'addMember':
        this.#members.set(c.member.id, c.member);
        this.#records.write([{ key: MEMBER + c.member.id, value: encodeMember(c.member) }]);
        this.#opts.onMembers?.(this.#members);
        return null;
      case 'removeMember':
        this.#members.delete(c.id);
        this.#records.write([{ key: MEMBER + c.id, value: null }]);
        this.#opts.onMembers?.(this.#members);
        return null;
      case 'benchPut':
        return null;
      case 'time':
        return this.#applyVault(
          { type: 'time', quorumTime: c.quorumTime },
          { epochId: c.epochId, timestamp: 0, random: new Uint8Array(32) },
          index,
        );
      case 'vault':
        return this.#applyVault(c.command, c, index);
    }
  }

  /** A vault machine command with the context its entry carries (a `time` entry: none). */
  #applyVault(
    command: Command,
    c: { epochId: Uint8Array; timestamp: number; random: Uint8Array; prechecked?: boolean },
    index: number,
  ) {
    const machine = this.#machine;
    const secrets = this.#secrets;
    if (machine === null || secrets === null)
      throw new VaultError('CLUSTER_NOT_READY', 'the vault is not initialised yet', 503);
    let epochSecret = this.#opts.epochs.get(c.epochId);
    if (epochSecret === undefined) {
      // Only recovery gets here (prepare waits otherwise): that epoch's claims are void.
      if (EPOCH_BOUND.has(command.type))
        throw new VaultError('EPOCH_VOID', 'the epoch of this command has ended', 409);
      epochSecret = new Uint8Array(32);
    }
    const outcome = machine.apply(command, {
      logIndex: index + this.#offset,
      timestamp: c.timestamp,
      epochId: c.epochId,
      epochSecret,
      random: c.random,
      prechecked: c.prechecked === true,
      keys: { clusterSecretKey: secrets.clusterSecretKey },
    });
    if (!outcome.ok) throw outcome.error;
    this.#opts.onEffects?.(outcome.effects);
    return outcome.result;
  }

  /** The genesis entry carries the founding directory, so a joiner replaying the log learns it. */
  #setMembers(list: readonly Member[]): void {
    const writes: RecordWrite[] = [...this.#members.keys()].map((id) => ({
      key: MEMBER + id,
      value: null,
    }));
    for (const m of list) writes.push({ key: MEMBER + m.id, value: encodeMember(m) });
    this.#records.write(writes);
    this.#members = new Map(list.map((m) => [m.id, m]));
    this.#opts.onMembers?.(this.#members);
  }

  /**
   * The digest of this replica's vault as stored (the records a recovery would carry), streamed:
   * equal on every replica that applied the same entries and wrote them.
   */
  async recordsDigest(): Promise<Uint8Array> {
    const digest = new RecordsDigest();
    for await (const [key, value] of this.#reader?.iterate('') ?? []) {
      if (isRecoveredRecord(key)) digest.update(key, value);
    }
    return digest.digest();
  }

  drainWrites(): KvWrite[] {
    const out = [...this.#pending].map(([key, value]) => ({ key, value }));
    this.#pending.clear();
    return out;
  }
}

const ACCEPTED = new TextEncoder().encode('{"ok":true');

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function halt(message: string): VaultError {
  return new VaultError(RECOVERY_MISMATCH, message, 500);
}

function encodeSecrets(s: ClusterSecrets): Uint8Array {
  return writeSecrets(new Writer(), s).finish();
}

function encodeMember(m: Member): Uint8Array {
  return writeMember(new Writer(), m).finish();
}

/** Digest bytes as stored under `RECOVERY` (tools write it with the recovered records). */
export function recoveryRecord(digest: Uint8Array): KvWrite {
  if (digest.length !== DIGEST_BYTES) throw new Error('recovery digest: 32 bytes');
  return { key: RECOVERY, value: digest };
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
