/**
 * Checks answers a server really gave against its own OpenAPI document: each status must be
 * declared by its route, and each body must fit the schema declared for that status.
 */
import { type SchemaNode, schemaProblems } from './schema-check.ts';

export interface Seen {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema?: SchemaNode }> }> }
    >
  >;
}

/**
 * A fetch that records every /v1 answer of the server `only` accepts (default: any), without
 * following redirects, so a 307 is seen; other requests pass through untouched.
 */
export function recordingFetch(
  seen: Seen[],
  base: typeof fetch = globalThis.fetch,
  only: (url: URL) => boolean = () => true,
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    if (!only(url)) return base(input, init);
    const res = await base(input, { ...init, redirect: 'manual' });
    if (url.pathname.startsWith('/v1/')) {
      const text = await res.clone().text();
      seen.push({
        method: (init?.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        status: res.status,
        body: text ? JSON.parse(text) : undefined,
      });
    }
    return res;
  }) as typeof fetch;
}

/** The answers that break the document, and the statuses seen per route (`METHOD /template`). */
export function checkAgainst(
  doc: OpenApiDoc,
  seen: readonly Seen[],
): { problems: string[]; statuses: (route: string) => number[] } {
  const routes = Object.entries(doc.paths).flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${template}`,
      method: method.toUpperCase(),
      match: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      responses: op.responses,
    })),
  );
  const observed = new Map<string, Set<number>>();
  const problems: string[] = [];
  for (const s of seen) {
    const route = routes.find((r) => r.method === s.method && r.match.test(s.path));
    if (!route) {
      problems.push(`${s.method} ${s.path}: no such route in the document`);
      continue;
    }
    if (!observed.has(route.key)) observed.set(route.key, new Set());
    observed.get(route.key)!.add(s.status);
    const declared = route.responses[String(s.status)];
    if (!declared) {
      problems.push(`${route.key}: answered ${s.status}, which it does not declare`);
      continue;
    }
    const schema = declared.content?.['application/json']?.schema;
    if (schema) {
      for (const p of schemaProblems(schema, s.body))
        problems.push(`${route.key} ${s.status} ${p}`);
    }
  }
  return { problems, statuses: (route) => [...(observed.get(route) ?? [])].sort() };
}
