/** `vigil start` (`npm start`): the local stack — a 3-node vault cluster and a cosigner. */
import type { Command } from 'commander';
import { CliExit } from '../exit.ts';
import { startStack } from '../stack.ts';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the local stack: a 3-node vault cluster and a cosigner (INSECURE dev attestation; data under ./data)',
    )
    .option('--data-dir <dir>', 'where the stack keeps its data', 'data')
    .option('--cosigner-port <port>', 'the cosigner API port', '7500')
    .option('--verbose', "show every process's log lines")
    .action(async (o: { dataDir: string; cosignerPort: string; verbose?: boolean }) => {
      const port = Number(o.cosignerPort);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new CliExit(2, 'vigil start: --cosigner-port must be a port number');
      }
      const important = /error|fail|exited|restart|recover|INSECURE/i;
      const log = (line: string) => {
        if (o.verbose || important.test(line)) process.stderr.write(`${line}\n`);
      };
      process.stdout.write('starting the local stack (3 vault nodes and a cosigner)…\n');
      let stack: Awaited<ReturnType<typeof startStack>>;
      try {
        stack = await startStack({ dataDir: o.dataDir, cosignerPort: port, log });
      } catch (err) {
        throw new CliExit(1, `vigil start: ${(err as Error).message}`);
      }
      const { info } = stack;
      process.stdout.write(
        [
          '',
          'Vigil local stack — INSECURE development attestation and key-file sealers: not for real funds',
          ...info.nodes.map(
            (n) => `  vault ${n.slot}  ${n.url}   (stable; the node: ${n.nodeUrl}, pid ${n.pid})`,
          ),
          `  cosigner      ${info.cosignerUrl}   (tenant ${info.tenant}, pinging every 2 s; pid ${info.cosignerPid})`,
          `  supervisor    pid ${info.supervisorPid} (vigil cluster start; restarts a node that dies)`,
          `  dev attestation key  ${info.devAttestationKey}`,
          '                (INSECURE: what a wallet made against this stack pins)',
          `  data          ${info.dataDir}`,
          '',
          `Create a wallet:  npx vigil wallet create --stack ${o.dataDir} --out alice.vigil --iterations 3000000`,
          `  (the same as --cosigner ${info.cosignerUrl} --dev-attestation-key <the key above>`,
          '   and a --vault for every node)',
          'Play the whole story against it:  npx vigil demo',
          'Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stdout.write('stopping the local stack…\n');
          stack.stop().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        stack.stopped.then(resolve, resolve);
      });
      process.stdout.write('stopped\n');
    });
}
