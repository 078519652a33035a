import { describe, expect, it } from 'vitest';
import { buildProgram, main } from './main.ts';

describe('vigil CLI', () => {
  it('offers --help on every command', () => {
    const program = buildProgram();
    const walk = (cmd: typeof program): string[] => [
      cmd.name(),
      ...cmd.commands.flatMap((c) => walk(c as typeof program)),
    ];
    for (const name of walk(program)) expect(name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(program.helpInformation()).toContain('Usage: vigil');
  });

  it('exits 2 (usage) for an unknown command', async () => {
    const quiet = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect(await main(['node', 'vigil', 'no-such-command'])).toBe(2);
    } finally {
      process.stderr.write = quiet;
    }
  });
});
