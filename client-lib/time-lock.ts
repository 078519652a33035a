/**
 * What a time lock of T squarings means for people. T is set against the fastest known attacker
 * (DESIGN.md §4), so the honest wait is T divided by the *user's* speed: often many times the
 * delay a provider advertises. Users and providers see both before they commit to a policy.
 */
import {
  DEFAULT_ATTACKER_RATE,
  fastestBackend,
  type GroupName,
  measureSquaringsPerSecond,
} from '../vdf/index.ts';

/**
 * A typical desktop's squarings per second (shared/research/vdf.md §7): rsa2048 with GMP on an
 * Intel i7-6700 (the LCS35 figure); class1024 with chiavdf on a desktop CPU (250–360K/s; the low
 * end, since a user's machine is rarely the fastest timelord).
 */
export const DESKTOP_RATE: Record<GroupName, number> = { rsa2048: 721_000, class1024: 250_000 };

export interface TimeLockView {
  group: GroupName;
  iterations: number;
  /** The floor: the fastest known attacker (FPGA for rsa2048, Chia's ASIC for class1024). */
  attackerSeconds: number;
  desktopSeconds: number;
  /** This machine with Vigil's own solver, when measured. */
  here?: { rate: number; seconds: number; backend: string };
}

/** Measures this machine's solver for `seconds` (CPU-bound: keep it short). */
export function measureThisMachine(
  group: GroupName,
  seconds = 0.5,
): { rate: number; backend: string } {
  const backend = fastestBackend(group);
  return { rate: measureSquaringsPerSecond(backend, seconds), backend: backend.name };
}

export function describeTimeLock(
  group: GroupName,
  iterations: number,
  here?: { rate: number; backend: string },
): TimeLockView {
  return {
    group,
    iterations,
    attackerSeconds: iterations / DEFAULT_ATTACKER_RATE[group],
    desktopSeconds: iterations / DESKTOP_RATE[group],
    ...(here
      ? { here: { rate: here.rate, seconds: iterations / here.rate, backend: here.backend } }
      : {}),
  };
}
