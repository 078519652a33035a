import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ClientError, type Fetch, VaultClient, watchClaim } from '../client-lib/index.ts';
import { repoRoot } from './support/processes.ts';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function scripted(replies: Array<(url: string) => Response | Error>) {
  const calls: string[] = [];
  const f = (async (input: string | URL | Request) => {
    const url = String(input);
    calls.push(url);
    const next = replies.shift();
    if (!next) throw new Error('no more replies');
    const r = next(url);
    if (r instanceof Error) throw r;
    return r;
  }) as Fetch;
  return { f, calls };
}

const nonce = { walletId: 'aa'.repeat(32), nonce: 'bb'.repeat(32), expiresAt: 1 };
const walletId = new Uint8Array(32).fill(0xaa);

describe('VaultClient', () => {
  it('fails over across nodes and retries rounds while the cluster elects a leader', async () => {
    const sleeps: number[] = [];
    const { f, calls } = scripted([
      () => new TypeError('connection refused'),
      () => json(503, { error: { code: 'NOT_LEADER', message: 'no leader is known; retry' } }),
      () => json(503, { error: { code: 'EPOCH_MISMATCH', message: 'retry' } }),
      () => json(200, nonce),
    ]);
    const v = new VaultClient(['http://a/', 'http://b'], {
      fetch: f,
      retryDelaysMs: [10, 20],
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(await v.claimNonce(walletId)).toEqual(new Uint8Array(32).fill(0xbb));
    expect(calls.map((c) => new URL(c).host)).toEqual(['a', 'b', 'a', 'b']);
    expect(sleeps).toEqual([10]);
  });

  it('does not retry a definite answer, and reports the vault code', async () => {
    const { f, calls } = scripted([
      () =>
        json(404, { error: { code: 'WALLET_NOT_FOUND', message: 'no deposit for this wallet' } }),
    ]);
    const v = new VaultClient(['http://a', 'http://b'], { fetch: f, sleep: async () => {} });
    const err = await v.claimNonce(walletId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'VAULT_ERROR', vaultCode: 'WALLET_NOT_FOUND', status: 404 });
    expect(calls).toHaveLength(1);
  });

  it('gives up after its rounds with VAULT_UNREACHABLE, and rejects malformed or huge answers', async () => {
    const refused = () => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
        code: 'ECONNREFUSED',
      });
      return new TypeError('fetch failed', { cause });
    };
    const down = scripted(Array.from({ length: 6 }, () => refused));
    const v = new VaultClient(['http://a', 'http://b'], {
      fetch: down.f,
      retryDelaysMs: [1, 1],
      sleep: async () => {},
    });
    const err = (await v.claimNonce(walletId).catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('VAULT_UNREACHABLE');
    // Each node is named with the reason fetch hid in its `cause`, not "fetch failed".
    expect(err.message).toBe(
      'cannot reach the vault at any of its nodes: http://a (connect ECONNREFUSED 127.0.0.1:1); ' +
        'http://b (connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect(down.calls).toHaveLength(6);

    const bad = scripted([() => json(200, { nonce: 'XYZ' })]);
    const v2 = new VaultClient(['http://a'], { fetch: bad.f });
    expect(await v2.claimNonce(walletId).catch((e: ClientError) => e.code)).toBe('VAULT_RESPONSE');
    const huge = scripted([() => json(200, { pad: 'x'.repeat(300 * 1024) })]);
    const v3 = new VaultClient(['http://a'], { fetch: huge.f });
    expect(await v3.claimNonce(walletId).catch((e: ClientError) => e.code)).toBe('VAULT_RESPONSE');
  });

  it('times out a request left hanging, so a process waiting on nothing else does not just exit', async () => {
    // A peer that accepts and drops the connection can leave fetch pending with no handle open;
    // with an unref'd timeout the child below exited with code 13 and printed nothing.
    const code = [
      "import { createServer } from 'node:net';",
      "import { VaultClient } from './client-lib/index.ts';",
      'const server = createServer((c) => c.destroy());',
      "await new Promise((r) => server.listen(0, '127.0.0.1', r));",
      'server.unref();',
      "const v = new VaultClient(['http://127.0.0.1:' + server.address().port], {",
      '  retryDelaysMs: [],',
      '  requestTimeoutMs: 500,',
      '});',
      'try { await v.claimNonce(new Uint8Array(32)); } catch (e) { console.log(e.code, e.message); }',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exit = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(exit, out).toBe(0);
    expect(out).toMatch(
      /VAULT_UNREACHABLE cannot reach the vault at http:\/\/127\.0\.0\.1:\d+ \((no answer within the time limit|read ECONNRESET|other side closed)\)/,
    );
  }, 30_000);
});

describe('a claim that outlived its lifetime (issue 11 item 3)', () => {
  const claim = (status: string) => ({
    claimId: 'cc'.repeat(32),
    walletId: 'aa'.repeat(32),
    ephemeralKey: 'dd'.repeat(32),
    group: 'rsa2048',
    iterations: 1000,
    seed: 'ee'.repeat(32),
    logIndex: 7,
    expiresAt: 604_800_000,
    releaseAfter: null,
    quorumTime: 0,
    releasableInSeconds: null,
    status,
    release: null,
  });

  it('reads as ended: the watch stops on `expired`, and an unknown status is refused', async () => {
    const live = scripted([() => json(200, claim('live')), () => json(200, claim('expired'))]);
    const vault = new VaultClient(['http://a'], { fetch: live.f });
    const ended = await new Promise<string>((resolve) => {
      watchClaim({
        vault,
        claimId: new Uint8Array(32).fill(0xcc),
        intervalMs: 1,
        events: { onEnded: resolve },
      });
    });
    expect(ended).toBe('expired');
    const odd = scripted([() => json(200, claim('forgotten'))]);
    const v2 = new VaultClient(['http://a'], { fetch: odd.f });
    const err = (await v2.getClaim(new Uint8Array(32)).catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('VAULT_RESPONSE');
  });
});
