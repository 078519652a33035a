/** The local stack's child processes: the `vigil` CLI run again, its output watched and logged. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function spawnVigil(args: string[], log: (line: string) => void, label: string): Child {
  const child = spawn(process.execPath, [process.argv[1]!, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'warn' },
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const line of d.toString().split('\n')) if (line.trim()) log(`[${label}] ${line}`);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    process: child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((ok, fail) => {
        const check = () => {
          const m = text.match(pattern);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`${label}: no ${pattern} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiters.add(check);
        exited.then((code) => {
          if (!waiters.delete(check)) return;
          clearTimeout(timer);
          fail(new Error(`${label} exited (${code}) before it was ready`));
        });
        check();
      });
    },
  };
}
