import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeStatus } from '../vdf/index.ts';
import { runCli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-vdf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

describe('vigil vdf', () => {
  const file = join(dir, 'proof.json');

  it('solve writes a proof file that verify accepts (exit 0)', async () => {
    const solved = await run(
      'vdf',
      'solve',
      '--group',
      'rsa2048',
      '--seed',
      'c0ffee',
      '--iterations',
      '3000',
      '--out',
      file,
    );
    expect(solved.code).toBe(0);
    const obj = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(obj)).toEqual(['group', 'seed', 'iterations', 'input', 'output', 'proof']);
    const verified = await run('vdf', 'verify', file);
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.stdout).toContain('valid');
  });

  it('verify exits 1 for a wrong proof and 2 for a malformed file, with the reason', async () => {
    const obj = JSON.parse(readFileSync(file, 'utf8'));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ ...obj, iterations: obj.iterations + 1 }));
    const invalid = await run('vdf', 'verify', wrong);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/invalid: .*does not verify/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...obj, output: obj.output.slice(2) }));
    const malformed = await run('vdf', 'verify', bad);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/malformed: .*256 bytes/);
    expect((await run('vdf', 'verify', join(dir, 'missing.json'))).code).toBe(2);
    writeFileSync(bad, 'not json');
    expect((await run('vdf', 'verify', bad)).code).toBe(2);
  });

  it('bench --json prints one object per backend with the naive baseline', async () => {
    const r = await run('vdf', 'bench', '--group', 'rsa2048', '--seconds', '0.2', '--json');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The native backend (the solver's evaluation) is listed where the addon is built.
    const native = nativeStatus().available ? ['native'] : [];
    expect(rows.map((x) => x.backend)).toEqual([...native, 'openssl', 'bigint-naive']);
    for (const x of rows) {
      expect(x.group).toBe('rsa2048');
      expect(x.squaringsPerSecond).toBeGreaterThan(0);
    }
  });

  it('calibrate prints T and the honest wait; bad input exits 2', async () => {
    const r = await run(
      'vdf',
      'calibrate',
      '--group',
      'rsa2048',
      '--delay',
      '7d',
      '--seconds',
      '0.2',
      '--json',
    );
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.iterations).toBe(Math.ceil(7 * 86_400 * 1.5e7 * 2));
    expect(c.honestSeconds).toBeGreaterThan(0);
    // per policy kind: clock-gated takes T from a typical desktop (GMP, 721,000/s)
    const kinds = c.policies.map((p: { kind: string; iterations: number }) => [
      p.kind,
      p.iterations,
    ]);
    expect(kinds).toEqual([
      ['strict', c.iterations],
      ['clock-gated', 7 * 86_400 * 721_000],
    ]);
    const text = await run(
      'vdf',
      'calibrate',
      '--group',
      'rsa2048',
      '--delay',
      '1h',
      '--attacker-rate',
      '1000',
      '--margin',
      '3',
      '--seconds',
      '0.1',
    );
    expect(text.stdout).toContain('iterations T = 10800000');
    // with so slow an attacker the VDF, not the delay, sets the clock-gated floor
    expect(text.stdout).toContain('clock-gated rsa2048: T = 2,595,600,000 squarings');
    expect(text.stdout).toContain('attacker floor: 30.0 days; if a majority of enclave clocks lie');
    expect((await run('vdf', 'calibrate', '--group', 'rsa2048', '--delay', 'soon')).code).toBe(2);
    expect(
      (
        await run(
          'vdf',
          'solve',
          '--group',
          'rsa4096',
          '--seed',
          '00',
          '--iterations',
          '5',
          '--out',
          file,
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await run(
          'vdf',
          'solve',
          '--group',
          'rsa2048',
          '--seed',
          'xyz',
          '--iterations',
          '5',
          '--out',
          file,
        )
      ).code,
    ).toBe(2);
  });
});
