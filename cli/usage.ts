/**
 * Usage errors, the way docs/client.md promises them: exit code 2, and the first real mistake
 * named. Commander exits 1 for every usage error, and checks required options before unknown
 * ones, so `vigil recover --walet x` would say "required option '--wallet <file>' not specified"
 * when the user's mistake is the misspelt flag.
 */
import { type Command, CommanderError, type Option } from 'commander';

export const USAGE_EXIT = 2;

/**
 * Takes the "required" mark off every option of every command and checks those options in a
 * preAction hook instead, which commander runs after it has rejected unknown options and bad
 * arguments: the same message and code, in the right order.
 */
export function checkRequiredOptionsLast(program: Command): void {
  const required = new Map<Command, Option[]>();
  const walk = (cmd: Command) => {
    const options = cmd.options.filter((o) => o.mandatory);
    if (options.length > 0) {
      for (const o of options) o.makeOptionMandatory(false);
      required.set(cmd, options);
    }
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
  program.hook('preAction', (_root, action) => {
    for (const o of required.get(action) ?? []) {
      if (action.getOptionValue(o.attributeName()) === undefined) {
        action.error(`error: required option '${o.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
          exitCode: USAGE_EXIT,
        });
      }
    }
  });
}

/** The process exit code for an error commander threw: 0 for --help and --version, else 2. */
export function commanderExitCode(err: CommanderError): number {
  return err.exitCode === 0 ? 0 : USAGE_EXIT;
}

export { CommanderError };
