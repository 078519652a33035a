/**
 * `npm start` and `vigil demo` as a person runs them: real processes, the local stack up with
 * its URLs printed, the demo's whole story ending in exit 0 twice (it stops only the provider it
 * started), a cosigner that dies reported by the stack, and a clean stop on SIGINT.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../cli/signals.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-stack-'));
const started: VigilProcess[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('the local stack and the demo', () => {
  it('vigil start runs 3 vault nodes and a cosigner; vigil demo plays the story; Ctrl-C stops it all', async () => {
    const dataDir = join(dir, 'data');
    const stack = startVigil(['start', '--data-dir', dataDir, '--cosigner-port', '0']);
    started.push(stack);
    await stack.waitFor(/Stop with Ctrl-C/, 150_000);
    expect(stack.output()).toMatch(/vault node-3 {2}http:\/\/127\.0\.0\.1:\d+/);
    const info = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
    expect(info.vaultUrls).toHaveLength(3);
    const health = await fetch(`${info.vaultUrls[0]}/healthz`);
    expect(health.status).toBe(200);

    const demo = startVigil(['demo', '--data-dir', dataDir, '--iterations', '400000']);
    started.push(demo);
    const code = await demo.exited;
    expect({ code, output: demo.output() }).toMatchObject({ code: 0 });
    expect(demo.output()).toMatch(/\[7\/7\][\s\S]*The whole story worked/);
    // The demo stopped its own provider, not the stack's: the stack's cosigner still runs, and a
    // second demo works too.
    expect(isProcessAlive(info.cosignerPid)).toBe(true);
    const again = startVigil(['demo', '--data-dir', dataDir, '--iterations', '400000']);
    started.push(again);
    expect({ code: await again.exited, output: again.output() }).toMatchObject({ code: 0 });
    expect(isProcessAlive(info.cosignerPid)).toBe(true);

    // A child of the stack that dies is reported in the stack's window.
    process.kill(info.cosignerPid, 'SIGKILL');
    await stack.waitFor(new RegExp(`the cosigner \\(pid ${info.cosignerPid}\\) exited`), 30_000);

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    expect(isProcessAlive(info.supervisorPid)).toBe(false);
  }, 300_000);
});
