/**
 * Servers that accept a connection and never answer: every request the client makes has a
 * deadline, and the error names the server and says it did not answer.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWallet, networkCause, systemRandom, timedFetch } from '../client-lib/index.ts';

let silent: Server;
let url: string;
const held = new Set<Socket>();

beforeAll(async () => {
  // Reads nothing, answers nothing, closes nothing: a hung server or a black-holed proxy.
  silent = createServer((s) => {
    held.add(s);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => silent.close(r));
});

describe('deadlines on every request', () => {
  it('timedFetch gives up at its deadline with a TimeoutError', async () => {
    const started = performance.now();
    const err = await timedFetch(fetch, 300)(`${url}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('TimeoutError');
    expect(networkCause(err)).toBe('no answer within the time limit');
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('does the same where there is no DOMException or AbortSignal.any (React Native), with a caller signal', async () => {
    const g = globalThis as { DOMException?: unknown };
    const saved = { DOMException: g.DOMException, any: AbortSignal.any };
    delete g.DOMException;
    (AbortSignal as { any?: unknown }).any = undefined;
    try {
      const caller = new AbortController();
      const err = await timedFetch(fetch, 300)(`${url}/x`, { signal: caller.signal }).catch(
        (e: unknown) => e,
      );
      expect((err as Error).name).toBe('TimeoutError');
      expect(networkCause(err)).toBe('no answer within the time limit');
      const cancelled = new AbortController();
      const pending = timedFetch(fetch, 60_000)(`${url}/x`, { signal: cancelled.signal }).catch(
        (e: unknown) => e,
      );
      cancelled.abort(new Error('the caller gave up'));
      expect(((await pending) as Error).message).toBe('the caller gave up');
    } finally {
      g.DOMException = saved.DOMException;
      AbortSignal.any = saved.any;
    }
  });

  it('a cosigner that never answers is reported by URL, not waited on forever', async () => {
    const err = await createWallet({
      cosignerUrl: url,
      kind: 'musig2',
      policy: { group: 'rsa2048', iterations: 64 },
      attestation: { kind: 'insecure-dev', devKeys: [new Uint8Array(32)] },
      random: systemRandom,
      cosignerTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'COSIGNER_UNREACHABLE' });
    expect((err as Error).message).toBe(
      `cannot reach the cosigner at ${url} (no answer within the time limit) for registration`,
    );
  });
});
