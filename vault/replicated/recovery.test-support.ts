/**
 * A recovered vault built straight through the replicated state machine (no Raft, no HTTP), as
 * `vigil cluster recover` would write it: real deposits, a live claim of the ended epoch, and
 * optionally wallet records cloned from the real ones to pass a size quickly (a real deposit
 * costs milliseconds of elliptic-curve work).
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import type { StateReader } from '../../cluster/index.ts';
import { decodeRecord, encodeRecord, keys as recordKeys } from '../machine/store.ts';
import type { TenantRecord, WalletRecord } from '../machine/types.ts';
import { Claimant, Operator, Tenant, testLimits } from '../node/actors.test-support.ts';
import { decodeReply, EPOCH_ID_BYTES, encodeLogCommand, type LogCommand } from './codec.ts';
import { EpochKeeper } from './epochs.ts';
import { newGenesis } from './local.ts';
import { type RecoveredRecords, recoveredInMemory } from './recover.ts';
import { clusterPublicKeys, ReplicatedState } from './state.ts';

export interface BuiltVault {
  recovered: RecoveredRecords;
  /** Total bytes of the recovered records. */
  bytes: number;
  walletIds: Uint8Array[];
  /** A claim live when the old cluster stopped. */
  claimId: Uint8Array;
  operator: Operator;
  tenant: Tenant;
}

/** Records in a map, read the way a node's store is. */
export function mapReader(map: Map<string, Uint8Array>): StateReader {
  return {
    get: (key) => map.get(key),
    async *iterate(prefix) {
      for (const key of [...map.keys()].sort()) {
        if (key.startsWith(prefix)) yield [key, map.get(key)!];
      }
    },
  };
}

export async function buildRecoveredVault(o: {
  deposits: number;
  minBytes?: number;
}): Promise<BuiltVault> {
  const operator = new Operator();
  const tenant = new Tenant('acme');
  const epochs = new EpochKeeper();
  const records = new Map<string, Uint8Array>();
  const s = new ReplicatedState({ epochs });
  await s.load(mapReader(records));
  let index = 0;
  const epochId = randomBytes(EPOCH_ID_BYTES);
  epochs.add(epochId, randomBytes(32));
  const apply = (c: LogCommand) => {
    const bytes = s.apply(encodeLogCommand(c), ++index);
    for (const w of s.drainWrites()) {
      if (w.value === null) records.delete(w.key);
      else records.set(w.key, w.value);
    }
    const reply = decodeReply(bytes);
    if (!reply.ok) throw new Error(`setup command refused: ${reply.error.code}`);
    return reply.result;
  };
  const vault = (command: Extract<LogCommand, { kind: 'vault' }>['command']) =>
    apply({ kind: 'vault', timestamp: Date.now(), epochId, random: randomBytes(32), command });
  apply(newGenesis(operator.publicKey, { claimIntervalMs: 0 }));
  const keys = clusterPublicKeys(s.secrets!);
  vault(operator.registerTenant(keys, tenant, { ...testLimits, maxWallets: 1_000_000 }));
  vault({ type: 'beginEpoch' });
  const wallets = Array.from({ length: o.deposits }, () => tenant.newWallet());
  for (const w of wallets) vault(tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 }));
  const nonce = s.machine!.mintClaimNonce(wallets[0]!.walletId, {
    epochId,
    epochSecret: epochs.get(epochId)!,
    timestamp: Date.now(),
    random: randomBytes(32),
  });
  const claimed = vault(new Claimant(wallets[0]!).claim(keys, nonce.nonce));
  if (claimed?.type !== 'claim') throw new Error('the claim was not recorded');
  const walletIds = wallets.map((w) => w.walletId);
  const size = () => [...records].reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (o.minBytes !== undefined && size() < o.minBytes) {
    const real = wallets
      .slice(1)
      .map((w) => decodeRecord<WalletRecord>('w', records.get(recordKeys.wallet(w.walletId))!));
    let bytes = size();
    for (let clones = 0; bytes < o.minBytes; clones++) {
      const walletId = sha256(new TextEncoder().encode(`clone/${clones}`));
      const value = encodeRecord({ ...real[clones % real.length]!, walletId });
      records.set(recordKeys.wallet(walletId), value);
      bytes += value.length + 70;
      walletIds.push(walletId);
    }
    const tenantKey = recordKeys.tenant('acme');
    const t = decodeRecord<TenantRecord>('t', records.get(tenantKey)!);
    records.set(tenantKey, encodeRecord({ ...t, walletCount: walletIds.length }));
  }
  return {
    recovered: recoveredInMemory([...records]),
    bytes: size(),
    walletIds,
    claimId: claimed.claim.claimId,
    operator,
    tenant,
  };
}
