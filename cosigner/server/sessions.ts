/**
 * Live protocol sessions, bounded in number and in time. A session is found only by the wallet,
 * its kind and its id together, and is removed when finished, failed or expired, so a message can
 * never reach another wallet's or another protocol's state machine. The clock is an argument.
 */
import { cosignerError } from '../errors.ts';

export type SessionKind = 'keygen' | 'sign' | 'refresh';

interface Entry {
  readonly state: unknown;
  readonly expiresAt: number;
}

export class SessionTable {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: { max: number; ttlMs: number; now: () => number }) {
    this.#max = opts.max;
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  #key(walletId: string, kind: SessionKind, id: string): string {
    return `${walletId}/${kind}/${id}`;
  }

  sweep(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
  }

  /** Throws what open() would (id in use, table full) without opening anything. */
  checkOpen(walletId: string, kind: SessionKind, id: string): void {
    this.sweep();
    if (this.#entries.has(this.#key(walletId, kind, id))) {
      throw cosignerError('COSIGNER_CONFLICT', 'session id in use');
    }
    if (this.#entries.size >= this.#max) {
      throw cosignerError('COSIGNER_BUSY', 'too many live sessions; retry later');
    }
  }

  open(walletId: string, kind: SessionKind, id: string, state: unknown): void {
    this.checkOpen(walletId, kind, id);
    this.#entries.set(this.#key(walletId, kind, id), {
      state,
      expiresAt: this.#now() + this.#ttlMs,
    });
  }

  /** The live state, or COSIGNER_SESSION_NOT_FOUND. */
  get<T>(walletId: string, kind: SessionKind, id: string): T {
    const key = this.#key(walletId, kind, id);
    const e = this.#entries.get(key);
    if (!e || e.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      throw cosignerError('COSIGNER_SESSION_NOT_FOUND', `no live ${kind} session with this id`);
    }
    return e.state as T;
  }

  close(walletId: string, kind: SessionKind, id: string): void {
    this.#entries.delete(this.#key(walletId, kind, id));
  }

  /** Whether the wallet has a live session of this kind (keygen and refresh run one at a time). */
  has(walletId: string, kind: SessionKind): boolean {
    this.sweep();
    const prefix = `${walletId}/${kind}/`;
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }
}
