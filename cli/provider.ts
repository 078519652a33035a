/**
 * A wallet provider on the local stack: a `vigil cosigner start` process, registered as a tenant
 * of the vault with the stack's operator key. The stack runs one; `vigil demo` runs its own, so
 * that stopping "the provider" in its story never takes the stack's cosigner away.
 */

import { networkCause } from '../client-lib/index.ts';
import {
  signTenantRegistration,
  type TenantLimits,
  tenantRegistrationToJson,
} from '../vault/index.ts';
import { type Child, spawnVigil } from './child.ts';

export const DEMO_LIMITS: TenantLimits = {
  groups: ['class1024', 'rsa2048'],
  minIterations: 16,
  maxIterations: 1_000_000_000,
  maxWallets: 100_000,
  maxClaims: 100,
};

/** Retries while the cluster is still electing a leader or applying its genesis (503s). */
async function untilReady<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  let last = '';
  for (;;) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (err) {
      // fetch's network failures (a node still binding its port) are TypeErrors; others are final.
      if (!(err instanceof TypeError)) throw err;
      last = networkCause(err);
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: the cluster was not ready in 90 s (last: ${last || 'no answer'})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function registerTenant(
  vaultUrl: string,
  operatorSecret: Uint8Array,
  t: { tenant: string; tenantKey: string; pingKey: string },
): Promise<void> {
  const clusterId = await untilReady('reading the cluster id', async () => {
    const res = await fetch(`${vaultUrl}/v1/attestation`);
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { cluster?: { clusterId?: string } };
    return body.cluster?.clusterId;
  });
  const registration = signTenantRegistration(
    Buffer.from(clusterId, 'hex'),
    {
      tenant: t.tenant,
      tenantKey: Buffer.from(t.tenantKey, 'hex'),
      pingKey: Buffer.from(t.pingKey, 'hex'),
      limits: DEMO_LIMITS,
    },
    operatorSecret,
    crypto.getRandomValues(new Uint8Array(32)),
  );
  await untilReady(`registering tenant ${t.tenant}`, async () => {
    const res = await fetch(`${vaultUrl}/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tenantRegistrationToJson(registration)),
    });
    // 409: registered by an earlier start of this stack. 5xx: no leader yet, try again.
    if (res.status === 201 || res.status === 409) return true;
    if (res.status >= 500) return undefined;
    throw new Error(`registering tenant ${t.tenant}: HTTP ${res.status} ${await res.text()}`);
  });
}

export interface Provider {
  child: Child;
  url: string;
  tenant: string;
}

/**
 * Starts a cosigner against the vault nodes `vaultUrls` (every node: its pings fail over if one
 * goes away) and registers its tenant; resolves once both are done.
 */
export async function startProvider(o: {
  dataDir: string;
  port: number;
  vaultUrls: readonly string[];
  tenant: string;
  devAttestationKey: string;
  operatorSecret: Uint8Array;
  log: (line: string) => void;
  label: string;
}): Promise<Provider> {
  const child = spawnVigil(
    [
      'cosigner',
      'start',
      '--data-dir',
      o.dataDir,
      '--port',
      String(o.port),
      '--vault',
      o.vaultUrls.join(','),
      '--tenant',
      o.tenant,
      '--ping-interval',
      '2',
      '--insecure-dev-attestation',
      '--dev-attestation-key',
      o.devAttestationKey,
      // Both groups, as the README's examples use both (class1024 solves more slowly here).
      '--groups',
      'rsa2048,class1024',
      '--min-iterations',
      '16',
      '--max-iterations',
      String(DEMO_LIMITS.maxIterations),
      '--pool-size',
      '2',
    ],
    o.log,
    o.label,
  );
  try {
    const m = await child.waitFor(
      /cosigner listening on (\S+)\ntenant (\S+)\ntenant key (\S+)\nping key (\S+)/,
      120_000,
    );
    const [, url, tenant, tenantKey, pingKey] = m as unknown as string[];
    await registerTenant(o.vaultUrls[0]!, o.operatorSecret, {
      tenant: tenant!,
      tenantKey: tenantKey!,
      pingKey: pingKey!,
    });
    return { child, url: url!, tenant: tenant! };
  } catch (err) {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
    throw err;
  }
}
