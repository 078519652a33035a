/**
 * A deposit's curve work, off the main thread, so no event loop that Raft and proof of life share
 * waits on it and it uses the other cores: the leader's prechecks (`verifyDeposit`: the tenant's
 * signature, the scheme and its share proof, opening the sealed share, x2·G == Q2) and the
 * receipt signatures a node answers with. The cluster's secret keys come once, in the worker's
 * data, and never leave it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaultError } from '../errors.ts';
import {
  decodeCommand,
  ReceiptSigner,
  type UnsignedReceipt,
  verifyDeposit,
} from '../machine/index.ts';
import { type DepositReceipt, x25519KeyPair } from '../protocol/index.ts';

export interface DepositWorkerData {
  clusterId: Uint8Array;
  clusterSecretKey: Uint8Array;
  receiptSecretKey: Uint8Array;
  /** The vault's configured receipt key: the signer refuses a secret key that is not its own. */
  receiptKey: Uint8Array;
}

const data = workerData as DepositWorkerData;
const clusterId = data.clusterId;
const clusterKey = x25519KeyPair(data.clusterSecretKey);
const receipts = new ReceiptSigner(data, data.receiptSecretKey);
data.clusterSecretKey.fill(0);
data.receiptSecretKey.fill(0);

export type DepositJob =
  | { id: number; kind: 'precheck'; command: Uint8Array; tenantKey: Uint8Array }
  | { id: number; kind: 'receipt'; receipt: UnsignedReceipt };

export type DepositAnswer =
  | { id: number; ok: true; receipt?: DepositReceipt }
  | { id: number; ok: false; code: string; message: string; status: number };

parentPort?.on('message', (job: DepositJob) => {
  let answer: DepositAnswer;
  try {
    if (job.kind === 'receipt') {
      answer = { id: job.id, ok: true, receipt: receipts.sign(job.receipt) };
    } else {
      const command = decodeCommand(job.command);
      if (command.type !== 'deposit') throw new VaultError('MALFORMED', 'not a deposit');
      verifyDeposit(clusterId, job.tenantKey, clusterKey, command.deposit);
      answer = { id: job.id, ok: true };
    }
  } catch (e) {
    const err =
      e instanceof VaultError ? e : new VaultError('INTERNAL', 'deposit worker failed', 500);
    answer = { id: job.id, ok: false, code: err.code, message: err.message, status: err.status };
  }
  parentPort?.postMessage(answer);
});
