/** Registering a tenant: an operator-signed registration, once per name. */
import { VaultError } from '../errors.ts';
import {
  requireSignature,
  type TenantRegistration,
  tenantRegistrationBytes,
} from '../protocol/index.ts';
import type { Step } from './records.ts';
import { keys } from './store.ts';
import type { CommandResult, TenantRecord } from './types.ts';

export function registerTenant(step: Step, r: TenantRegistration): CommandResult {
  const { view, effects, config } = step;
  const names = view.tenantNames();
  if (names.includes(r.tenant)) {
    throw new VaultError('TENANT_EXISTS', `tenant ${r.tenant} is already registered`, 409);
  }
  if (names.length >= config.maxTenants) {
    throw new VaultError('TENANT_LIMIT', 'the cluster serves its maximum number of tenants', 403);
  }
  const { signature, ...unsigned } = r;
  requireSignature(
    'registration',
    signature,
    tenantRegistrationBytes(config.clusterId, unsigned),
    config.operatorKey,
  );
  view.put(keys.tenantNames, { names: [...names, r.tenant].sort() });
  view.put(keys.tenant(r.tenant), {
    name: r.tenant,
    tenantKey: r.tenantKey,
    pingKey: r.pingKey,
    limits: { ...r.limits, groups: [...r.limits.groups] },
    lastSeq: 0,
    lastPingIndex: 0,
    lastPingAt: 0,
    lastPingEpoch: null,
    earlierEpochPingIndex: 0,
    walletCount: 0,
    open: { epochId: null, sincePing: 0, count: 0, recent: [] },
    pingNoncesUsed: 0,
  } satisfies TenantRecord);
  effects.push({ type: 'tenantRegistered', tenant: r.tenant });
  return { type: 'tenantRegistered', tenant: r.tenant };
}
