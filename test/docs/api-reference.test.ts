import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_DOCS_DIR, fetchApiDocuments, renderOpenApi } from './api-reference.ts';

describe('docs/api (generated from the OpenAPI documents)', () => {
  it('is up to date with what the servers serve at /docs/json (run `npm run docs:api`)', async () => {
    const docs = await fetchApiDocuments();
    expect(readFileSync(join(API_DOCS_DIR, 'vault.md'), 'utf8')).toBe(renderOpenApi(docs.vault));
    expect(readFileSync(join(API_DOCS_DIR, 'cosigner.md'), 'utf8')).toBe(
      renderOpenApi(docs.cosigner),
    );
    expect(renderOpenApi(docs.vault)).toContain('## POST `/v1/claims/{claimId}/solution`');
  }, 60_000);
});
