/** Registering a tenant: an operator-signed registration, once per name. */
import { VaultError } from '../errors.ts';
import {
  requireSignature,
  type TenantRegistration,
  tenantRegistrationBytes,
} from '../protocol/index.ts';
import type { Step } from './records.ts';
import type { CommandResult } from './types.ts';

export function registerTenant(step: Step, r: TenantRegistration): CommandResult {
  const { s, effects } = step;
  if (s.tenants.has(r.tenant)) {
    throw new VaultError('TENANT_EXISTS', `tenant ${r.tenant} is already registered`, 409);
  }
  if (s.tenants.size >= s.config.maxTenants) {
    throw new VaultError('TENANT_LIMIT', 'the cluster serves its maximum number of tenants', 403);
  }
  const { signature, ...unsigned } = r;
  requireSignature(
    'registration',
    signature,
    tenantRegistrationBytes(s.config.clusterId, unsigned),
    s.config.operatorKey,
  );
  s.tenants.set(r.tenant, {
    name: r.tenant,
    tenantKey: r.tenantKey,
    pingKey: r.pingKey,
    limits: { ...r.limits, groups: [...r.limits.groups] },
    lastSeq: 0,
    lastPingIndex: 0,
    walletCount: 0,
    liveClaims: [],
    usedPingNonces: new Map(),
  });
  effects.push({ type: 'tenantRegistered', tenant: r.tenant });
  return { type: 'tenantRegistered', tenant: r.tenant };
}
