/**
 * The vault's state as keyed records (DESIGN.md §6, the etcd backend shape): the machine reads
 * the records a command needs through `RecordReader` and returns the records it writes. No
 * command reads or writes more than what it touches, so its cost does not grow with the number
 * of wallets held (P10). Record values are deterministic CBOR (cborg sorts map keys), so two
 * replicas in the same state hold the same bytes under the same keys.
 */
import { decode, encode } from 'cborg';
import { VaultError } from '../errors.ts';
import { toHex } from '../protocol/index.ts';

export interface RecordWrite {
  readonly key: string;
  /** null deletes the record. */
  readonly value: Uint8Array | null;
}

/** Point reads of the current records (a replica's applied state, plus its unflushed writes). */
export interface RecordReader {
  get(key: string): Uint8Array | undefined;
}

/** Where a machine's accepted writes go; the shell decides when they reach the disk. */
export interface RecordStore extends RecordReader {
  write(writes: readonly RecordWrite[]): void;
}

/** Every vault record key starts with this; the replicated layer keeps its own beside it. */
export const VAULT_PREFIX = 'v/';

export const keys = {
  config: `${VAULT_PREFIX}config`,
  clock: `${VAULT_PREFIX}clock`,
  epoch: `${VAULT_PREFIX}epoch`,
  tenantNames: `${VAULT_PREFIX}tenants`,
  tenant: (name: string) => `${VAULT_PREFIX}t/${name}`,
  wallet: (walletId: Uint8Array) => `${VAULT_PREFIX}w/${toHex(walletId)}`,
  claim: (claimId: Uint8Array) => `${VAULT_PREFIX}c/${toHex(claimId)}`,
  /** A consumed ping nonce of a tenant, kept until its ring slot is taken again. */
  usedPingNonce: (tenant: string, nonce: Uint8Array) =>
    `${VAULT_PREFIX}pn/${tenant}/${toHex(nonce)}`,
  /** Slot `slot` of a tenant's ring of consumed ping nonces. */
  pingNonceSlot: (tenant: string, slot: number) => `${VAULT_PREFIX}ps/${tenant}/${slot}`,
};

export function encodeRecord(value: object): Uint8Array {
  return encode(value);
}

/**
 * A record this replica cannot read (its disk failed or was tampered with). Unlike a rejection it
 * is local to one replica, so applying must stop there: answering it as a rejection would make
 * this replica diverge from the others.
 */
export class StoreFailure extends VaultError {
  constructor(key: string, cause?: unknown) {
    super('STORAGE_CORRUPT', `stored record ${key} is not readable`, 500);
    this.name = 'StoreFailure';
    if (cause !== undefined) this.cause = cause;
  }
}

export function decodeRecord<T>(key: string, bytes: Uint8Array): T {
  try {
    return decode(bytes) as T;
  } catch {
    throw new StoreFailure(key);
  }
}

/** A read of the store: any failure of the store itself is a StoreFailure. */
export function readRecord(reader: RecordReader, key: string): Uint8Array | undefined {
  try {
    return reader.get(key);
  } catch (e) {
    throw new StoreFailure(key, e);
  }
}

/**
 * Records held in memory: tests, the simulator and tools. `snapshot` is a deterministic
 * serialisation of every record, for byte-for-byte comparisons.
 */
export class MemoryRecords implements RecordStore {
  readonly #map = new Map<string, Uint8Array>();

  get(key: string): Uint8Array | undefined {
    return this.#map.get(key);
  }

  write(writes: readonly RecordWrite[]): void {
    for (const w of writes) {
      if (w.value === null) this.#map.delete(w.key);
      else this.#map.set(w.key, w.value);
    }
  }

  get size(): number {
    return this.#map.size;
  }

  entries(): [string, Uint8Array][] {
    return [...this.#map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  snapshot(): Uint8Array {
    return encode(this.entries());
  }

  static restore(bytes: Uint8Array): MemoryRecords {
    const m = new MemoryRecords();
    const list = decodeRecord<[string, Uint8Array][]>('snapshot', bytes);
    if (!Array.isArray(list))
      throw new VaultError('STORAGE_CORRUPT', 'not a records snapshot', 500);
    m.write(list.map(([key, value]) => ({ key, value })));
    return m;
  }
}
