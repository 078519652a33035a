/**
 * What a ping round leaves behind on the main thread: metrics and log lines. Shared by the ping
 * worker's reports and a ping by hand (VaultLink.ping), so both count the same way.
 */
import type { Logger } from 'pino';
import type { CosignerMetrics } from './metrics.ts';
import type { PingRoundResult } from './ping-round.ts';

export function reportPing(
  metrics: CosignerMetrics,
  log: Logger,
  result: PingRoundResult,
  seconds: number,
): void {
  metrics.pingSeconds.observe(seconds);
  for (const a of result.attempts) {
    if (a.outcome === 'UNREACHABLE' || a.outcome === 'TIMEOUT') metrics.vaultUnreachable.inc();
  }
  const failedOver = result.attempts.length > 1;
  if (result.ok) {
    metrics.pings.inc({ outcome: 'ok' });
    metrics.lastPingSuccess.set(Date.now() / 1000);
    if (failedOver) log.warn({ attempts: result.attempts }, 'ping committed after failing over');
    if (result.cancelled.length > 0) {
      log.warn({ cancelled: result.cancelled }, 'ping cancelled live claims');
    }
    return;
  }
  metrics.pings.inc({ outcome: result.code });
  metrics.pingsUncommitted.inc();
  // The line an operator alerts on: proof of life did not reach the cluster this round.
  log.error(
    { code: result.code, attempts: result.attempts },
    'ping could not be committed at any vault node',
  );
}
