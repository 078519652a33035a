/**
 * `npm run bench [-- suite…] [--json]`: runs every benchmark suite (or the named ones) and prints
 * each figure beside its in-run baseline.
 */
import os from 'node:os';
import { type BenchRow, type BenchSuite, formatRow } from './report.ts';

const suites: Record<string, () => Promise<{ default: BenchSuite }>> = {
  vdf: () => import('./vdf.ts'),
  class1024: () => import('./class1024.ts'),
  cosigner: () => import('./cosigner.ts'),
  pings: () => import('./pings.ts'),
  vault: () => import('./vault.ts'),
  scale: () => import('./scale.ts'),
};

/** Flags that take a value (the value is not a suite name). */
const VALUED = new Set(['--sizes']);

async function run(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const wanted = args.filter((a, i) => !a.startsWith('--') && !VALUED.has(args[i - 1] ?? ''));
  // the scale suite runs only when asked for: it takes minutes and gigabytes of disk
  const names = wanted.length > 0 ? wanted : Object.keys(suites).filter((n) => n !== 'scale');
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length > 0) {
    console.error(
      `unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.error(`machine: ${os.cpus().length} x ${cpu}, node ${process.version}, ${os.platform()}`);
  const rows: BenchRow[] = [];
  for (const name of names) {
    console.error(`-- ${name}`);
    const suite = (await suites[name]!()).default;
    await suite((row) => {
      rows.push(row);
      console.log(json ? JSON.stringify(row) : formatRow(row));
    });
  }
}

await run();
