/**
 * What a time lock of T squarings means for people. T is set against the fastest known attacker
 * (DESIGN.md §4), so the honest wait is T divided by the *user's* speed: often many times the
 * delay a provider advertises. Users and providers see both before they commit to a policy.
 */
import type { PolicyKind } from '../vault/portable.ts';
import {
  calibrateIterations,
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

/**
 * Reference machines (shared/research/vdf.md §7, and issue 14's side-by-side run on this
 * project's 2-vCPU host), so a person sees the wait on hardware they might use, not one figure.
 */
export const REFERENCE_MACHINES: Record<GroupName, { label: string; rate: number }[]> = {
  rsa2048: [
    { label: 'desktop, GMP (i7-6700, LCS35)', rate: 721_000 },
    { label: '2-vCPU cloud VM, Node BigInt', rate: 166_743 },
  ],
  class1024: [
    { label: 'fastest CPU timelord, chiavdf (2020)', rate: 360_000 },
    { label: 'typical desktop, chiavdf', rate: 250_000 },
    { label: '2-vCPU cloud VM, chiavdf', rate: 149_000 },
    { label: '2-vCPU cloud VM, naive BigInt', rate: 5_657 },
  ],
};

/** The safety factor on the attacker's rate in a strict policy (research §7: A ≥ 2). */
export const STRICT_MARGIN = 2;

/**
 * The policy table (DESIGN.md §4): a strict policy's T makes the fastest known attacker take the
 * delay (× margin); a clock-gated policy's T makes a typical desktop take the delay, and the
 * cluster's quorum clock must also show the delay before it releases.
 */
export function policyIterations(
  kind: PolicyKind,
  group: GroupName,
  delaySeconds: number,
  margin = STRICT_MARGIN,
): number {
  return kind === 'strict'
    ? calibrateIterations(delaySeconds, DEFAULT_ATTACKER_RATE[group], margin)
    : Math.ceil(delaySeconds * DESKTOP_RATE[group]);
}

export interface PolicyFigures {
  kind: PolicyKind;
  group: GroupName;
  delaySeconds: number;
  iterations: number;
  /** The earliest release while a majority of the enclaves' clocks are honest. */
  attackerFloorSeconds: number;
  /** The earliest release if a majority's clocks lie: the VDF alone (T / attacker rate). */
  clockLieFloorSeconds: number;
  /** Honest waits: solving time, and under clock-gated at least the delay. */
  honest: { label: string; rate: number; seconds: number }[];
}

/** What a policy means for people, on this machine (`here`) and the reference machines. */
export function policyFigures(
  kind: PolicyKind,
  group: GroupName,
  delaySeconds: number,
  opts: {
    iterations?: number;
    attackerRate?: number;
    here?: { rate: number; backend: string };
  } = {},
): PolicyFigures {
  const iterations = opts.iterations ?? policyIterations(kind, group, delaySeconds);
  const vdfFloor = iterations / (opts.attackerRate ?? DEFAULT_ATTACKER_RATE[group]);
  const gate = kind === 'clock-gated' ? delaySeconds : 0;
  const machines = [
    ...(opts.here ? [{ label: `this machine, ${opts.here.backend}`, rate: opts.here.rate }] : []),
    ...REFERENCE_MACHINES[group],
  ];
  return {
    kind,
    group,
    delaySeconds,
    iterations,
    attackerFloorSeconds: Math.max(vdfFloor, gate),
    clockLieFloorSeconds: vdfFloor,
    honest: machines.map((m) => ({ ...m, seconds: Math.max(iterations / m.rate, gate) })),
  };
}

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
