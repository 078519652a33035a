/** A yes/no question for a person at a terminal; never asked of a pipe, a log or a service. */
import { createInterface } from 'node:readline/promises';

/** True when the user answers yes; false for anything else or Ctrl-C; undefined with no terminal. */
export async function askYesNo(question: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C at the prompt is a no, not a prompt that hangs.
  const cancel = new AbortController();
  rl.on('SIGINT', () => cancel.abort());
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: cancel.signal });
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
