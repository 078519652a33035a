/**
 * Deposit receipts are signed where they are answered, not in the apply step. Every replica
 * stores the same unsigned receipt and the same BIP-340 auxiliary randomness (drawn from the
 * entry's randomness), so any replica signs a receipt to the same bytes, at any time: the
 * cluster pays for one signature per answer instead of one per replica per deposit, and the
 * apply step holds no signing key.
 */
import {
  bytesEqual,
  type DepositReceipt,
  depositReceiptBytes,
  SigningKey,
} from '../protocol/index.ts';
import { MachineMisuse } from './machine.ts';
import type { UnsignedReceipt } from './types.ts';

export class ReceiptSigner {
  readonly #clusterId: Uint8Array;
  readonly #key: SigningKey;

  /** Refuses a secret key whose public key is not the vault's configured receipt key. */
  constructor(config: { clusterId: Uint8Array; receiptKey: Uint8Array }, secretKey: Uint8Array) {
    this.#clusterId = Uint8Array.from(config.clusterId);
    this.#key = new SigningKey(secretKey);
    if (!bytesEqual(this.#key.publicKey, config.receiptKey)) {
      throw new MachineMisuse('the receipt secret key does not match the configured receipt key');
    }
  }

  sign({ aux, ...receipt }: UnsignedReceipt): DepositReceipt {
    const signature = this.#key.sign(depositReceiptBytes(this.#clusterId, receipt), aux);
    return { ...receipt, signature };
  }
}
