/**
 * One vault node: the pure state machine behind a durable, sealed log on LevelDB. Commands are
 * applied one at a time; a command's reply goes out only after its entry is synced to disk.
 *
 * Rollback model (DESIGN.md P4): the epoch secret lives only in memory, so every start of a node
 * from disk begins a new epoch that voids every pending claim while deposits survive. Claim-family
 * entries of past epochs are not replayed (their challenge seeds depended on a secret that is
 * gone); a snapshot is taken right after each claim and release instead.
 */
import { VaultError } from '../errors.ts';
import {
  type ApplyContext,
  type Command,
  type CommandResult,
  decodeCommand,
  type Effect,
  encodeCommand,
  type IssuedNonce,
  type MachineConfig,
  VaultMachine,
} from '../machine/index.ts';

import { EPOCH_ID_BYTES, type LogEntry, RANDOM_BYTES } from './entry.ts';
import {
  type ClusterPublicKeys,
  decodeNodeKeys,
  encodeNodeKeys,
  generateNodeKeys,
  type NodeKeys,
  publicKeysOf,
} from './node-keys.ts';
import { type RecordCipher, VaultStore } from './store.ts';

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
  /** Entries between snapshots. */
  snapshotEvery?: number;
  onEffects?: (effects: Effect[]) => void;
}

/**
 * Commands bound to the volatile epoch: their nonces and challenge seeds depend on its secret.
 * A restart voids the epoch, so they are not replayed: the claims they made are voided anyway,
 * nonces of the old epoch no longer verify, and pings only matter to claims of their epoch.
 */
const REPLAY_SKIPPED = new Set<Command['type']>(['ping', 'claim', 'solve']);

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export class VaultNode {
  readonly #store: VaultStore;
  readonly #machine: VaultMachine;
  readonly #keys: NodeKeys;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #snapshotEvery: number;
  readonly #onEffects: ((effects: Effect[]) => void) | undefined;
  readonly #epochId: Uint8Array;
  readonly #epochSecret: Uint8Array;
  #sinceSnapshot = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #failed: Error | undefined;

  private constructor(
    store: VaultStore,
    machine: VaultMachine,
    keys: NodeKeys,
    opts: VaultNodeOptions,
    sinceSnapshot: number,
  ) {
    this.#store = store;
    this.#machine = machine;
    this.#keys = keys;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? defaultRandom;
    this.#snapshotEvery = opts.snapshotEvery ?? 1_000;
    this.#onEffects = opts.onEffects;
    this.#epochId = this.#random(EPOCH_ID_BYTES);
    this.#epochSecret = this.#random(32);
    this.#sinceSnapshot = sinceSnapshot;
  }

  static async open(opts: VaultNodeOptions): Promise<VaultNode> {
    const random = opts.random ?? defaultRandom;
    const store = await VaultStore.open(opts.dataDir, opts.cipher);
    try {
      let keys: NodeKeys;
      const storedKeys = await store.readKeys();
      if (storedKeys) {
        keys = decodeNodeKeys(storedKeys);
      } else {
        keys = generateNodeKeys(random);
        await store.writeKeys(encodeNodeKeys(keys));
      }
      const { machine, replayed } = await VaultNode.#recover(store, keys, opts);
      const node = new VaultNode(store, machine, keys, opts, replayed);
      await node.submit({ type: 'beginEpoch' });
      return node;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  static async #recover(
    store: VaultStore,
    keys: NodeKeys,
    opts: VaultNodeOptions,
  ): Promise<{ machine: VaultMachine; replayed: number }> {
    const snapshot = await store.readSnapshot();
    let machine: VaultMachine;
    if (snapshot) {
      machine = VaultMachine.restore(snapshot.bytes);
    } else {
      if (!opts.operatorKey) {
        throw new VaultError('CONFIG_INVALID', 'a new vault needs the operator key', 500);
      }
      machine = VaultMachine.create({
        ...DEFAULT_MACHINE_LIMITS,
        ...opts.limits,
        ...publicKeysOf(keys),
        operatorKey: opts.operatorKey,
      });
    }
    let replayed = 0;
    const noSecret = new Uint8Array(32);
    for await (const entry of store.entriesAfter(machine.lastIndex)) {
      replayed += 1;
      if (REPLAY_SKIPPED.has(entry.command.type)) continue;
      const outcome = machine.apply(entry.command, {
        ...VaultNode.#contextOf(entry, keys),
        epochSecret: noSecret,
      });
      if (!outcome.ok) {
        throw new VaultError(
          'STORAGE_CORRUPT',
          `log entry ${entry.logIndex} no longer applies (${outcome.error.code})`,
          500,
        );
      }
    }
    return { machine, replayed };
  }

  static #contextOf(entry: LogEntry, keys: NodeKeys): Omit<ApplyContext, 'epochSecret'> {
    return {
      logIndex: entry.logIndex,
      timestamp: entry.timestamp,
      epochId: entry.epochId,
      random: entry.random,
      keys: { clusterSecretKey: keys.clusterSecretKey, receiptSecretKey: keys.receiptSecretKey },
    };
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
    // What is applied is exactly what a replay will decode from the log.
    const command = decodeCommand(encodeCommand(input));
    const entry: LogEntry = {
      logIndex: this.#machine.lastIndex + 1,
      timestamp: this.#now(),
      epochId: this.#epochId,
      random: this.#random(RANDOM_BYTES),
      command,
    };
    const outcome = this.#machine.apply(command, {
      ...VaultNode.#contextOf(entry, this.#keys),
      epochSecret: this.#epochSecret,
    });
    if (!outcome.ok) throw outcome.error;
    try {
      await this.#store.appendEntry(entry);
      this.#sinceSnapshot += 1;
      if (VaultNode.#snapshotAfter(outcome.result) || this.#sinceSnapshot >= this.#snapshotEvery) {
        await this.#store.compact({
          lastIndex: this.#machine.lastIndex,
          bytes: this.#machine.snapshot(),
        });
        this.#sinceSnapshot = 0;
      }
    } catch (err) {
      // Memory is now ahead of the disk: refuse everything until a restart recovers from disk.
      this.#failed = err as Error;
      throw new VaultError('STORAGE_FAILED', 'the command could not be made durable', 503);
    }
    this.#onEffects?.(outcome.effects);
    return outcome.result;
  }

  /**
   * Claims and releases are rare and cannot be replayed without the epoch secret, so the state
   * right after each is snapshotted: a restart then voids the claim rather than forgetting it.
   */
  static #snapshotAfter(result: CommandResult): boolean {
    return result.type === 'released' || (result.type === 'claim' && !result.existing);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#store.close();
  }
}
