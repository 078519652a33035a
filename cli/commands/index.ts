import type { Command } from 'commander';
import { registerStartCommand } from './start.ts';
import { registerVaultCommands } from './vault.ts';
import { registerVdfCommands } from './vdf.ts';

export function registerCommands(program: Command): void {
  registerStartCommand(program);
  registerVdfCommands(program);
  registerVaultCommands(program);
}
