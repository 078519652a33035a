/** The vault's deterministic state machine: commands in, results and effects out. */
export { commandToJson, decodeCommand, encodeCommand } from './commands.ts';
export { verifyDeposit } from './deposits.ts';
export { type ApplyOutcome, MachineMisuse, type MachineOptions, VaultMachine } from './machine.ts';
export { ReceiptSigner } from './receipts.ts';
export { clockNotReached } from './records.ts';
export {
  MemoryRecords,
  type RecordReader,
  type RecordStore,
  type RecordWrite,
  StoreFailure,
  VAULT_PREFIX,
} from './store.ts';
export type {
  Answer,
  ApplyContext,
  ClaimStatus,
  ClaimView,
  Command,
  CommandResult,
  Effect,
  IssuedNonce,
  MachineConfig,
  NonceContext,
  UnsignedReceipt,
  WalletView,
} from './types.ts';
export { type VdfVerify, verifyVdf } from './vdf.ts';
