import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCosignerConfig, startCosignerServer } from '../cosigner/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cosigner-kms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cosigner with the aws-kms sealer', () => {
  it('refuses to start outside a Nitro enclave, before touching KMS or the disk', async () => {
    const config = parseCosignerConfig(
      {
        dataDir: join(dir, 'c'),
        port: '0',
        vault: 'http://127.0.0.1:9',
        tenant: 'acme',
        sealer: 'aws-kms',
        kmsKeyId: 'alias/vigil-cosigner',
        pcr0: 'ab'.repeat(48),
      },
      { VIGIL_LOG_LEVEL: 'silent' },
    );
    await expect(startCosignerServer(config)).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
    });
  });
});
