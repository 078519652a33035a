import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_DOCS_DIR, fetchApiDocuments, type OpenApi, renderApiDoc } from './api-reference.ts';

/** Routes whose success or error answers the OpenAPI document leaves without a body schema. */
function undocumented(doc: OpenApi): string[] {
  const gaps: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${path}`;
      const responses = op.responses ?? {};
      const withBody = (s: string) => responses[s]?.content?.['application/json']?.schema;
      const statuses = Object.keys(responses);
      const ok = statuses.filter((s) => s.startsWith('2'));
      const errors = statuses.filter((s) => Number(s) >= 400);
      if (ok.length === 0) gaps.push(`${route}: no success response`);
      for (const s of ok) if (!withBody(s)) gaps.push(`${route} ${s}: no body schema`);
      if (errors.length === 0) gaps.push(`${route}: no error responses`);
      for (const s of errors) if (!withBody(s)) gaps.push(`${route} ${s}: no body schema`);
      if (!errors.includes('429')) gaps.push(`${route}: 429 (the rate limit) not declared`);
      if (method === 'get' && errors.includes('413')) gaps.push(`${route}: 413 on a GET`);
      if (method === 'post' && !errors.includes('413')) gaps.push(`${route}: POST without 413`);
    }
  }
  return gaps;
}

describe('docs/api (generated from the OpenAPI documents)', () => {
  it('is up to date with what the servers serve at /docs/json (run `npm run docs:api`)', async () => {
    const docs = await fetchApiDocuments();
    expect(readFileSync(join(API_DOCS_DIR, 'vault.md'), 'utf8')).toBe(
      renderApiDoc('vault', docs.vault),
    );
    expect(readFileSync(join(API_DOCS_DIR, 'cosigner.md'), 'utf8')).toBe(
      renderApiDoc('cosigner', docs.cosigner),
    );
    expect(renderApiDoc('vault', docs.vault)).toContain('## POST `/v1/claims/{claimId}/solution`');
  }, 60_000);

  it('gives every route a body schema for its success and each error status', async () => {
    const docs = await fetchApiDocuments();
    expect(undocumented(docs.vault)).toEqual([]);
    expect(undocumented(docs.cosigner)).toEqual([]);
    // the check itself can fail
    const bare: OpenApi = {
      info: { title: 't' },
      paths: { '/x': { get: { responses: { '200': {}, '413': {} } } } },
    };
    expect(undocumented(bare)).toEqual([
      'GET /x 200: no body schema',
      'GET /x 413: no body schema',
      'GET /x: 429 (the rate limit) not declared',
      'GET /x: 413 on a GET',
    ]);
  }, 60_000);
});
