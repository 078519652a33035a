/** `vigil demo`: the whole story against the local stack (or a temporary one). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../demo.ts';
import { CliExit } from '../exit.ts';
import { type RunningStack, readStack, startStack } from '../stack.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'play the whole story: create a wallet, deposit, pings, stop the cosigner, recover, sign with the recovered key',
    )
    .option('--data-dir <dir>', 'the data directory of a running `vigil start`', 'data')
    .option('--iterations <n>', 'VDF squarings of the demo time lock (rsa2048)', '3000000')
    .action(async (o: { dataDir: string; iterations: string }) => {
      const iterations = Number(o.iterations);
      if (!Number.isSafeInteger(iterations) || iterations < 16) {
        throw new CliExit(2, 'vigil demo: --iterations must be an integer of at least 16');
      }
      const say = (line: string) => process.stdout.write(`${line}\n`);
      let stack = await readStack(o.dataDir);
      let own: RunningStack | undefined;
      let ownDir: string | undefined;
      try {
        if (!stack) {
          say('no running `vigil start` found: starting a temporary local stack for the demo…');
          ownDir = await mkdtemp(join(tmpdir(), 'vigil-demo-stack-'));
          own = await startStack({ dataDir: ownDir, cosignerPort: 0, log: () => {} });
          stack = own.info;
        } else {
          say(`using the local stack in ${stack.dataDir} (its cosigner will be stopped by step 5)`);
        }
        await runDemo({ stack, iterations, say });
      } catch (err) {
        throw new CliExit(1, `\nvigil demo FAILED: ${(err as Error).message}`);
      } finally {
        await own?.stop();
        if (ownDir) await rm(ownDir, { recursive: true, force: true });
      }
    });
}
