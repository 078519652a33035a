/**
 * VDF figures beside in-run baselines: squaring rates per backend vs naive BigInt, the prover's
 * modmul (% vs Barrett), proof time as a share of evaluation time, verify medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backendsFor,
  measureSquaringsPerSecond,
  rsa2048MulMod as mulMod,
  rsa2048MulModBarrett as mulModBarrett,
  RSA2048_N as N,
  proofParams as proofParamsFor,
  solve,
  type VdfProofRecord,
  verifyProof,
} from '../../vdf/index.ts';
import type { BenchSuite } from './report.ts';

/** The GMP mpz_powm figure on its 2-core VM: a reference, NOT measured in this run. */
const GMP_REFERENCE_US = 1.22;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function verifyMedianMs(r: VdfProofRecord, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Different T each run so ℓ (and its HashPrime search) is not the same every time.
    const rec = i === 0 ? r : { ...r, iterations: r.iterations + i };
    const t0 = performance.now();
    verifyProof(rec);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const suite: BenchSuite = async (report) => {
  for (const group of ['rsa2048', 'class1024'] as const) {
    const backends = backendsFor(group);
    const rates = backends.map((b) => ({ b, rate: measureSquaringsPerSecond(b, 3) }));
    const naive = rates.find((r) => r.b.naive)!;
    for (const { b, rate } of rates.filter((r) => !r.b.naive)) {
      report({
        suite: 'vdf',
        name: `${group} squarings/s ${b.name}`,
        value: rate,
        unit: 'sq/s',
        baseline: { name: naive.b.name, value: naive.rate, unit: 'sq/s' },
        ...(group === 'rsa2048'
          ? {
              target: `>= GMP (issue's figure ${GMP_REFERENCE_US} us = ${Math.round(1e6 / GMP_REFERENCE_US)} sq/s on its VM, not measured here)`,
              met: rate >= 1e6 / GMP_REFERENCE_US,
            }
          : {}),
      });
    }
  }

  // The prover's multiplication: V8's % against Barrett with precomputed μ.
  const a = N / 3n + 7n;
  const b = N / 5n + 11n;
  const time = (f: (x: bigint, y: bigint) => bigint) => {
    let s = a;
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) s = f(s, b);
    return ((performance.now() - t0) * 1000) / 50_000;
  };
  const pct = time(mulMod);
  const barrett = time(mulModBarrett);
  report({
    suite: 'vdf',
    name: 'rsa2048 modmul Barrett',
    value: barrett,
    unit: 'us',
    baseline: { name: '% (used)', value: pct, unit: 'us' },
  });

  // Proof share of evaluation at a T this machine can run, with the two proof workers.
  const T = 4_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-vdf-'));
  try {
    let evalEnd = 0;
    const t0 = performance.now();
    const r = await solve({
      group: 'rsa2048',
      seed: new Uint8Array([0xbe, 0x7c]),
      iterations: T,
      checkpointDir: dir,
      workers: 2,
      onProgress: (p) => {
        if (p.phase === 'evaluate' && p.done === p.total) evalEnd = performance.now();
      },
    });
    const t1 = performance.now();
    const evalMs = evalEnd - t0;
    const proveMs = t1 - evalEnd;
    const p = proofParamsFor('rsa2048', T);
    report({
      suite: 'vdf',
      name: `rsa2048 proof time, T=${T} (k=${p.k}, l=${p.l}, 2 workers)`,
      value: proveMs / 1000,
      unit: 's',
      baseline: { name: 'evaluation', value: evalMs / 1000, unit: 's' },
      target: '<= 5% of evaluation (issue: T >= 1e8)',
      met: proveMs <= 0.05 * evalMs,
    });
    // Extrapolation with the measured unit costs: the proof is ≈ (T/k + l·2^(k+1)) multiplications
    // split over 2 workers, the evaluation T squarings.
    const sqUs = (evalMs * 1000) / T;
    for (const bigT of [1e8, 1e10, 1e12]) {
      const q = proofParamsFor('rsa2048', bigT);
      const mults = bigT / q.k + q.l * 2 ** (q.k + 1);
      const ratio = (mults * pct) / 2 / (bigT * sqUs);
      report({
        suite: 'vdf',
        name: `rsa2048 proof/eval extrapolated T=${bigT.toExponential(0)} (k=${q.k})`,
        value: ratio * 100,
        unit: '%',
        target: '<= 5%',
        met: ratio <= 0.05,
      });
    }
    const rsaVerify = verifyMedianMs(r, 41);
    report({
      suite: 'vdf',
      name: 'rsa2048 verify median',
      value: rsaVerify,
      unit: 'ms',
      target: '<= 2 ms',
      met: rsaVerify <= 2,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const c = await solve({ group: 'class1024', seed: new Uint8Array([0xc1]), iterations: 2000 });
  const classVerify = verifyMedianMs(c, 21);
  report({
    suite: 'vdf',
    name: 'class1024 verify median (depth 0)',
    value: classVerify,
    unit: 'ms',
    target: '<= 30 ms',
    met: classVerify <= 30,
  });
};

export default suite;
