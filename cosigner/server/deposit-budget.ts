/**
 * How many deposits the cosigner may hold at the vault, with room kept for refreshes (issue 11,
 * item 9). The vault refuses a tenant's deposit beyond its `maxWallets` (WALLET_LIMIT), and a
 * refresh deposits the new share before deleting the old one; so if new wallets could take every
 * slot, nobody could refresh any more. New wallets may fill the limit only up to `headroom` below
 * it; refreshes may use the rest. Pure: the count is kept by the caller's transitions.
 *
 * Held = wallets with a key (one deposit each) + deposits listed for deletion (each may still be
 * at the vault). It grows by one when a deposit is attempted (its id is recorded first) and shrinks
 * when a listed deposit is deleted; switching a wallet to a new share moves an id between the two.
 */
import { CosignerError } from '../errors.ts';

export class DepositBudget {
  /** The tenant's `maxWallets` at the vault; 0: not configured, nothing is refused here. */
  readonly limit: number;
  readonly headroom: number;
  #held: number;

  constructor(opts: { limit: number; headroom: number; held: number }) {
    this.limit = opts.limit;
    this.headroom = opts.headroom;
    this.#held = opts.held;
  }

  get held(): number {
    return this.#held;
  }

  /** Throws COSIGNER_WALLET_CAPACITY if a deposit of this kind would not fit. Changes nothing. */
  check(kind: 'new' | 'refresh'): void {
    if (this.limit === 0) return;
    const cap = kind === 'new' ? this.limit - this.headroom : this.limit;
    if (this.#held + 1 > cap) {
      throw new CosignerError(
        'COSIGNER_WALLET_CAPACITY',
        kind === 'new'
          ? 'the provider takes no new wallets now (its vault capacity is kept for refreshes)'
          : "the provider's vault capacity is full; retry the refresh later",
      );
    }
  }

  /** Counts a deposit about to be attempted (after check()). */
  reserve(kind: 'new' | 'refresh'): void {
    this.check(kind);
    this.#held += 1;
  }

  /** Listed deposits that are gone from the vault. */
  released(n: number): void {
    this.#held = Math.max(0, this.#held - n);
  }
}
