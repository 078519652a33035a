import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The vault node's Prometheus metrics; one registry per app so tests do not collide. */
export function createVaultMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  return {
    registry,
    commands: new Counter({
      name: 'vigil_vault_commands_total',
      help: 'Vault commands by type and outcome (ok or the error code)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    commandSeconds: new Histogram({
      name: 'vigil_vault_command_seconds',
      help: 'Time from receipt to durable reply (apply + fsync)',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    lastIndex: new Gauge({
      name: 'vigil_vault_last_applied_index',
      help: 'Index of the last applied vault command',
      registers: [registry],
    }),
  };
}

export type VaultMetrics = ReturnType<typeof createVaultMetrics>;
