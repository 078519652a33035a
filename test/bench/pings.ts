/**
 * Proof of life under a keygen flood (issue 11): a dev vault and a cosigner as real processes,
 * the cosigner pinging every second. Ping spacing is measured where pings land (the vault's
 * applied-ping counter), first idle, then while 8 attackers send freshly registered wallets'
 * junk keygens (the cosigner's keygen quotas set out of the way, so every request reaches the
 * keygen path). Same run, same machine: the idle spacing is the baseline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  NO_QUOTAS,
  registerTenantAt,
  startCosignerProcess,
  startDevVault,
} from '../support/dev-processes.ts';
import { sleep } from '../support/http.ts';
import { junkKeygens, PingWatch } from '../support/pings.ts';
import { until } from '../support/until.ts';
import { type BenchSuite, percentile } from './report.ts';

const WINDOW_MS = 12_000;

function spacing(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

const suite: BenchSuite = async (report) => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-pings-'));
  const operator = schnorr.utils.randomSecretKey();
  const vault = await startDevVault(join(dir, 'vault'), schnorr.getPublicKey(operator));
  const cosigner = await startCosignerProcess(join(dir, 'cosigner'), vault, {
    extra: NO_QUOTAS,
  }).catch((e) => {
    vault.process.child.kill('SIGKILL');
    throw e;
  });
  const watch = new PingWatch(() => [vault.url]);
  try {
    await registerTenantAt(vault.url, operator, cosigner);
    await until(() => watch.times.length >= 2, 30_000, 'the first pings');
    const idleFrom = Date.now();
    await sleep(WINDOW_MS);
    const idle = watch.times.filter((t) => t >= idleFrom);
    const floodFrom = Date.now();
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () => junkKeygens(cosigner.url, floodFrom + WINDOW_MS, statuses)),
    );
    const flood = watch.times.filter((t) => t >= floodFrom && t <= floodFrom + WINDOW_MS);
    const gaps = { idle: spacing(idle), flood: spacing(flood) };
    for (const [label, pick] of [
      ['p50', (xs: number[]) => percentile(xs, 50)],
      ['max', (xs: number[]) => Math.max(0, ...xs)],
    ] as const) {
      report({
        suite: 'pings',
        name: `ping spacing under a keygen flood, ${label} (${statuses.length} junk keygens)`,
        value: pick(gaps.flood),
        unit: 'ms',
        baseline: { name: `idle ${label}`, value: pick(gaps.idle), unit: 'ms' },
        ...(label === 'max' ? { target: '<= 2000 ms', met: pick(gaps.flood) <= 2000 } : {}),
      });
    }
    report({
      suite: 'pings',
      name: `pings landed in ${WINDOW_MS / 1000} s of flood (interval 1 s)`,
      value: flood.length,
      unit: 'pings',
      baseline: { name: 'idle', value: idle.length, unit: 'pings' },
    });
  } finally {
    await watch.stop();
    cosigner.process.child.kill('SIGTERM');
    vault.process.child.kill('SIGTERM');
    await Promise.all([cosigner.process.exited, vault.process.exited]);
    await rm(dir, { recursive: true, force: true });
  }
};

export default suite;
