/**
 * One vault node: the pure state machine over its records in a sealed store on the storage seam
 * (cluster's `KvStore`, LevelDB here). A command's record writes go to disk in one synced batch
 * before its reply; nothing is replayed at start and nothing rewrites the whole state, so opening
 * and every command cost the same whatever the number of wallets.
 *
 * Rollback model (DESIGN.md P4): the epoch secret lives only in memory, so every start of a node
 * from disk begins a new epoch, which voids every pending claim (claims are read as void once
 * their epoch is over) while deposits survive.
 */
import { type KvStore, type KvWrite, LevelKvStore, type ValueCipher } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import {
  type Command,
  type CommandResult,
  decodeCommand,
  type Effect,
  encodeCommand,
  type IssuedNonce,
  type MachineConfig,
  type RecordStore,
  VaultMachine,
} from '../machine/index.ts';
import {
  type ClusterPublicKeys,
  decodeNodeKeys,
  encodeNodeKeys,
  generateNodeKeys,
  type NodeKeys,
  publicKeysOf,
} from './node-keys.ts';

export const EPOCH_ID_BYTES = 16;
const RANDOM_BYTES = 32;
const KEYS = 'node/keys';
const RECORD = 's/';

/** Authenticated encryption of one stored record; `name` is bound as associated data. */
export type RecordCipher = ValueCipher;

export type MachineLimits = Omit<
  MachineConfig,
  'clusterId' | 'operatorKey' | 'clusterEncryptionKey' | 'receiptKey'
>;

export const DEFAULT_MACHINE_LIMITS: MachineLimits = {
  pingNonceTtlMs: 60_000,
  claimNonceTtlMs: 10 * 60_000,
  claimIntervalMs: 60_000,
  maxTenants: 1_000,
};

export interface VaultNodeOptions {
  dataDir: string;
  cipher: RecordCipher;
  /** The operator's BIP-340 key; required when the data directory is new. */
  operatorKey?: Uint8Array;
  limits?: Partial<MachineLimits>;
  now?: () => number;
  random?: (n: number) => Uint8Array;
  onEffects?: (effects: Effect[]) => void;
}

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export class VaultNode {
  readonly #kv: KvStore;
  readonly #cipher: RecordCipher;
  readonly #machine: VaultMachine;
  readonly #keys: NodeKeys;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #onEffects: ((effects: Effect[]) => void) | undefined;
  readonly #epochId: Uint8Array;
  readonly #epochSecret: Uint8Array;
  /** The command being made durable: its writes, read before the disk has them. */
  #pending = new Map<string, Uint8Array | null>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #failed: Error | undefined;

  private constructor(kv: KvStore, keys: NodeKeys, opts: VaultNodeOptions) {
    this.#kv = kv;
    this.#cipher = opts.cipher;
    this.#keys = keys;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? defaultRandom;
    this.#onEffects = opts.onEffects;
    this.#epochId = this.#random(EPOCH_ID_BYTES);
    this.#epochSecret = this.#random(32);
    const records: RecordStore = {
      get: (key) =>
        this.#pending.has(key) ? (this.#pending.get(key) ?? undefined) : this.#read(RECORD + key),
      write: (writes) => {
        for (const w of writes) this.#pending.set(w.key, w.value);
      },
    };
    this.#machine = new VaultMachine(records);
  }

  static async open(opts: VaultNodeOptions): Promise<VaultNode> {
    const random = opts.random ?? defaultRandom;
    const kv = await LevelKvStore.open(opts.dataDir);
    try {
      const storedKeys = kv.get(KEYS);
      let keys: NodeKeys;
      if (storedKeys !== undefined) {
        keys = decodeNodeKeys(unseal(opts.cipher, KEYS, storedKeys));
      } else {
        if (!opts.operatorKey) {
          throw new VaultError('CONFIG_INVALID', 'a new vault needs the operator key', 500);
        }
        keys = generateNodeKeys(random);
        await kv.write([{ key: KEYS, value: opts.cipher.seal(KEYS, encodeNodeKeys(keys)) }], {
          sync: true,
        });
      }
      const node = new VaultNode(kv, keys, opts);
      if (node.#read(`${RECORD}v/config`) === undefined) {
        if (!opts.operatorKey) {
          throw new VaultError('CONFIG_INVALID', 'a new vault needs the operator key', 500);
        }
        const config: MachineConfig = {
          ...DEFAULT_MACHINE_LIMITS,
          ...opts.limits,
          ...publicKeysOf(keys),
          operatorKey: opts.operatorKey,
        };
        const records = node.#machine.store;
        VaultMachine.create(config, undefined, records);
        await node.#flush();
      }
      await node.submit({ type: 'beginEpoch' });
      return node;
    } catch (err) {
      await kv.close();
      throw err;
    }
  }

  #read(key: string): Uint8Array | undefined {
    const v = this.#kv.get(key);
    return v === undefined ? undefined : unseal(this.#cipher, key, v);
  }

  /** The pending writes, sealed, in one synced batch. */
  async #flush(): Promise<void> {
    const ops: KvWrite[] = [...this.#pending].map(([key, value]) => ({
      key: RECORD + key,
      value: value === null ? null : this.#cipher.seal(RECORD + key, value),
    }));
    await this.#kv.write(ops, { sync: true });
    this.#pending = new Map();
  }

  get publicKeys(): ClusterPublicKeys {
    return publicKeysOf(this.#keys);
  }

  get machine(): VaultMachine {
    return this.#machine;
  }

  get epochId(): Uint8Array {
    return this.#epochId;
  }

  /** A fresh single-use ping nonce (minted from the epoch secret; nothing is written). */
  mintPingNonce(tenant: string): IssuedNonce {
    return this.#machine.mintPingNonce(tenant, this.#nonceContext());
  }

  /** A fresh single-use claim nonce for a wallet. */
  mintClaimNonce(walletId: Uint8Array): IssuedNonce {
    return this.#machine.mintClaimNonce(walletId, this.#nonceContext());
  }

  #nonceContext() {
    return {
      epochId: this.#epochId,
      epochSecret: this.#epochSecret,
      timestamp: this.#now(),
      random: this.#random(RANDOM_BYTES),
    };
  }

  /** Applies a command; resolves with its result once durable, rejects with a VaultError. */
  submit(command: Command): Promise<CommandResult> {
    const run = this.#queue.then(() => this.#apply(command));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #apply(input: Command): Promise<CommandResult> {
    if (this.#closed) throw new VaultError('NODE_CLOSED', 'the vault node is shutting down', 503);
    if (this.#failed) {
      throw new VaultError('STORAGE_FAILED', 'the node stopped after a storage failure', 503);
    }
    // What is applied is exactly what a replica would decode from a log entry.
    const command = decodeCommand(encodeCommand(input));
    const outcome = this.#machine.apply(command, {
      logIndex: this.#machine.lastIndex + 1,
      timestamp: this.#now(),
      epochId: this.#epochId,
      epochSecret: this.#epochSecret,
      random: this.#random(RANDOM_BYTES),
      keys: {
        clusterSecretKey: this.#keys.clusterSecretKey,
        receiptSecretKey: this.#keys.receiptSecretKey,
      },
    });
    if (!outcome.ok) throw outcome.error;
    try {
      await this.#flush();
    } catch (err) {
      // Memory is now ahead of the disk: refuse everything until a restart reads the disk.
      this.#failed = err as Error;
      throw new VaultError('STORAGE_FAILED', 'the command could not be made durable', 503);
    }
    this.#onEffects?.(outcome.effects);
    return outcome.result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#kv.close();
  }
}

function unseal(cipher: RecordCipher, key: string, sealed: Uint8Array): Uint8Array {
  try {
    return cipher.open(key, sealed);
  } catch {
    throw new VaultError(
      'STORAGE_CORRUPT',
      `stored record ${key} failed authentication (wrong storage key or tampered disk)`,
      500,
    );
  }
}
