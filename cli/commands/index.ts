import type { Command } from 'commander';
import { registerStartCommand } from './start.ts';

export function registerCommands(program: Command): void {
  registerStartCommand(program);
}
