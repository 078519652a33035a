/**
 * The single node's durable state on LevelDB: sealed node keys, the latest machine snapshot, and
 * the log of commands applied since it. Every value is authenticated-encrypted under the storage
 * key with its LevelDB key as associated data (so values cannot be swapped between keys), and
 * every write is a synced batch: a command is acknowledged only after its entry is on disk.
 */
import { Level } from 'level';
import { VaultError } from '../errors.ts';
import { decodeEntry, encodeEntry, type LogEntry } from './entry.ts';

/** Authenticated encryption of one stored record; `name` is bound as associated data. */
export interface RecordCipher {
  seal(name: string, plaintext: Uint8Array): Uint8Array;
  open(name: string, sealed: Uint8Array): Uint8Array;
}

const KEYS = 'node/keys';
const SNAPSHOT = 'machine/snapshot';
const LOG_PREFIX = 'log/';

function logKey(index: number): string {
  return `${LOG_PREFIX}${index.toString(16).padStart(16, '0')}`;
}

export interface StoredSnapshot {
  lastIndex: number;
  bytes: Uint8Array;
}

export class VaultStore {
  readonly #db: Level<string, Uint8Array>;
  readonly #cipher: RecordCipher;

  private constructor(db: Level<string, Uint8Array>, cipher: RecordCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  static async open(path: string, cipher: RecordCipher): Promise<VaultStore> {
    const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' });
    await db.open();
    return new VaultStore(db, cipher);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async #get(name: string): Promise<Uint8Array | undefined> {
    const sealed = await this.#db.get(name);
    if (sealed === undefined) return undefined;
    try {
      return this.#cipher.open(name, sealed);
    } catch {
      throw new VaultError(
        'STORAGE_CORRUPT',
        `stored record ${name} failed authentication (wrong storage key or tampered disk)`,
        500,
      );
    }
  }

  readKeys(): Promise<Uint8Array | undefined> {
    return this.#get(KEYS);
  }

  async writeKeys(bytes: Uint8Array): Promise<void> {
    await this.#db.put(KEYS, this.#cipher.seal(KEYS, bytes), { sync: true });
  }

  async readSnapshot(): Promise<StoredSnapshot | undefined> {
    const raw = await this.#get(SNAPSHOT);
    if (!raw) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return { lastIndex: Number(view.getBigUint64(0)), bytes: raw.slice(8) };
  }

  /** Log entries after `afterIndex`, in order. */
  async *entriesAfter(afterIndex: number): AsyncGenerator<LogEntry> {
    for await (const [key] of this.#db.iterator({ gt: logKey(afterIndex), lt: `${LOG_PREFIX}~` })) {
      const plain = await this.#get(key);
      if (plain) yield decodeEntry(plain);
    }
  }

  async appendEntry(entry: LogEntry): Promise<void> {
    const key = logKey(entry.logIndex);
    await this.#db.put(key, this.#cipher.seal(key, encodeEntry(entry)), { sync: true });
  }

  /** Writes a snapshot and drops the log it covers, atomically. */
  async compact(snapshot: StoredSnapshot): Promise<void> {
    const raw = new Uint8Array(8 + snapshot.bytes.length);
    new DataView(raw.buffer).setBigUint64(0, BigInt(snapshot.lastIndex));
    raw.set(snapshot.bytes, 8);
    const batch = this.#db.batch().put(SNAPSHOT, this.#cipher.seal(SNAPSHOT, raw));
    for await (const key of this.#db.keys({ gte: LOG_PREFIX, lte: logKey(snapshot.lastIndex) })) {
      batch.del(key);
    }
    await batch.write({ sync: true });
  }
}
