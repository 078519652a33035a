/**
 * VDF figures beside in-run baselines: squaring rates per backend vs naive BigInt, the prover's
 * modmul (% vs Barrett), proof time as a share of evaluation time, verify medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBigint, concatBytes } from '../../vdf/bytes.ts';
import {
  discriminantFromSeed,
  generatorForm,
  nativeFormChain,
  opsFor,
  verifyChiaBlob,
} from '../../vdf/class1024/index.ts';
import {
  backendsFor,
  fastestBackend,
  measureSquaringsPerSecond,
  rsa2048MulMod as mulMod,
  rsa2048MulModBarrett as mulModBarrett,
  RSA2048_N as N,
  proofParams as proofParamsFor,
  type SolveProgress,
  solve,
  type VdfProofRecord,
  verifyProof,
} from '../../vdf/index.ts';
import { rsa2048Group } from '../../vdf/rsa2048/group.ts';
import { type NativeArithmetic, nativeAddon, nativeStatus } from '../../vdf/rsa2048/native.ts';
import { nativeRsaBucketSum } from '../../vdf/rsa2048/native-pass.ts';
import { bucketSum } from '../../vdf/wesolowski/index.ts';
import { chiavdfBench, measureRate, type Rate, runChiavdf } from './chiavdf.ts';
import { gmpSquaringsPerSecond } from './gmp.ts';
import type { BenchRow, BenchSuite } from './report.ts';

/** The issue's GMP mpz_powm figure on its 2-core VM, used only when GMP is not installed here. */
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

interface PassCost {
  /** One checkpoint of one pass: its digit and one multiplication into a bucket. */
  stepUs: number;
  /** Combining per bucket and pass: 2 multiplications (+1 Montgomery correction natively). */
  combineUsPerBucket: number;
  /** An OpenSSL evaluation squaring timed around this backend's runs (same load). */
  squareUs: number;
}

/**
 * Bucket-pass unit costs of both backends on the same elements: k = 8 over many elements gives
 * the per-checkpoint step (combining is negligible there); k = 14 over few gives the combining.
 */
function passUnitCosts(): { name: string; cost: PassCost }[] {
  const g = rsa2048Group(new Uint8Array([0xb3]));
  const elements = [g.input];
  while (elements.length < 20_000) elements.push(g.square(elements.at(-1)!));
  const encoded = elements.map(g.encode);
  // The solver hands the native pass whole segments; so does this measurement.
  const joined = concatBytes(...encoded);
  const challenge = g.challengePrime(1000, g.input, elements[1]!);
  const plan = (count: number) => ({
    count,
    rem: bytesToBigint(encoded[0]!) % challenge,
    stepDown: bytesToBigint(encoded[1]!) % challenge,
  });
  const time = (f: () => unknown) => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) * 1000;
  };
  const addon = nativeAddon();
  const square = () => time(() => g.squareTimes(g.input, 2047 * 10)) / (2047 * 10);
  const cost = (run: (k: number, count: number) => unknown): PassCost => {
    const sqBefore = square();
    const stepUs = time(() => run(8, elements.length)) / elements.length;
    const smallUs = time(() => run(14, 16));
    const squareUs = (sqBefore + square()) / 2;
    return { stepUs, combineUsPerBucket: Math.max(0, smallUs - 16 * stepUs) / 2 ** 14, squareUs };
  };
  const native = nativeStatus();
  const arithmetics: NativeArithmetic[] = !native.available
    ? []
    : native.ifma52
      ? ['ifma52', 'openssl']
      : ['openssl'];
  return [
    {
      name: 'TypeScript',
      cost: cost((k, n) => bucketSum(g, challenge, k, plan(n), () => elements)),
    },
    ...arithmetics.map((a) => ({
      name: `native ${a}`,
      cost: cost((k, n) => nativeRsaBucketSum(addon!, challenge, k, plan(n), () => [joined], a)),
    })),
  ];
}

const solveBenchJob = (
  T: number,
  dir: string,
  native: boolean,
  onProgress?: (p: SolveProgress) => void,
) =>
  solve({
    group: 'rsa2048',
    seed: new Uint8Array([0xbe, 0x7c]),
    iterations: T,
    checkpointDir: dir,
    workers: 2,
    native,
    ...(onProgress ? { onProgress } : {}),
  });

/** One solve as the product runs it, timed: the evaluation, then the proof after it. */
async function timedSolve(
  T: number,
  dir: string,
  native: boolean,
): Promise<{ record: VdfProofRecord; evalMs: number; proveMs: number }> {
  let evalEnd = 0;
  const t0 = performance.now();
  const record = await solveBenchJob(T, dir, native, (p) => {
    if (p.phase === 'evaluate' && p.done === p.total && evalEnd === 0) evalEnd = performance.now();
    if (p.phase === 'evaluate' && process.stderr.isTTY)
      process.stderr.write(`\r[vdf] evaluating T=${T}: ${((100 * p.done) / p.total).toFixed(0)}% `);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  return { record, evalMs: evalEnd - t0, proveMs: performance.now() - evalEnd };
}

/** Re-proves from the checkpoints in `dir` (the saved output is reused, the proof removed). */
async function timedReprove(
  T: number,
  dir: string,
  native: boolean,
  expected: Uint8Array,
): Promise<number> {
  rmSync(join(dir, 'proof.bin'), { force: true });
  const t0 = performance.now();
  const again = await solveBenchJob(T, dir, native);
  if (!Buffer.from(again.proof).equals(Buffer.from(expected)))
    throw new Error('proofs differ between backends');
  return performance.now() - t0;
}

const CHIAVDF_ROUNDS = 3;
const ROUND_SECONDS = 1.5;

/**
 * The native class1024 chain beside chiavdf's vdf_bench (its C++/GMP path; its assembly path
 * too with VIGIL_CHIAVDF_ASM=1), rounds alternating, medians of wall-clock and CPU-time rates.
 */
export function class1024VersusChiavdf(report: (row: BenchRow) => void): void {
  const addon = nativeAddon();
  const bench = chiavdfBench();
  if (addon === undefined || 'missing' in bench) {
    console.error(
      `class1024 vs chiavdf not measured: ${addon === undefined ? 'native addon not built' : (bench as { missing: string }).missing}`,
    );
    return;
  }
  const D = discriminantFromSeed(new Uint8Array([0x76, 0x64, 0x66]));
  const chain = nativeFormChain(addon, D);
  let f = generatorForm(D);
  const step = () => {
    f = chain(f, 0, 4096, 2 ** 53).at(-1)!;
    return 4096;
  };
  const withAsm = process.env.VIGIL_CHIAVDF_ASM === '1';
  const ours: Rate[] = [];
  const cpp: Rate[] = [];
  const asm: Rate[] = [];
  let iterations = 100_000;
  for (let round = 0; round < CHIAVDF_ROUNDS; round++) {
    ours.push(measureRate(step, ROUND_SECONDS));
    const c = runChiavdf(bench.path, 'square', iterations, 120);
    if (c === null) throw new Error(`chiavdf vdf_bench square failed (${bench.path})`);
    cpp.push(c);
    iterations = Math.max(20_000, Math.round(c.wall * ROUND_SECONDS));
    const a = withAsm ? runChiavdf(bench.path, 'square_asm', iterations, 60) : null;
    if (a) asm.push(a);
    console.error(
      `class1024 round ${round + 1}: native/chiavdf C++ x${(ours[round]!.wall / c.wall).toFixed(2)} wall, x${(ours[round]!.cpu / c.cpu).toFixed(2)} CPU${a ? `; native/chiavdf asm x${(ours[round]!.wall / a.wall).toFixed(2)} wall` : ''}`,
    );
  }
  const med = (rs: Rate[], k: keyof Rate) => median(rs.map((r) => r[k]));
  for (const k of ['wall', 'cpu'] as const) {
    report({
      suite: 'class1024',
      name: `class1024 squarings/s native (${k === 'wall' ? 'wall clock' : 'CPU time'})`,
      value: med(ours, k),
      unit: 'sq/s',
      baseline: { name: 'chiavdf C++ path, same run', value: med(cpp, k), unit: 'sq/s' },
      target: '>= 1.0x chiavdf C++ path (issue 14)',
      met: med(ours, k) >= med(cpp, k),
    });
  }
  if (withAsm) {
    report({
      suite: 'class1024',
      name: 'class1024 squarings/s native (wall clock)',
      value: med(ours, 'wall'),
      unit: 'sq/s',
      baseline: {
        name: `chiavdf asm path, same run (${asm.length}/${CHIAVDF_ROUNDS} rounds finished)`,
        value: asm.length > 0 ? med(asm, 'wall') : Number.NaN,
        unit: 'sq/s',
      },
      target: '>= 1.0x chiavdf asm path (moonshot)',
      met: asm.length > 0 && med(ours, 'wall') >= med(asm, 'wall'),
    });
  }
}

const suite: BenchSuite = async (report) => {
  const gmp = gmpSquaringsPerSecond(N);
  for (const group of ['rsa2048', 'class1024'] as const) {
    const backends = backendsFor(group);
    const solverBackend = fastestBackend(group);
    const rates = backends.map((b) => ({ b, rate: measureSquaringsPerSecond(b, 3) }));
    const naive = rates.find((r) => r.b.naive)!;
    for (const { b, rate } of rates.filter((r) => !r.b.naive)) {
      report({
        suite: 'vdf',
        name: `${group} squarings/s ${b.name}`,
        value: rate,
        unit: 'sq/s',
        baseline: { name: naive.b.name, value: naive.rate, unit: 'sq/s' },
        // The target is the solver's backend's; the others are listed for comparison.
        ...(group === 'rsa2048' && gmp !== null && b === solverBackend
          ? {
              target: `>= GMP mpz_powm measured in this run (${Math.round(gmp)} sq/s, x${(rate / gmp).toFixed(2)})`,
              met: rate >= gmp,
            }
          : {}),
        ...(group === 'class1024' && b.name === 'native'
          ? { target: '>= 25x the naive baseline (issue 14)', met: rate >= 25 * naive.rate }
          : {}),
        ...(group === 'rsa2048' && gmp === null && b === solverBackend
          ? {
              target: `>= GMP (libgmp-dev not installed here, so not measured; the issue's VM: ${GMP_REFERENCE_US} us = ${Math.round(1e6 / GMP_REFERENCE_US)} sq/s)`,
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

  // Proof share of evaluation as the product runs it: native evaluation (checkpoints included),
  // then the proof on two workers started in the evaluation's last seconds. The issue's target
  // is for T >= 1e8: VIGIL_BENCH_VDF_T=1e8 npm run bench -- vdf (about two minutes here).
  const T = Number(process.env.VIGIL_BENCH_VDF_T ?? 1e7);
  if (!Number.isSafeInteger(T) || T < 1e5) throw new Error('VIGIL_BENCH_VDF_T: an integer >= 1e5');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-vdf-'));
  const native = nativeStatus();
  const nativeOn = native.available;
  try {
    const p = proofParamsFor('rsa2048', T);
    const label = `T=${T.toExponential(0)} (k=${p.k}, l=${p.l}, 2 workers)`;
    const squareUs = 1e6 / measureSquaringsPerSecond(backendsFor('rsa2048')[0]!, 1);
    const { record: r, evalMs, proveMs } = await timedSolve(T, dir, nativeOn);
    const arithmetic = nativeOn
      ? native.ifma52
        ? 'native ifma52'
        : 'native openssl'
      : 'TypeScript';
    report({
      suite: 'vdf',
      name: `rsa2048 evaluation ${nativeOn ? 'native' : 'TypeScript'}, ${label}`,
      value: evalMs / 1000,
      unit: 's',
      baseline: { name: 'T squarings alone', value: (T * squareUs) / 1e6, unit: 's' },
    });
    report({
      suite: 'vdf',
      name: `rsa2048 proof/eval ${arithmetic}, ${label}`,
      value: (proveMs / evalMs) * 100,
      unit: '%',
      baseline: { name: 'evaluation', value: evalMs / 1000, unit: 's' },
      target: '<= 5% of evaluation (issue: T >= 1e8)',
      met: proveMs <= 0.05 * evalMs,
    });
    if (nativeOn && native.ifma52) {
      process.env.VIGIL_VDF_ARITH = 'openssl';
      try {
        const ms = await timedReprove(T, dir, true, r.proof);
        report({
          suite: 'vdf',
          name: `rsa2048 proof/eval native openssl (re-proved, cold workers), ${label}`,
          value: (ms / evalMs) * 100,
          unit: '%',
          baseline: { name: arithmetic, value: (proveMs / evalMs) * 100, unit: '%' },
        });
      } finally {
        delete process.env.VIGIL_VDF_ARITH;
      }
    }
    if (T <= 1e7) {
      const ms = await timedReprove(T, dir, false, r.proof);
      report({
        suite: 'vdf',
        name: `rsa2048 proof/eval TypeScript (re-proved, cold workers), ${label}`,
        value: (ms / evalMs) * 100,
        unit: '%',
        baseline: { name: arithmetic, value: (proveMs / evalMs) * 100, unit: '%' },
      });
    }

    // Extrapolation from unit costs measured now, each against squarings timed beside it (the
    // load changes between phases): the proof is ⌈T/k⌉ checkpoint steps (digit + one
    // multiplication) plus per pass the combining of 2^k buckets, split over 2 workers; the
    // evaluation is T squarings. Disk reads and worker hand-offs are left out.
    const modelRatio = (c: PassCost, bigT: number) => {
      const q = proofParamsFor('rsa2048', bigT);
      const us = (bigT / q.k) * c.stepUs + q.l * 2 ** q.k * c.combineUsPerBucket;
      return us / 2 / (bigT * c.squareUs);
    };
    for (const { name, cost: c } of passUnitCosts()) {
      report({
        suite: 'vdf',
        name: `rsa2048 prover step ${name}`,
        value: c.stepUs,
        unit: 'us/checkpoint',
        baseline: { name: 'OpenSSL squaring', value: c.squareUs, unit: 'us' },
      });
      for (const bigT of [1e8, 1e10, 1e12]) {
        const q = proofParamsFor('rsa2048', bigT);
        const ratio = modelRatio(c, bigT);
        report({
          suite: 'vdf',
          name: `rsa2048 proof/eval ${name} model T=${bigT.toExponential(0)} (k=${q.k}, l=${q.l})`,
          value: ratio * 100,
          unit: '%',
          target: '<= 5%',
          met: ratio <= 0.05,
        });
      }
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

  const c = await solve({
    group: 'class1024',
    seed: new Uint8Array([0xc1, 0x01]),
    iterations: 2000,
  });
  const classVerify = verifyMedianMs(c, 21);
  // The same verifications on the TypeScript operations (the fallback), D known.
  const D = discriminantFromSeed(c.seed);
  const blob = concatBytes(c.output, c.proof);
  const tsTimes: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    try {
      verifyChiaBlob(D, c.input!, blob, c.iterations + i, 0, opsFor(D));
    } catch {
      // T + i (i > 0) is a different, failing statement: same work, as in verifyMedianMs
    }
    tsTimes.push(performance.now() - t0);
  }
  report({
    suite: 'vdf',
    name: `class1024 verify median (depth 0, ${nativeAddon() ? 'native' : 'TypeScript'})`,
    value: classVerify,
    unit: 'ms',
    baseline: { name: 'TypeScript operations', value: median(tsTimes), unit: 'ms' },
    target: '<= 10 ms (issue 14)',
    met: classVerify <= 10,
  });
};

export default suite;
