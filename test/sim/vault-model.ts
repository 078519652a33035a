import { Reader, type StateMachine, Writer } from '../../cluster/index.ts';

/**
 * A small stand-in for the vault state machine with the same safety-relevant semantics:
 * deposit(wallet), ping(tenant), claim(wallet), release(wallet). A release is applied only if the
 * wallet's claim is live: made in the current (volatile) epoch and with no ping of its tenant
 * applied between the claim's and the release's log positions.
 */
export type VaultOp = 'deposit' | 'ping' | 'claim' | 'release' | 'time';
const OPS: readonly VaultOp[] = ['deposit', 'ping', 'claim', 'release', 'time'];
export const TENANTS = 2;
export const WALLETS = 6;

export interface VaultCommand {
  readonly op: VaultOp;
  /** A wallet for deposit/claim/release, a tenant for ping, a quorum-clock reading for time. */
  readonly target: number;
}

export function tenantOf(wallet: number): number {
  return wallet % TENANTS;
}

export function encodeCommand(c: VaultCommand): Uint8Array {
  if (c.op === 'time') return new Writer().u8(OPS.indexOf('time')).u32(c.target).finish();
  return Uint8Array.of(OPS.indexOf(c.op), c.target);
}

/** The reading a time entry carries, or null (the admission hook's cheap look). */
export function timeReading(b: Uint8Array): number | null {
  return b.length === 5 && b[0] === OPS.indexOf('time') ? decodeCommand(b).target : null;
}

export function decodeCommand(b: Uint8Array): VaultCommand {
  const op = OPS[b[0] ?? 255];
  if (op === 'time' && b.length === 5) return { op, target: new Reader(b.subarray(1)).u32() };
  if (op === undefined || op === 'time' || b.length !== 2)
    throw new Error('bad vault model command');
  return { op, target: b[1]! };
}

export type Reply =
  | 'ok'
  | 'claimed'
  | 'live'
  | 'nodeposit'
  | 'released'
  | 'noclaim'
  | 'cancelled'
  | 'early'
  | 'stale';
const REPLIES: readonly Reply[] = [
  'ok',
  'claimed',
  'live',
  'nodeposit',
  'released',
  'noclaim',
  'cancelled',
  'early',
  'stale',
];

export function decodeReply(b: Uint8Array): Reply {
  return REPLIES[b[0] ?? 255]!;
}

export class VaultModel implements StateMachine {
  /** The cluster epoch: lives in memory only and reaches new members with the state. */
  epoch: number;
  /** Clock-gated claims (vault's `clock-gated` policy): a release needs this much quorum time. */
  readonly gate: number;
  deposits = new Set<number>();
  /** `qt`: the committed quorum time when the claim was applied. */
  claims = new Map<number, { index: number; epoch: number; qt: number }>();
  lastPing = new Map<number, number>();
  quorumTime = 0;

  constructor(epoch: number, gate = 0) {
    this.epoch = epoch;
    this.gate = gate;
  }

  apply(command: Uint8Array, index: number): Uint8Array {
    return Uint8Array.of(REPLIES.indexOf(this.run(decodeCommand(command), index)));
  }

  private run(c: VaultCommand, index: number): Reply {
    switch (c.op) {
      case 'deposit':
        this.deposits.add(c.target);
        return 'ok';
      case 'ping':
        this.lastPing.set(c.target, index);
        for (const [w, claim] of this.claims) {
          if (tenantOf(w) === c.target && claim.index < index) this.claims.delete(w);
        }
        return 'ok';
      case 'claim': {
        if (!this.deposits.has(c.target)) return 'nodeposit';
        const live = this.claims.get(c.target);
        if (live !== undefined && live.epoch === this.epoch) return 'live';
        this.claims.set(c.target, { index, epoch: this.epoch, qt: this.quorumTime });
        return 'claimed';
      }
      case 'release': {
        const claim = this.claims.get(c.target);
        if (claim === undefined || claim.epoch !== this.epoch) return 'noclaim';
        if ((this.lastPing.get(tenantOf(c.target)) ?? 0) > claim.index) {
          this.claims.delete(c.target);
          return 'cancelled';
        }
        if (this.quorumTime < claim.qt + this.gate) return 'early'; // the claim stays live
        this.claims.delete(c.target);
        return 'released';
      }
      case 'time':
        if (c.target <= this.quorumTime) return 'stale';
        this.quorumTime = c.target;
        return 'ok';
    }
  }

  /**
   * The model's own serialisation (the cluster's StateMachine has none any more): the simulator
   * stores it beside the session records as a node's applied state, and streams it in snapshots.
   */
  snapshot(): Uint8Array {
    const w = new Writer().u32(this.deposits.size);
    for (const d of [...this.deposits].sort((a, b) => a - b)) w.u32(d);
    w.u32(this.claims.size);
    for (const [k, v] of [...this.claims].sort((a, b) => a[0] - b[0]))
      w.u32(k).u64(v.index).u32(v.epoch).u64(v.qt);
    w.u32(this.lastPing.size);
    for (const [k, v] of [...this.lastPing].sort((a, b) => a[0] - b[0])) w.u32(k).u64(v);
    return w.u64(this.quorumTime).finish();
  }

  restore(data: Uint8Array): void {
    this.deposits = new Set();
    this.claims = new Map();
    this.lastPing = new Map();
    this.quorumTime = 0;
    if (data.length === 0) return;
    const r = new Reader(data);
    for (let n = r.u32(); n > 0; n--) this.deposits.add(r.u32());
    for (let n = r.u32(); n > 0; n--)
      this.claims.set(r.u32(), { index: r.u64(), epoch: r.u32(), qt: r.u64() });
    for (let n = r.u32(); n > 0; n--) this.lastPing.set(r.u32(), r.u64());
    this.quorumTime = r.u64();
    r.end();
  }
}
