/**
 * One measured figure beside the baseline it is judged against, both measured in the same run:
 * machines here are noisy, so ratios travel and absolute times do not.
 */
export interface BenchRow {
  suite: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  /** What the issue asks for, e.g. ">= 1.0x GMP" or "<= 2 ms". */
  target?: string;
  /** Whether the target was met in this run, when it can be judged from the figures. */
  met?: boolean;
}

export type BenchSuite = (report: (row: BenchRow) => void) => Promise<void>;

/** The p-th percentile (nearest rank) of `xs`; 0 for no samples, so a failed run still prints. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

export function formatRow(row: BenchRow): string {
  const fig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3));
  let line = `${row.suite.padEnd(10)} ${row.name.padEnd(44)} ${fig(row.value).padStart(12)} ${row.unit}`;
  if (row.baseline) {
    const ratio = row.value / row.baseline.value;
    line += `   vs ${row.baseline.name} ${fig(row.baseline.value)} ${row.baseline.unit} (x${ratio.toFixed(2)})`;
  }
  if (row.target)
    line += `   target ${row.target}${row.met === undefined ? '' : row.met ? ' MET' : ' NOT MET'}`;
  return line;
}
