import { Sim, SimFailure, swarmOptions } from './sim.ts';

/**
 * `npm run sim -- --seed S` replays one seed exactly; `--seeds N [--from F]` runs N seeds.
 * Extra: `--steps K` overrides the fault-phase length, `--trust-rollback` runs the negative control.
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const steps = arg('--steps');
const overrides = {
  ...(steps === undefined ? {} : { steps: Number(steps) }),
  ...(process.argv.includes('--trust-rollback') ? { trustRolledBackDisk: true } : {}),
};
const one = arg('--seed');
const seeds = one === undefined ? Number(arg('--seeds') ?? 100) : 1;
const from = one === undefined ? Number(arg('--from') ?? 1) : Number(one);
let failed = 0;
const t0 = performance.now();
for (let s = from; s < from + seeds; s++) {
  let sim: Sim | undefined;
  try {
    sim = new Sim(swarmOptions(s, overrides));
    sim.run();
    if (one !== undefined)
      console.log(
        `seed ${s} ok`,
        JSON.stringify(sim.stats),
        `releases=${sim.checker.releases}`,
        sim.describe(),
      );
  } catch (e) {
    if (!(e instanceof SimFailure)) {
      console.error(`seed ${s} step ${sim?.step}: crashed\n  replay: npm run sim -- --seed ${s}`);
      throw e;
    }
    failed++;
    console.error(e.message);
  }
  if (one === undefined && (s - from + 1) % 50 === 0) {
    console.log(
      `${s - from + 1}/${seeds} seeds, ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
}
console.log(
  `${seeds} seed(s), ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
process.exitCode = failed > 0 ? 1 : 0;
