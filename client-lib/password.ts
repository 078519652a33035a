/**
 * Where a password comes from, for the CLI and for apps that want the same rules: a file
 * (`--password-file`), the `VIGIL_WALLET_PASSWORD` environment variable, or a prompt without echo
 * on a terminal. Never a plain command-line value: those end up in shell history and `ps`.
 */
import { readFile } from 'node:fs/promises';
import { ClientError } from './errors.ts';

export const PASSWORD_ENV = 'VIGIL_WALLET_PASSWORD';
const MAX_PASSWORD_FILE_BYTES = 4096;

export async function readPassword(opts: {
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
  prompt?: string;
  /** On a terminal, ask twice (for a new password). */
  confirm?: boolean;
}): Promise<string> {
  if (opts.passwordFile) {
    let text: string;
    try {
      const bytes = await readFile(opts.passwordFile);
      if (bytes.length > MAX_PASSWORD_FILE_BYTES) throw new Error('file too large');
      text = bytes.toString('utf8');
    } catch (err) {
      throw new ClientError(
        'PASSWORD_UNAVAILABLE',
        `cannot read the password file ${opts.passwordFile}: ${(err as Error).message}`,
      );
    }
    const first = text.split(/\r?\n/, 1)[0] ?? '';
    if (first.length === 0)
      throw new ClientError('PASSWORD_UNAVAILABLE', 'the password file is empty');
    return first;
  }
  const fromEnv = (opts.env ?? process.env)[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (!input.isTTY) {
    throw new ClientError(
      'PASSWORD_UNAVAILABLE',
      `no password: use a terminal, --password-file FILE or ${PASSWORD_ENV}`,
    );
  }
  const first = await promptHidden(input, output, opts.prompt ?? 'Wallet password: ');
  if (first.length === 0) throw new ClientError('PASSWORD_UNAVAILABLE', 'the password is empty');
  if (opts.confirm) {
    const again = await promptHidden(input, output, 'Repeat the password: ');
    if (again !== first) throw new ClientError('PASSWORD_UNAVAILABLE', 'the passwords differ');
  }
  return first;
}

function promptHidden(
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  prompt: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    let value = '';
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new ClientError('PASSWORD_UNAVAILABLE', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
