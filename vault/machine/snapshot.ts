import { decode, encode } from 'cborg';
import { VaultError } from '../errors.ts';
import type { ClaimRecord, TenantRecord, VaultState, WalletRecord } from './types.ts';

/**
 * Deterministic state serialisation for Raft snapshots: CBOR with sorted map keys (cborg's
 * default), every collection written as an array sorted by its key, no undefined values. Two
 * replicas in the same state produce the same bytes. x2 is only present sealed (P1).
 */
const FORMAT = 'vigil/v1/vault-state';

const sortedEntries = <V>(m: Map<string, V>): [string, V][] =>
  [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

export function encodeSnapshot(s: VaultState): Uint8Array {
  return encode({
    format: FORMAT,
    config: { ...s.config },
    epochId: s.epochId,
    lastIndex: s.lastIndex,
    clock: s.clock,
    tenants: sortedEntries(s.tenants).map(([, t]) => ({
      ...t,
      limits: { ...t.limits, groups: [...t.limits.groups] },
      liveClaims: [...t.liveClaims],
      usedPingNonces: sortedEntries(t.usedPingNonces),
    })),
    wallets: sortedEntries(s.wallets).map(([, w]) => ({
      ...w,
      policy: { ...w.policy },
      share: { ...w.share },
      usedClaimNonces: sortedEntries(w.usedClaimNonces),
    })),
    claims: sortedEntries(s.claims).map(([, c]) => ({
      ...c,
      release: c.release ? { ...c.release } : null,
    })),
  });
}

export function decodeSnapshot(bytes: Uint8Array): VaultState {
  try {
    const o = decode(bytes) as Record<string, unknown>;
    if (o.format !== FORMAT) throw new Error('format');
    const toHexKey = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const tenants = new Map<string, TenantRecord>();
    for (const t of o.tenants as (TenantRecord & { usedPingNonces: [string, number][] })[]) {
      tenants.set(t.name, { ...t, usedPingNonces: new Map(t.usedPingNonces) });
    }
    const wallets = new Map<string, WalletRecord>();
    for (const w of o.wallets as (WalletRecord & { usedClaimNonces: [string, number][] })[]) {
      wallets.set(toHexKey(w.walletId), { ...w, usedClaimNonces: new Map(w.usedClaimNonces) });
    }
    const claims = new Map<string, ClaimRecord>();
    for (const c of o.claims as ClaimRecord[]) claims.set(toHexKey(c.claimId), { ...c });
    return {
      config: o.config as VaultState['config'],
      epochId: (o.epochId as Uint8Array | null) ?? null,
      lastIndex: o.lastIndex as number,
      clock: o.clock as number,
      tenants,
      wallets,
      claims,
    };
  } catch {
    throw new VaultError('SNAPSHOT_CORRUPT', 'the state snapshot cannot be decoded', 500);
  }
}
