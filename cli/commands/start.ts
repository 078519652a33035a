import type { Command } from 'commander';
import { CliExit } from '../exit.ts';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the local stack: a 3-node vault cluster and a cosigner')
    .action(() => {
      throw new CliExit(
        1,
        'vigil start: the local stack is not implemented yet (needs the vault cluster and the cosigner; see the open issues)',
      );
    });
}
