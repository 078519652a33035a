/**
 * P10 at the state machine: what a command reads and writes does not depend on how many wallets
 * the vault holds, nor (for a ping or a new epoch) on how many claims are live. Vaults of two
 * sizes are built from real deposits plus wallet records cloned from them (a real deposit costs
 * milliseconds of curve work; the clones are what the store would hold), and the same commands
 * are run on both while counting record reads, writes and bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../protocol/index.ts';
import { RECENT_CLAIMS } from './claims.ts';
import {
  defaultLimits,
  Harness,
  seedBytes,
  solveClaim,
  testConfig,
  type WalletKeys,
  walletKeys,
} from './harness.test-support.ts';
import type { ApplyOutcome } from './machine.ts';
import { VaultMachine } from './machine.ts';
import {
  decodeRecord,
  encodeRecord,
  keys,
  MemoryRecords,
  type RecordStore,
  type RecordWrite,
} from './store.ts';
import type { Command, TenantRecord, WalletRecord } from './types.ts';

/** Counts the records each command reads. */
class CountingRecords implements RecordStore {
  readonly inner = new MemoryRecords();
  reads = 0;
  get(key: string) {
    this.reads += 1;
    return this.inner.get(key);
  }
  write(writes: readonly RecordWrite[]) {
    this.inner.write(writes);
  }
}

const limits = { ...defaultLimits, maxWallets: 1_000_000, maxClaims: 1_000 };

function ok(out: ApplyOutcome) {
  if (!out.ok) throw new Error(`expected success, got ${out.error.code}: ${out.error.message}`);
  return out;
}

function vaultOf(wallets: number, real: WalletKeys[]) {
  const store = new CountingRecords();
  const h = new Harness(VaultMachine.create(testConfig(), undefined, store));
  ok(h.apply(h.registerCommand('acme', limits)));
  ok(h.apply({ type: 'beginEpoch' }));
  for (const w of real) ok(h.apply({ type: 'deposit', deposit: h.depositCommand(w) }));
  const template = decodeRecord<WalletRecord>(
    'w',
    store.inner.get(keys.wallet(real[0]!.walletId))!,
  );
  const clones: RecordWrite[] = [];
  for (let i = real.length; i < wallets; i++) {
    const walletId = sha256(utf8(`clone/${i}`));
    clones.push({ key: keys.wallet(walletId), value: encodeRecord({ ...template, walletId }) });
  }
  const t = decodeRecord<TenantRecord>('t', store.inner.get(keys.tenant('acme'))!);
  clones.push({ key: keys.tenant('acme'), value: encodeRecord({ ...t, walletCount: wallets }) });
  store.write(clones);
  return { h, store };
}

interface Cost {
  reads: number;
  keys: string[];
  bytes: number;
}

function measure(h: Harness, store: CountingRecords, command: Command): Cost {
  store.reads = 0;
  const out = ok(h.apply(command));
  const writes = out.ok ? out.writes : [];
  return {
    reads: store.reads,
    keys: writes.map((w) => w.key.replace(/[0-9a-f]{64}/, '<id>')),
    bytes: writes.reduce((n, w) => n + w.key.length + (w.value?.length ?? 0), 0),
  };
}

async function costs(wallets: number): Promise<Record<string, Cost>> {
  const real = [0, 1, 2, 3].map((i) => walletKeys(100 + i));
  const { h, store } = vaultOf(wallets, real);
  const out: Record<string, Cost> = {};
  out.ping = measure(h, store, h.pingCommand());
  out.claim = measure(h, store, h.claimCommand(real[0]!, seedBytes('eph')));
  out.claimAgain = measure(h, store, h.claimCommand(real[0]!, seedBytes('eph')));
  out.pingCancelling = measure(h, store, h.pingCommand());
  h.now += 120_000;
  const live = ok(h.apply(h.claimCommand(real[1]!, seedBytes('eph2'))));
  if (!live.ok || live.result.type !== 'claim') throw new Error('no claim');
  out.solve = measure(h, store, {
    type: 'solve',
    solution: await solveClaim(live.result.claim),
  });
  out.deposit = measure(h, store, { type: 'deposit', deposit: h.depositCommand(walletKeys(999)) });
  out.delete = measure(h, store, h.deleteCommand(real[3]!));
  h.epoch += 1;
  out.epoch = measure(h, store, { type: 'beginEpoch' });
  return out;
}

describe('per-command cost does not grow with the vault (P10)', () => {
  it('reads, written records and bytes are the same at 300 and at 30,000 wallets', async () => {
    const small = await costs(300);
    const large = await costs(30_000);
    for (const name of Object.keys(small)) {
      const a = small[name]!;
      const b = large[name]!;
      expect(b.reads, `${name} reads`).toBe(a.reads);
      expect(b.keys, `${name} written records`).toEqual(a.keys);
      // integers are variable-length in the records (wallet counts, log positions)
      expect(Math.abs(b.bytes - a.bytes), `${name} bytes`).toBeLessThanOrEqual(16);
    }
    // a ping writes the tenant, the clock and its nonce, nothing per wallet or per claim
    expect(small.ping!.keys).toEqual(['v/clock', 'v/pn/acme/<id>', 'v/ps/acme/0', 'v/t/acme']);
    expect(small.pingCancelling!.keys).toEqual([
      'v/clock',
      'v/pn/acme/<id>',
      'v/ps/acme/1',
      'v/t/acme',
    ]);
    expect(small.epoch!.keys).toEqual(['v/clock', 'v/epoch']);
  }, 60_000);

  it('a ping ends any number of live claims writing one record for them, and reads a bounded few', () => {
    const real = Array.from({ length: 60 }, (_, i) => walletKeys(200 + i));
    const { h, store } = vaultOf(60, real);
    for (const w of real) ok(h.apply(h.claimCommand(w, seedBytes(`eph/${toId(w)}`))));
    const cost = measure(h, store, h.pingCommand());
    expect(cost.keys).toEqual(['v/clock', 'v/pn/acme/<id>', 'v/ps/acme/0', 'v/t/acme']);
    expect(cost.reads).toBeLessThanOrEqual(RECENT_CLAIMS + 8);
    for (const w of real) expect(h.machine.wallet(w.walletId)?.liveClaim).toBeNull();
  });
});

function toId(w: WalletKeys): string {
  return Buffer.from(w.walletId).toString('hex').slice(0, 8);
}
