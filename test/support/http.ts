/** Small HTTP helpers for end-to-end tests against real servers on loopback. */

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the tests
export type Json = Record<string, any>;

export async function fetchJson(url: string, init?: RequestInit) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, json: (await res.json()) as Json };
}

export const postJson = (url: string, body: unknown) =>
  fetchJson(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
