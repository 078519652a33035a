import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVaultConfig } from './config.ts';
import { startVaultServer } from './serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil vault start', () => {
  it('refuses to start without --insecure-dev-attestation outside a Nitro enclave', async () => {
    const config = parseVaultConfig({ dataDir: join(dir, 'v'), port: '0' }, {});
    await expect(startVaultServer(config)).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
    });
  });

  it('reports every configuration problem at once', () => {
    expect(() =>
      parseVaultConfig({ port: 'x', operatorKey: 'zz', sealer: 'cloud', logLevel: 'loud' }, {}),
    ).toThrow(/port[\s\S]*operator key[\s\S]*sealer[\s\S]*log level/);
  });
});
