import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { solve, verifyProof } from '../vdf/index.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('VDF solver survives SIGKILL', () => {
  it('resumes from disk checkpoints and yields the same y and π as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-vdf-kill-'));
    dirs.push(dir);
    const seedHex = 'a1b2c3';
    const T = 1_500_000;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'vdf-resume-child.ts'),
        dir,
        seedHex,
        String(T),
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_c, sig) => resolve(sig)),
    );
    // Kill as soon as the first checkpoint segment is on disk.
    const deadline = Date.now() + 20_000;
    while (!readdirSync(dir).some((n) => n.startsWith('seg-'))) {
      if (Date.now() > deadline) throw new Error('child wrote no checkpoint');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(dir, 'output.bin'))).toBe(false);

    let firstDone: number | undefined;
    const resumed = await solve({
      group: 'rsa2048',
      seed: Buffer.from(seedHex, 'hex'),
      iterations: T,
      checkpointDir: dir,
      onProgress: (p) => {
        if (p.phase === 'evaluate') firstDone ??= p.done;
      },
    });
    expect(firstDone).toBeGreaterThan(0);
    expect(firstDone).toBeLessThan(T);

    const straight = await solve({
      group: 'rsa2048',
      seed: Buffer.from(seedHex, 'hex'),
      iterations: T,
    });
    expect(resumed.output).toEqual(straight.output);
    expect(resumed.proof).toEqual(straight.proof);
    expect(verifyProof(resumed)).toEqual({ valid: true });
  }, 60_000);
});
