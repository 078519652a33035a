/**
 * The class1024 proof's share of the evaluation as the product runs it: a native evaluation into
 * a checkpoint directory, then the proof on two workers (the native bucket passes). Rounds
 * alternate the T values so each sees the same load; wall clock and CPU time (all threads) are
 * both reported, the CPU time being the steadier figure on a shared machine. Then, on the same
 * checkpoints and one thread, the native prover pass beside the TypeScript pass it replaced (one
 * native NUCOMP call per product). VIGIL_BENCH_CLASS_T="1e6,1e7" and VIGIL_BENCH_CLASS_ROUNDS=2
 * by default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { class1024Group, type Form, nativeClassBucketSum } from '../../vdf/class1024/index.ts';
import { proofParams, solve } from '../../vdf/index.ts';
import { nativeAddon } from '../../vdf/rsa2048/native.ts';
import { diskCheckpoints } from '../../vdf/solver/checkpoints.ts';
import { checkpointCount, proveRange } from '../../vdf/wesolowski/index.ts';
import type { BenchRow } from './report.ts';

const SEED = Uint8Array.of(0xc1, 0x50);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

interface Timed {
  evalWall: number;
  proofWall: number;
  evalCpu: number;
  proofCpu: number;
}

async function timedSolve(T: number, dir: string): Promise<Timed> {
  let evalWall = 0;
  let evalCpu = 0;
  const c0 = cpuMs();
  const t0 = performance.now();
  await solve({
    group: 'class1024',
    seed: SEED,
    iterations: T,
    checkpointDir: dir,
    workers: 2,
    onProgress: (p) => {
      if (p.phase === 'evaluate' && p.done === p.total && evalWall === 0) {
        evalWall = performance.now() - t0;
        evalCpu = cpuMs() - c0;
      }
    },
  });
  return {
    evalWall,
    evalCpu,
    proofWall: performance.now() - t0 - evalWall,
    proofCpu: cpuMs() - c0 - evalCpu,
  };
}

/** One-thread CPU milliseconds of both prover passes over the checkpoints a solve left in dir. */
function passes(T: number, dir: string): { native: number; typescript: number } {
  const addon = nativeAddon()!;
  const params = proofParams('class1024', T);
  const group = class1024Group(SEED);
  const store = diskCheckpoints(dir, {
    group: 'class1024',
    seed: SEED,
    iterations: T,
    interval: params.interval,
    elementBytes: group.elementBytes,
  });
  const needed = checkpointCount(T, params);
  const encoded = new Uint8Array(needed * group.elementBytes);
  let n = 0;
  for (const bytes of store.read()) {
    if (n === needed) break;
    encoded.set(bytes, n++ * group.elementBytes);
  }
  const y = group.decode(store.loadResult('output')!);
  const ell = group.challengePrime(T, group.input, y);
  const D = group.input.b * group.input.b - 4n * group.input.a * group.input.c;
  let c0 = cpuMs();
  const sum = nativeClassBucketSum(addon, D, ell, params.k, () => [encoded]);
  const a = proveRange(group, T, ell, params, 0, params.l, () => [], undefined, sum);
  const native = cpuMs() - c0;
  c0 = cpuMs();
  // As the solver did before: decode every checkpoint once (TypeScript BQFC), then the
  // TypeScript passes, each product one native NUCOMP call.
  const forms: Form[] = [];
  for (let i = 0; i < needed; i++)
    forms.push(
      group.decode(encoded.subarray(i * group.elementBytes, (i + 1) * group.elementBytes)),
    );
  const b = proveRange(group, T, ell, params, 0, params.l, () => forms);
  const typescript = cpuMs() - c0;
  if (!group.equal(a, b)) throw new Error('class1024 proofs differ between the prover passes');
  return { native, typescript };
}

export async function class1024ProofShare(report: (row: BenchRow) => void): Promise<void> {
  if (nativeAddon() === undefined) {
    console.error('class1024 proof share not measured: native addon not built');
    return;
  }
  const Ts = (process.env.VIGIL_BENCH_CLASS_T ?? '1e6,1e7').split(',').map(Number);
  const rounds = Number(process.env.VIGIL_BENCH_CLASS_ROUNDS ?? 2);
  if (Ts.some((T) => !Number.isSafeInteger(T) || T < 1e4) || !(rounds >= 1))
    throw new Error('VIGIL_BENCH_CLASS_T: integers >= 1e4; VIGIL_BENCH_CLASS_ROUNDS >= 1');
  const runs = new Map<number, Timed[]>(Ts.map((T) => [T, []]));
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const T of Ts) {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-class-'));
      try {
        loads.push(loadavg()[0]!);
        const r = await timedSolve(T, dir);
        runs.get(T)!.push(r);
        console.error(
          `class1024 T=${T.toExponential(0)} round ${round + 1}: evaluation ${(r.evalWall / 1000).toFixed(1)} s wall / ${(r.evalCpu / 1000).toFixed(1)} s CPU, proof ${(r.proofWall / 1000).toFixed(2)} s wall / ${(r.proofCpu / 1000).toFixed(2)} s CPU (load ${loadavg()[0]!.toFixed(1)})`,
        );
        if (round === 0 && T === Ts[0]) {
          const p = passes(T, dir);
          report({
            suite: 'class1024',
            name: `prover passes, one thread, CPU time, T=${T.toExponential(0)}: native`,
            value: p.native / 1000,
            unit: 's',
            baseline: {
              name: 'TypeScript passes, one native NUCOMP per product',
              value: p.typescript / 1000,
              unit: 's',
            },
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const load = `load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  for (const T of Ts) {
    const rs = runs.get(T)!;
    const p = proofParams('class1024', T);
    const label = `T=${T.toExponential(0)} (k=${p.k}, l=${p.l}, 2 workers, ${rounds} rounds, ${load})`;
    for (const clock of ['wall', 'cpu'] as const) {
      const shares = rs.map((r) =>
        clock === 'wall' ? r.proofWall / r.evalWall : r.proofCpu / r.evalCpu,
      );
      const evals = rs.map((r) => (clock === 'wall' ? r.evalWall : r.evalCpu) / 1000);
      const share = mean(shares) * 100;
      const each = shares.map((x) => (x * 100).toFixed(1)).join(' / ');
      report({
        suite: 'class1024',
        name: `proof/eval native (${clock === 'wall' ? 'wall clock' : 'CPU time, both workers'}), ${label}, mean of ${each} %`,
        value: share,
        unit: '%',
        baseline: { name: 'evaluation (mean)', value: mean(evals), unit: 's' },
        target: '<= 5% of evaluation (issue 14)',
        met: share <= 5,
      });
    }
  }
}
