/**
 * A recovered vault built straight through the replicated state machine (no Raft, no HTTP), as
 * `vigil cluster recover` would write it: real deposits, a live claim of the ended epoch, and
 * optionally wallet records cloned from the real ones to pass a size quickly (a real deposit
 * costs about 14 ms of elliptic-curve work; 1 MiB of wallets is about 2,200 of them).
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { VaultMachine } from '../machine/index.ts';
import { decodeSnapshot, encodeSnapshot } from '../machine/snapshot.ts';
import { Claimant, Operator, Tenant, testLimits } from '../node/actors.test-support.ts';
import { EPOCH_ID_BYTES, encodeLogCommand, type LogCommand } from './codec.ts';
import { EpochKeeper } from './epochs.ts';
import { newGenesis } from './local.ts';
import { clusterPublicKeys, decodeState, encodeState, ReplicatedState } from './state.ts';

export interface BuiltVault {
  /** The recovered vault's bytes (what `recovered.bin` holds). */
  state: Uint8Array;
  walletIds: Uint8Array[];
  /** A claim live when the old cluster stopped. */
  claimId: Uint8Array;
  operator: Operator;
  tenant: Tenant;
}

export function buildRecoveredVault(o: { deposits: number; minBytes?: number }): BuiltVault {
  const operator = new Operator();
  const tenant = new Tenant('acme');
  const epochs = new EpochKeeper();
  const s = new ReplicatedState({ epochs });
  let index = 0;
  const epochId = randomBytes(EPOCH_ID_BYTES);
  epochs.add(epochId, randomBytes(32));
  const apply = (c: LogCommand) => {
    const reply = new TextDecoder().decode(s.apply(encodeLogCommand(c), ++index));
    if (!reply.startsWith('{"ok":true')) throw new Error(`setup command refused: ${reply}`);
  };
  const vault = (command: Extract<LogCommand, { kind: 'vault' }>['command']) =>
    apply({ kind: 'vault', timestamp: Date.now(), epochId, random: randomBytes(32), command });
  apply(newGenesis(operator.publicKey, { claimIntervalMs: 0 }));
  const keys = clusterPublicKeys(s.secrets!);
  vault(operator.registerTenant(keys, tenant, { ...testLimits, maxWallets: 100_000 }));
  vault({ type: 'beginEpoch' });
  const wallets = Array.from({ length: o.deposits }, () => tenant.newWallet());
  for (const w of wallets) vault(tenant.deposit(keys, w, { group: 'rsa2048', iterations: 64 }));
  const nonce = s.machine!.mintClaimNonce(wallets[0]!.walletId, {
    epochId,
    epochSecret: epochs.get(epochId)!,
    timestamp: Date.now(),
    random: randomBytes(32),
  });
  const before = s.machine!.lastIndex;
  vault(new Claimant(wallets[0]!).claim(keys, nonce.nonce));
  const claim = [...decodeSnapshot(s.machine!.snapshot()).claims.values()].find(
    (c) => c.logIndex > before,
  );
  if (!claim) throw new Error('the claim was not recorded');
  let state = s.snapshot();
  const walletIds = wallets.map((w) => w.walletId);
  if (o.minBytes !== undefined && state.length < o.minBytes) {
    const whole = decodeState(state);
    const vs = decodeSnapshot(whole.machine!);
    const real = [...vs.wallets.values()].filter((w) => !w.claimId);
    let clones = 0;
    while (state.length < o.minBytes) {
      for (let i = 0; i < 500; i++, clones++) {
        const from = real[clones % real.length]!;
        const walletId = sha256(new TextEncoder().encode(`clone/${clones}`));
        vs.wallets.set(Buffer.from(walletId).toString('hex'), { ...from, walletId });
        walletIds.push(walletId);
      }
      vs.tenants.get('acme')!.walletCount = vs.wallets.size;
      const machine = VaultMachine.restore(encodeSnapshot(vs));
      state = encodeState(whole.secrets, machine, new Map(), whole.offset);
    }
  }
  return { state, walletIds, claimId: claim.claimId, operator, tenant };
}
