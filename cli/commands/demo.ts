/** `vigil demo`: the whole story against the local stack (or a temporary one). */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../demo.ts';
import { CliExit } from '../exit.ts';
import { type Provider, startProvider } from '../provider.ts';
import { type RunningStack, readOperatorKey, readStack, startStack } from '../stack.ts';

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
      let provider: Provider | undefined;
      let providerDir: string | undefined;
      try {
        if (!stack) {
          say('no running `vigil start` found: starting a temporary local stack for the demo…');
          ownDir = await mkdtemp(join(tmpdir(), 'vigil-demo-stack-'));
          own = await startStack({ dataDir: ownDir, cosignerPort: 0, log: () => {} });
          stack = own.info;
        } else {
          say(`using the local stack in ${stack.dataDir}`);
        }
        // The story stops "the provider"; it must be one the demo owns, never the stack's cosigner.
        const tenant = `demo-${randomBytes(4).toString('hex')}`;
        say(`starting the demo's own wallet provider (a cosigner, tenant ${tenant})…`);
        providerDir = await mkdtemp(join(tmpdir(), 'vigil-demo-provider-'));
        provider = await startProvider({
          dataDir: providerDir,
          port: 0,
          vaultUrls: stack.vaultUrls,
          tenant,
          devAttestationKey: stack.devAttestationKey,
          operatorSecret: await readOperatorKey(stack.dataDir),
          log: () => {},
          label: 'demo cosigner',
        });
        await runDemo({
          stack,
          provider: { url: provider.url, pid: provider.child.process.pid! },
          iterations,
          say,
        });
      } catch (err) {
        throw new CliExit(1, `\nvigil demo FAILED: ${(err as Error).message}`);
      } finally {
        if (provider && provider.child.process.exitCode === null) {
          provider.child.process.kill('SIGKILL');
          await provider.child.exited;
        }
        if (providerDir) await rm(providerDir, { recursive: true, force: true });
        await own?.stop();
        if (ownDir) await rm(ownDir, { recursive: true, force: true });
      }
    });
}
