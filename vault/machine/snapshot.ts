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
    tenants: sortedEntries(s.tenants).map(([, t]) => ({
      ...t,
      limits: { ...t.limits, groups: [...t.limits.groups] },
      liveClaims: [...t.liveClaims],
      pingNonces: sortedEntries(t.pingNonces),
    })),
    wallets: sortedEntries(s.wallets).map(([, w]) => ({
      ...w,
      policy: { ...w.policy },
      share: { ...w.share },
      claimNonces: sortedEntries(w.claimNonces),
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
    for (const t of o.tenants as (TenantRecord & { pingNonces: [string, number][] })[]) {
      tenants.set(t.name, { ...t, pingNonces: new Map(t.pingNonces) });
    }
    const wallets = new Map<string, WalletRecord>();
    for (const w of o.wallets as (WalletRecord & { claimNonces: [string, number][] })[]) {
      wallets.set(toHexKey(w.walletId), { ...w, claimNonces: new Map(w.claimNonces) });
    }
    const claims = new Map<string, ClaimRecord>();
    for (const c of o.claims as ClaimRecord[]) claims.set(toHexKey(c.claimId), { ...c });
    return {
      config: o.config as VaultState['config'],
      epochId: (o.epochId as Uint8Array | null) ?? null,
      lastIndex: o.lastIndex as number,
      tenants,
      wallets,
      claims,
    };
  } catch {
    throw new VaultError('SNAPSHOT_CORRUPT', 'the state snapshot cannot be decoded', 500);
  }
}
