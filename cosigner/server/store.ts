/**
 * The cosigner's LevelDB. Wallet records (which hold the server's share and Paillier primes) and
 * the tenant keys are sealed through StorageBox under the storage key from a Sealer, with the
 * record's LevelDB key as associated data. Audit records hold no secret and are stored in clear,
 * so an auditor can verify a chain without the storage key. Every write is one synced batch.
 */
import { Level } from 'level';
import type { StorageBox } from '../../vault/index.ts';
import type { VaultDepositJson, WalletPolicy, WalletScheme } from '../api.ts';
import { type AuditDetails, type AuditRecord, nextAuditRecord } from './audit.ts';
import type { StoredShareJson } from './share-codec.ts';

export interface StoredKey {
  share: StoredShareJson;
  vault: VaultDepositJson;
}

export interface WalletRecord {
  walletId: string;
  authKey: string;
  scheme: WalletScheme;
  policy: WalletPolicy;
  /** The last accepted request counter. */
  counter: number;
  /** Terminal: a final signature failed to verify (CVE-2023-33242). */
  locked: boolean;
  /** Share generation: 1 after keygen, +1 per refresh; names the vault deposit. */
  generation: number;
  key?: StoredKey;
  /** Vault deposits of older generations still to delete. */
  pendingDeletions: string[];
}

export interface TenantSecrets {
  tenant: string;
  tenantSecretKey: string;
  pingSecretKey: string;
  /** The last sequence number used in a deposit or deletion. */
  seq: number;
}

const walletKey = (id: string) => `wallet/${id}`;
const auditKey = (id: string, seq: number) => `audit/${id}/${seq.toString().padStart(12, '0')}`;
const TENANT_KEY = 'tenant';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CosignerStore {
  readonly #db: Level<string, Uint8Array>;
  readonly #box: StorageBox;
  readonly #heads = new Map<string, AuditRecord | undefined>();

  private constructor(db: Level<string, Uint8Array>, box: StorageBox) {
    this.#db = db;
    this.#box = box;
  }

  static async open(dir: string, box: StorageBox): Promise<CosignerStore> {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new CosignerStore(db, box);
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  async #getSealed<T>(key: string): Promise<T | undefined> {
    const value = await this.#db.get(key);
    if (value === undefined) return undefined;
    return JSON.parse(decoder.decode(this.#box.open(key, value))) as T;
  }

  #sealed(key: string, value: unknown) {
    return {
      type: 'put' as const,
      key,
      value: this.#box.seal(key, encoder.encode(JSON.stringify(value))),
    };
  }

  wallet(id: string): Promise<WalletRecord | undefined> {
    return this.#getSealed<WalletRecord>(walletKey(id));
  }

  tenant(): Promise<TenantSecrets | undefined> {
    return this.#getSealed<TenantSecrets>(TENANT_KEY);
  }

  async putTenant(t: TenantSecrets): Promise<void> {
    await this.#db.batch([this.#sealed(TENANT_KEY, t)], { sync: true });
  }

  /**
   * Writes the wallet record and appends audit events in one synced batch: the record and its
   * history never disagree, and the write is on disk before the caller replies.
   */
  async commit(
    wallet: WalletRecord,
    time: number,
    events: readonly { event: string; details?: AuditDetails }[],
  ): Promise<void> {
    let head = await this.#head(wallet.walletId);
    const ops: { type: 'put'; key: string; value: Uint8Array }[] = [
      this.#sealed(walletKey(wallet.walletId), wallet),
    ];
    for (const e of events) {
      head = nextAuditRecord(wallet.walletId, head, time, e.event, e.details);
      ops.push({
        type: 'put',
        key: auditKey(wallet.walletId, head.seq),
        value: encoder.encode(JSON.stringify(head)),
      });
    }
    await this.#db.batch(ops, { sync: true });
    this.#heads.set(wallet.walletId, head);
  }

  async #head(id: string): Promise<AuditRecord | undefined> {
    if (this.#heads.has(id)) return this.#heads.get(id);
    const records = await this.audit(id);
    const head = records[records.length - 1];
    this.#heads.set(id, head);
    return head;
  }

  async audit(id: string): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for await (const value of this.#db.values({ gte: `audit/${id}/`, lt: `audit/${id}/~` })) {
      out.push(JSON.parse(decoder.decode(value)) as AuditRecord);
    }
    return out;
  }

  /** Raw access for the tamper test. */
  async rawPut(key: string, value: Uint8Array): Promise<void> {
    await this.#db.put(key, value, { sync: true });
    this.#heads.clear();
  }

  async rawGet(key: string): Promise<Uint8Array | undefined> {
    return this.#db.get(key);
  }

  async *wallets(): AsyncGenerator<WalletRecord> {
    for await (const key of this.#db.keys({ gte: 'wallet/', lt: 'wallet/~' })) {
      const w = await this.#getSealed<WalletRecord>(key);
      if (w) yield w;
    }
  }
}
