import { execFile } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { KeyFileSealer } from './key-file-sealer.ts';

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

describe('KeyFileSealer (development storage key)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-keyfile-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 32-byte key with mode 0600 on first start and returns the same key later', async () => {
    const path = join(dir, 'storage.key');
    const first = await new KeyFileSealer({ path }).storageKey();
    expect(first.length).toBe(32);
    expect(first.some((b) => b !== 0)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(first))).toBe(true);
    const again = await new KeyFileSealer({ path }).storageKey();
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });

  it('two racing first starts agree on one key', async () => {
    const path = join(dir, 'race.key');
    const [a, b] = await Promise.all([
      new KeyFileSealer({ path }).storageKey(),
      new KeyFileSealer({ path }).storageKey(),
    ]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('processes starting at once agree on one key and never read a half-written file', async () => {
    const sealer = new URL('./key-file-sealer.ts', import.meta.url).href;
    // Every child waits for the same instant, so their creates and reads overlap.
    const code = `const { KeyFileSealer } = await import(${JSON.stringify(sealer)});
      const start = Number(process.argv[2]);
      while (Date.now() < start) {}
      const key = await new KeyFileSealer({ path: process.argv[1] }).storageKey();
      process.stdout.write(Buffer.from(key).toString('hex'));`;
    for (let round = 0; round < 4; round++) {
      const path = join(dir, `race-${round}.key`);
      const start = String(Date.now() + 1500);
      const keys = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<string>((resolve, reject) =>
              execFile(
                process.execPath,
                ['--import', 'tsx', '--input-type=module', '-e', code, path, start],
                (err, stdout, stderr) =>
                  err ? reject(new Error(stderr || err.message)) : resolve(stdout),
              ),
            ),
        ),
      );
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
    }
  }, 60_000);

  it('refuses looser permissions, wrong sizes, symlinks and directories', async () => {
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, Buffer.alloc(32, 1), { mode: 0o600 });
    chmodSync(loose, 0o640);
    expect(await codeOf(() => new KeyFileSealer({ path: loose }).storageKey())).toBe(
      'SEALER_KEY_FILE_PERMISSIONS',
    );
    chmodSync(loose, 0o604);
    expect(await codeOf(() => new KeyFileSealer({ path: loose }).storageKey())).toBe(
      'SEALER_KEY_FILE_PERMISSIONS',
    );
    chmodSync(loose, 0o400);
    expect(await codeOf(() => new KeyFileSealer({ path: loose }).storageKey())).toBe('ACCEPTED');

    for (const size of [0, 31, 33, 64]) {
      const path = join(dir, `size-${size}.key`);
      writeFileSync(path, Buffer.alloc(size, 2), { mode: 0o600 });
      expect(await codeOf(() => new KeyFileSealer({ path }).storageKey()), `size ${size}`).toBe(
        'SEALER_KEY_FILE_INVALID',
      );
    }
    const link = join(dir, 'link.key');
    symlinkSync(join(dir, 'storage.key'), link);
    expect(await codeOf(() => new KeyFileSealer({ path: link }).storageKey())).toBe(
      'SEALER_KEY_FILE_INVALID',
    );
    expect(await codeOf(() => new KeyFileSealer({ path: dir }).storageKey())).toBe(
      'SEALER_KEY_FILE_INVALID',
    );
  });

  it('uses the injected random source and never writes a short key', async () => {
    const path = join(dir, 'injected.key');
    const key = await new KeyFileSealer({
      path,
      random: (n) => new Uint8Array(n).fill(5),
    }).storageKey();
    expect(Buffer.from(key).equals(Buffer.alloc(32, 5))).toBe(true);
    const short = join(dir, 'short.key');
    expect(
      await codeOf(() =>
        new KeyFileSealer({ path: short, random: () => new Uint8Array(16) }).storageKey(),
      ),
    ).toBe('SEALER_KEY_FILE_INVALID');
    expect(await codeOf(() => new KeyFileSealer({ path: short }).storageKey())).toBe('ACCEPTED');
  });

  it('reports that it is insecure', () => {
    expect(new KeyFileSealer({ path: join(dir, 'x') }).insecure).toBe(true);
  });
});
