/**
 * Runs deposits' stateless checks (`verifyDeposit`: the tenant's signature, opening the sealed
 * share, x2·G == Q2, the scheme) off the main thread, so the leader's event loop (Raft, pings)
 * never waits on curve work and the checks use the other cores. The cluster's X25519 key comes
 * once, in the worker's data, and never leaves it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaultError } from '../errors.ts';
import { decodeCommand, verifyDeposit } from '../machine/index.ts';
import { x25519KeyPair } from '../protocol/index.ts';

const { clusterId, clusterSecretKey } = workerData as {
  clusterId: Uint8Array;
  clusterSecretKey: Uint8Array;
};
const clusterKey = x25519KeyPair(clusterSecretKey);
clusterSecretKey.fill(0);

export interface PrecheckJob {
  id: number;
  command: Uint8Array;
  tenantKey: Uint8Array;
}

export type PrecheckAnswer =
  | { id: number; ok: true }
  | { id: number; ok: false; code: string; message: string; status: number };

parentPort?.on('message', (job: PrecheckJob) => {
  let answer: PrecheckAnswer;
  try {
    const command = decodeCommand(job.command);
    if (command.type !== 'deposit') throw new VaultError('MALFORMED', 'not a deposit');
    verifyDeposit(clusterId, job.tenantKey, clusterKey, command.deposit);
    answer = { id: job.id, ok: true };
  } catch (e) {
    const err = e instanceof VaultError ? e : new VaultError('INTERNAL', 'precheck failed', 500);
    answer = { id: job.id, ok: false, code: err.code, message: err.message, status: err.status };
  }
  parentPort?.postMessage(answer);
});
