/**
 * A time lock in the units people decide in: how long the fastest known attacker needs (the
 * floor a provider's delay stands for) and how long an honest user waits, on this machine and on
 * a typical desktop. Iterations alone hide that the second can be twenty times the first.
 */
import { describeTimeLock, type PolicyFigures, type TimeLockView } from '../client-lib/index.ts';
import type { GroupName } from '../vdf/index.ts';
import { formatDuration } from './progress.ts';

const ATTACKER: Record<GroupName, string> = {
  rsa2048: 'an FPGA, 1.5e7 squarings/s',
  class1024: "Chia's ASIC, 7.1e5 squarings/s",
};
const DESKTOP: Record<GroupName, string> = {
  rsa2048: 'GMP, 721,000/s',
  class1024: 'chiavdf, 250,000/s',
};

/** Seconds for people: "under a second", "1m 7s", "14 days" (days past two days, not hours). */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  if (seconds < 1) return 'under a second';
  if (seconds >= 2 * 86_400) {
    const days = seconds / 86_400;
    return `${days >= 100 ? Math.round(days).toLocaleString('en-US') : days.toFixed(1)} days`;
  }
  return formatDuration(seconds);
}

export function timeLockLines(v: TimeLockView): string[] {
  const lines = [
    `time lock: ${v.iterations.toLocaleString('en-US')} squarings (${v.group})`,
    `  fastest known attacker (${ATTACKER[v.group]}): at least ${humanDuration(v.attackerSeconds)}` +
      ' — nobody gets the share sooner after the last proof of life',
  ];
  if (v.here) {
    lines.push(
      `  honest wait on this machine (${v.here.backend}, ${Math.round(v.here.rate).toLocaleString('en-US')}/s): ` +
        `about ${humanDuration(v.here.seconds)} of solving, plus the proof`,
    );
  }
  lines.push(
    `  honest wait on a typical desktop (${DESKTOP[v.group]}): about ${humanDuration(v.desktopSeconds)}`,
  );
  return lines;
}

const KIND_NOTE = {
  strict: 'T from the fastest known attacker (the default, the conservative choice)',
  'clock-gated':
    "T from a typical desktop, and the delay on the cluster's quorum clock (a majority of enclave clocks)",
} as const;

/** One policy kind and group: the floors, then the honest waits machine by machine. */
export function policyFiguresLines(f: PolicyFigures): string[] {
  const lines = [
    `${f.kind} ${f.group}: T = ${f.iterations.toLocaleString('en-US')} squarings — ${KIND_NOTE[f.kind]}`,
    `  attacker floor: ${humanDuration(f.attackerFloorSeconds)}` +
      (f.kind === 'clock-gated'
        ? `; if a majority of enclave clocks lie, the VDF alone: ${humanDuration(f.clockLieFloorSeconds)}`
        : ''),
  ];
  for (const m of f.honest) {
    lines.push(
      `  honest wait, ${m.label} (${Math.round(m.rate).toLocaleString('en-US')}/s): ${humanDuration(m.seconds)}`,
    );
  }
  return lines;
}

/** A policy range as offered by a provider, in the same terms. */
export function policyRangeLines(group: GroupName, min: number, max: number): string[] {
  const lo = describeTimeLock(group, min);
  const hi = describeTimeLock(group, max);
  return [
    `  ${group}: ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')} squarings = ` +
      `${humanDuration(lo.attackerSeconds)} to ${humanDuration(hi.attackerSeconds)} for the fastest ` +
      `known attacker; a user on a typical desktop waits ${humanDuration(lo.desktopSeconds)} to ` +
      `${humanDuration(hi.desktopSeconds)}`,
  ];
}
