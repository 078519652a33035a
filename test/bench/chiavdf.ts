/**
 * chiavdf's class-group squaring on this machine, for the "at least as fast as chiavdf" target:
 * its own `vdf_bench` binary, built from source outside the repository (docs/vdf.md, "Measuring
 * against chiavdf") and named by VIGIL_CHIAVDF_BENCH. Bench-only: nothing of Vigil depends on it.
 * Rounds alternate with ours so that both see the same load; each side reports wall-clock and
 * CPU-time rates (the machine is shared, so CPU time is the steadier figure).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Rate {
  /** Squarings per wall-clock second. */
  wall: number;
  /** Squarings per CPU second. */
  cpu: number;
}

/** The vdf_bench binary named by VIGIL_CHIAVDF_BENCH, or null with the reason. */
export function chiavdfBench(): { path: string } | { missing: string } {
  const path = process.env.VIGIL_CHIAVDF_BENCH;
  if (path === undefined || path === '')
    return { missing: 'VIGIL_CHIAVDF_BENCH not set (docs/vdf.md: Measuring against chiavdf)' };
  if (!existsSync(path)) return { missing: `VIGIL_CHIAVDF_BENCH=${path} does not exist` };
  return { path };
}

/** CPU seconds (user + system) of this process's waited-for children (Linux /proc). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/**
 * One run of `vdf_bench <mode> <iterations>` (mode 'square': its C++/GMP NUDUPL path; 'square_asm':
 * its generated-assembly path). Null when it fails or takes longer than timeoutSeconds.
 */
export function runChiavdf(
  path: string,
  mode: 'square' | 'square_asm',
  iterations: number,
  timeoutSeconds: number,
): Rate | null {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  let out: string;
  try {
    out = execFileSync(path, [mode, String(iterations)], {
      timeout: timeoutSeconds * 1000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
  } catch {
    return null;
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuSeconds = childrenCpuSeconds() - cpu0;
  // "Time: <ms> ms; ... speed: ..." — its own timing excludes process start-up.
  const ms = /Time: (\d+) ms/.exec(out);
  const wall = ms ? iterations / (Number(ms[1]) / 1000) : iterations / wallSeconds;
  return { wall, cpu: cpuSeconds > 0 ? iterations / cpuSeconds : wall };
}

/** Runs `step` until `seconds` of wall time pass; its squarings per wall and per CPU second. */
export function measureRate(step: () => number, seconds: number): Rate {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < seconds * 1000) done += step();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: done / wall, cpu: done / ((c.user + c.system) / 1e6) };
}
