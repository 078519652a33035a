import { Command } from 'commander';
import { isNetworkFailure, networkCause } from '../client-lib/index.ts';
import { registerCommands } from './commands/index.ts';
import { CliExit } from './exit.ts';
import { CommanderError, checkRequiredOptionsLast, commanderExitCode } from './usage.ts';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: time-locked recovery for 2-of-2 MPC wallets')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  checkRequiredOptionsLast(program);
  return program;
}

/** Runs the CLI and returns the process exit code; never calls process.exit itself. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      return err.code;
    }
    if (err instanceof CommanderError) return commanderExitCode(err);
    // An error no command turned into words: at least say what fetch() hid in its cause.
    const text = err instanceof Error ? err.message : String(err);
    const why = isNetworkFailure(err) ? ` (${networkCause(err)})` : '';
    process.stderr.write(`vigil: ${text}${why}\n`);
    return 1;
  }
}
