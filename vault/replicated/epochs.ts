/**
 * The volatile epoch secrets (P4): held only in this process's memory, received from peers over
 * attested encrypted links, never written to disk or into the log. Applying a claim-family entry
 * needs its epoch's secret, so the applier waits here until it arrives.
 */
import { toHex } from '../protocol/index.ts';

export class EpochKeeper {
  readonly #secrets = new Map<string, Uint8Array>();
  readonly #waiters = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  #closed = false;

  get(epochId: Uint8Array): Uint8Array | undefined {
    return this.#secrets.get(toHex(epochId));
  }

  has(epochId: Uint8Array): boolean {
    return this.#secrets.has(toHex(epochId));
  }

  add(epochId: Uint8Array, secret: Uint8Array): void {
    const id = toHex(epochId);
    if (this.#secrets.has(id)) return;
    this.#secrets.set(id, Uint8Array.from(secret));
    for (const w of this.#waiters.get(id) ?? []) w.resolve();
    this.#waiters.delete(id);
  }

  all(): { epochId: Uint8Array; secret: Uint8Array }[] {
    return [...this.#secrets].map(([id, secret]) => ({
      epochId: new Uint8Array(Buffer.from(id, 'hex')),
      secret,
    }));
  }

  wait(epochId: Uint8Array): Promise<void> {
    if (this.has(epochId)) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('epoch keeper closed'));
    const id = toHex(epochId);
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(id, list);
    });
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#waiters.values())
      for (const w of list) w.reject(new Error('epoch keeper closed'));
    this.#waiters.clear();
    for (const s of this.#secrets.values()) s.fill(0);
    this.#secrets.clear();
  }
}
