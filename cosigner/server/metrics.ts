import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The cosigner's Prometheus metrics; one registry per app so tests do not collide. */
export function createCosignerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_cosigner_' });
  return {
    registry,
    requests: new Counter({
      name: 'vigil_cosigner_requests_total',
      help: 'Requests by route and outcome (ok or the error code)',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'vigil_cosigner_request_seconds',
      help: 'Request latency by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    sessions: new Gauge({
      name: 'vigil_cosigner_sessions',
      help: 'Live protocol sessions',
      registers: [registry],
    }),
    keysLocked: new Counter({
      name: 'vigil_cosigner_keys_locked_total',
      help: 'Keys locked after a failed final signature (CVE-2023-33242 defence)',
      registers: [registry],
    }),
    vaultUnreachable: new Counter({
      name: 'vigil_cosigner_vault_unreachable_total',
      help: 'Requests to the vault that failed to connect, timed out or got a 5xx',
      registers: [registry],
    }),
    pings: new Counter({
      name: 'vigil_cosigner_pings_total',
      help: 'Pings by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    pingSeconds: new Histogram({
      name: 'vigil_cosigner_ping_seconds',
      help: 'Ping round trip (nonce + ping)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    pingsUncommitted: new Counter({
      name: 'vigil_cosigner_pings_uncommitted_total',
      help: 'Ping rounds that no vault node committed within the ping interval (proof of life missed)',
      registers: [registry],
    }),
    vaultNodes: new Gauge({
      name: 'vigil_cosigner_vault_nodes',
      help: 'Vault nodes the cosigner knows (configured and from the cluster membership)',
      registers: [registry],
    }),
    lastPingSuccess: new Gauge({
      name: 'vigil_cosigner_vault_last_ping_success_seconds',
      help: 'Unix time of the last successful ping',
      registers: [registry],
    }),
    poolSize: new Gauge({
      name: 'vigil_cosigner_paillier_pool_size',
      help: 'Pre-generated Paillier keys ready',
      registers: [registry],
    }),
  };
}

export type CosignerMetrics = ReturnType<typeof createCosignerMetrics>;
