/** `vigil vdf …`: bench, solve, verify, calibrate — a thin shell over vdf/index.ts. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type ChallengeFile,
  ClientError,
  MAX_CHALLENGE_FILE_BYTES,
  parseChallengeFile,
  policyFigures,
  proofFromChiavdf,
  STRICT_MARGIN,
} from '../../client-lib/index.ts';
import { POLICY_KINDS } from '../../vault/index.ts';
import {
  backendsFor,
  calibrateIterations,
  DEFAULT_ATTACKER_RATE,
  encodeProofFile,
  fastestBackend,
  type GroupName,
  isGroupName,
  MAX_ITERATIONS,
  MAX_PROOF_FILE_BYTES,
  measureSquaringsPerSecond,
  parseDelaySeconds,
  parseProofFile,
  solve,
  VdfError,
  verifyProof,
} from '../../vdf/index.ts';
import { CliExit } from '../exit.ts';
import { formatDuration, progressBar } from '../progress.ts';
import { policyFiguresLines } from '../time-lock-report.ts';

function groupOption(v: string | undefined, required: boolean): GroupName | undefined {
  if (v === undefined) {
    if (required) throw new CliExit(2, 'vigil vdf: --group is required (rsa2048 or class1024)');
    return undefined;
  }
  if (!isGroupName(v))
    throw new CliExit(2, `vigil vdf: unknown group "${v}" (rsa2048 or class1024)`);
  return v;
}

function positiveNumber(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliExit(2, `vigil vdf: ${name} must be a positive number`);
  return n;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A file of at most `max` bytes, or a usage error naming it. */
function readSmallFile(command: string, path: string, max: number): Buffer {
  try {
    if (statSync(path).size > max) {
      throw new CliExit(2, `${command}: ${path} is larger than ${max} bytes`);
    }
    return readFileSync(path);
  } catch (err) {
    if (err instanceof CliExit) throw err;
    throw new CliExit(2, `${command}: cannot read ${path}: ${(err as Error).message}`);
  }
}

function readChallenge(path: string): ChallengeFile {
  const text = readSmallFile('vigil vdf', path, MAX_CHALLENGE_FILE_BYTES).toString('utf8');
  try {
    return parseChallengeFile(text);
  } catch (err) {
    if (err instanceof ClientError) throw new CliExit(2, `vigil vdf: ${path}: ${err.message}`);
    throw err;
  }
}

/** chiavdf's result as hex text (what `result.hex()` prints) or as the raw bytes. */
function readChiavdfOutput(path: string): Uint8Array {
  const raw = readSmallFile('vigil vdf from-chiavdf', path, 2 * MAX_PROOF_FILE_BYTES);
  const text = raw.toString('latin1').trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  return new Uint8Array(raw);
}

/** What to solve: a challenge file, or --group, --seed and --iterations. */
function solveTarget(o: {
  challenge?: string;
  group?: string;
  seed?: string;
  iterations?: string;
}): { group: GroupName; seed: Uint8Array; iterations: number } {
  if (o.challenge !== undefined) {
    if (o.group !== undefined || o.seed !== undefined || o.iterations !== undefined) {
      throw new CliExit(
        2,
        'vigil vdf solve: --challenge names the group, seed and iterations; give no others',
      );
    }
    const c = readChallenge(o.challenge);
    return { group: c.group, seed: c.seed, iterations: c.iterations };
  }
  const group = groupOption(o.group, true)!;
  if (o.seed === undefined || !/^(?:[0-9a-fA-F]{2})+$/.test(o.seed))
    throw new CliExit(2, 'vigil vdf solve: --seed must be hex bytes (or give --challenge)');
  if (o.iterations === undefined || !/^\d+$/.test(o.iterations))
    throw new CliExit(2, 'vigil vdf solve: --iterations must be an integer (or give --challenge)');
  const iterations = Number(o.iterations);
  if (iterations < 1 || iterations > MAX_ITERATIONS)
    throw new CliExit(2, `vigil vdf solve: --iterations must be in 1..${MAX_ITERATIONS}`);
  return { group, seed: new Uint8Array(Buffer.from(o.seed, 'hex')), iterations };
}

export function registerVdfCommands(program: Command): void {
  const vdf = program
    .command('vdf')
    .description('verifiable delay function: bench, solve, verify, calibrate');

  vdf
    .command('bench')
    .description('squarings per second for each backend, beside the naive BigInt baseline')
    .option('--group <group>', 'rsa2048 or class1024 (default: both)')
    .option('--seconds <s>', 'measuring time per backend', '2')
    .option('--json', 'one JSON object per backend')
    .action((o: { group?: string; seconds: string; json?: boolean }) => {
      const group = groupOption(o.group, false);
      const seconds = positiveNumber('--seconds', o.seconds);
      for (const g of group ? [group] : (['rsa2048', 'class1024'] as const)) {
        const rows = backendsFor(g).map((b) => ({
          group: b.group,
          backend: b.name,
          naive: b.naive,
          squaringsPerSecond: Math.round(measureSquaringsPerSecond(b, seconds)),
        }));
        const base = rows.find((r) => r.naive)!.squaringsPerSecond;
        for (const r of rows) {
          const row = { ...r, vsNaive: Number((r.squaringsPerSecond / base).toFixed(2)) };
          if (o.json) out(JSON.stringify(row));
          else
            out(
              `${row.group.padEnd(10)} ${row.backend.padEnd(14)} ${String(row.squaringsPerSecond).padStart(10)} sq/s  (x${row.vsNaive} naive)`,
            );
        }
      }
    });

  vdf
    .command('solve')
    .description(
      'compute y = x^(2^T) and its Wesolowski proof; resumable with --checkpoint-dir. The ' +
        'challenge is --group/--seed/--iterations, or a file from `vigil recover --export-challenge`',
    )
    .option('--challenge <file>', 'a challenge file (vigil recover --export-challenge)')
    .option('--group <group>', 'rsa2048 or class1024')
    .option('--seed <hex>', 'challenge seed (hex)')
    .option('--iterations <T>', 'number of squarings')
    .requiredOption('--out <file>', 'proof file to write')
    .option('--checkpoint-dir <dir>', 'directory for checkpoints (resume after a crash or Ctrl-C)')
    .action(
      async (o: {
        challenge?: string;
        group?: string;
        seed?: string;
        iterations?: string;
        out: string;
        checkpointDir?: string;
      }) => {
        const { group, seed, iterations } = solveTarget(o);
        const bar = progressBar(process.stderr, `${group} `);
        const controller = new AbortController();
        const onSigint = () => controller.abort();
        process.once('SIGINT', onSigint);
        // Without --checkpoint-dir the checkpoints still go to disk (a temporary directory,
        // removed afterwards): memory stays bounded and the proof can use both cores.
        const checkpointDir = o.checkpointDir ?? mkdtempSync(join(tmpdir(), 'vigil-vdf-solve-'));
        try {
          const record = await solve({
            group,
            seed,
            iterations,
            checkpointDir,
            signal: controller.signal,
            onProgress: (p) =>
              bar.update(
                p.done,
                p.total,
                `${p.phase} ${Math.round(p.rate)}/s eta ${formatDuration(p.etaSeconds)}`,
              ),
          });
          writeFileSync(o.out, encodeProofFile(record), { mode: 0o644 });
          bar.finish(`wrote ${o.out}`);
        } catch (err) {
          bar.finish();
          if (err instanceof VdfError)
            throw new CliExit(
              err.code === 'VDF_ABORTED' ? 130 : 1,
              `vigil vdf solve: ${err.message}`,
            );
          throw err;
        } finally {
          process.removeListener('SIGINT', onSigint);
          if (o.checkpointDir === undefined)
            rmSync(checkpointDir, { recursive: true, force: true });
        }
      },
    );

  vdf
    .command('from-chiavdf')
    .description(
      "turn chiavdf's output for a class1024 challenge (y ‖ π ‖ segments, as prove() returns " +
        'it) into a proof file, checked against the challenge',
    )
    .requiredOption('--challenge <file>', 'the challenge file (vigil recover --export-challenge)')
    .requiredOption(
      '--chiavdf-output <file>',
      "chiavdf's result: hex text (result.hex()) or the raw bytes",
    )
    .requiredOption('--out <file>', 'proof file to write')
    .action((o: { challenge: string; chiavdfOutput: string; out: string }) => {
      const challenge = readChallenge(o.challenge);
      const blob = readChiavdfOutput(o.chiavdfOutput);
      let record: ReturnType<typeof proofFromChiavdf>;
      try {
        record = proofFromChiavdf(challenge, blob);
      } catch (err) {
        if (err instanceof ClientError)
          throw new CliExit(1, `vigil vdf from-chiavdf: ${err.message}`);
        throw err;
      }
      writeFileSync(o.out, encodeProofFile(record), { mode: 0o644 });
      out(
        `valid: wrote ${o.out} (class1024, ${record.iterations} squarings, depth ${(record.proof.length - 100) / 141})`,
      );
    });

  vdf
    .command('verify')
    .description('verify a proof file: exit 0 valid, 1 invalid proof, 2 malformed file')
    .argument('<file>', 'proof file (JSON)')
    .action((file: string) => {
      let text: string;
      try {
        if (statSync(file).size > MAX_PROOF_FILE_BYTES)
          throw new CliExit(2, `malformed: ${file} is larger than ${MAX_PROOF_FILE_BYTES} bytes`);
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (err instanceof CliExit) throw err;
        throw new CliExit(
          2,
          `malformed: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      let record: ReturnType<typeof parseProofFile>;
      try {
        record = parseProofFile(text);
      } catch (err) {
        if (err instanceof VdfError)
          throw new CliExit(2, `malformed: ${err.message} (${err.code})`);
        throw err;
      }
      const outcome = verifyProof(record);
      if (outcome.valid) {
        out(`valid: ${record.group} proof of ${record.iterations} iterations`);
        return;
      }
      throw new CliExit(
        outcome.kind === 'invalid' ? 1 : 2,
        `${outcome.kind}: ${outcome.reason} (${outcome.code})`,
      );
    });

  vdf
    .command('calibrate')
    .description(
      'iterations T for a delay under each policy kind (strict: against the fastest known ' +
        'attacker; clock-gated: a typical desktop plus the quorum clock), with the attacker ' +
        'floor and the honest wait here and on reference machines',
    )
    .option('--group <group>', 'rsa2048 or class1024 (default: both)')
    .requiredOption('--delay <duration>', 'the delay, e.g. 7d, 12h, 90m, 3600')
    .option(
      '--attacker-rate <R>',
      'attacker squarings per second (default: FPGA 1.5e7 rsa2048, ASIC 714720 class1024)',
    )
    .option('--margin <A>', 'strict: safety factor on the attacker rate', String(STRICT_MARGIN))
    .option('--seconds <s>', 'time to measure this machine, per group', '2')
    .option('--json', 'print JSON')
    .action(
      (o: {
        group?: string;
        delay: string;
        attackerRate?: string;
        margin: string;
        seconds: string;
        json?: boolean;
      }) => {
        const delay = parseDelaySeconds(o.delay);
        if (delay === undefined)
          throw new CliExit(
            2,
            'vigil vdf calibrate: --delay must look like 7d, 12h, 90m, 30s or seconds',
          );
        const margin = positiveNumber('--margin', o.margin);
        const seconds = positiveNumber('--seconds', o.seconds);
        const given = groupOption(o.group, false);
        for (const group of given ? [given] : (['rsa2048', 'class1024'] as const)) {
          const attackerRate = o.attackerRate
            ? positiveNumber('--attacker-rate', o.attackerRate)
            : DEFAULT_ATTACKER_RATE[group];
          const iterations = calibrateIterations(delay, attackerRate, margin);
          if (iterations > MAX_ITERATIONS)
            throw new CliExit(
              2,
              `vigil vdf calibrate: T = ${iterations} exceeds the cap ${MAX_ITERATIONS}`,
            );
          const backend = fastestBackend(group);
          const here = { rate: measureSquaringsPerSecond(backend, seconds), backend: backend.name };
          const policies = POLICY_KINDS.map((kind) =>
            policyFigures(kind, group, delay, {
              attackerRate,
              here,
              ...(kind === 'strict' ? { iterations } : {}),
            }),
          );
          if (o.json) {
            // the strict figures stay at the top level (the shape before policy kinds)
            out(
              JSON.stringify({
                group,
                delaySeconds: delay,
                attackerRate,
                margin,
                iterations,
                backend: backend.name,
                honestRate: Math.round(here.rate),
                honestSeconds: Math.round(iterations / here.rate),
                policies,
              }),
            );
            continue;
          }
          out(
            `iterations T = ${iterations}  (${formatDuration(delay)} x ${attackerRate} sq/s attacker x margin ${margin})`,
          );
          for (const p of policies) for (const line of policyFiguresLines(p)) out(line);
        }
      },
    );
}
