import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientError,
  DEFAULT_SCRYPT,
  loadClaimState,
  loadWallet,
  openEnvelope,
  readPassword,
  saveClaimState,
  saveWallet,
  sealEnvelope,
  systemRandom,
  type Wallet,
  walletToJson,
} from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';

const fast = { random: systemRandom, scrypt: { n: 2 ** 10, r: 8, p: 1 } };
const dir = mkdtempSync(join(tmpdir(), 'vigil-client-file-'));
let vault: LocalVault;
let wallet: Wallet;

beforeAll(async () => {
  vault = await startLocalVault();
  wallet = (await vault.deposit('additive')).wallet;
});
afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ACCEPTED';
  } catch (err) {
    return err instanceof ClientError ? err.code : `unexpected: ${String(err)}`;
  }
}

describe('wallet file', () => {
  it('round-trips every field, is private to the user and holds no plaintext secret', async () => {
    const path = join(dir, 'w1.vigil');
    await saveWallet(path, wallet, 'correct horse', fast);
    expect(walletToJson(await loadWallet(path, 'correct horse'))).toEqual(walletToJson(wallet));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(Buffer.from(wallet.x1).toString('hex'));
    expect(text).not.toContain(Buffer.from(wallet.q).toString('hex'));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps a clock-gated policy (kind and delay) and writes a strict one without a kind', async () => {
    const gated: Wallet = {
      ...wallet,
      policy: { ...wallet.policy, kind: 'clock-gated', delaySeconds: 604_800 },
    };
    const path = join(dir, 'w-gated.vigil');
    await saveWallet(path, gated, 'pw', fast);
    expect((await loadWallet(path, 'pw')).policy).toEqual(gated.policy);
    const strict: Wallet = { ...wallet, policy: { ...wallet.policy, kind: 'strict' } };
    expect(walletToJson(strict)).toEqual(walletToJson(wallet));
  });

  it('says so clearly on a wrong password', async () => {
    const path = join(dir, 'w2.vigil');
    await saveWallet(path, wallet, 'right', fast);
    const err = await loadWallet(path, 'wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('WALLET_PASSWORD');
    expect((err as ClientError).message).toMatch(/wrong password/);
  });

  it('rejects any modified byte of header or ciphertext', async () => {
    const path = join(dir, 'w3.vigil');
    await saveWallet(path, wallet, 'pw', fast);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const flip = (hex: string, at: number) =>
      hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
    const variants = [
      { ...json, ciphertext: flip(json.ciphertext, 10) },
      { ...json, ciphertext: flip(json.ciphertext, json.ciphertext.length - 1) },
      { ...json, kdf: { ...json.kdf, salt: flip(json.kdf.salt, 0) } },
      { ...json, cipher: { ...json.cipher, nonce: flip(json.cipher.nonce, 5) } },
      { ...json, kdf: { ...json.kdf, r: 7 } },
    ];
    for (const v of variants) {
      writeFileSync(path, JSON.stringify(v));
      expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_PASSWORD');
    }
    writeFileSync(path, JSON.stringify({ ...json, kind: 'claim' }));
    expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_FORMAT');
    writeFileSync(path, JSON.stringify({ ...json, extra: 1 }));
    expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_CORRUPT');
    writeFileSync(path, '{not json');
    expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_CORRUPT');
  });

  it('refuses hostile scrypt parameters before doing any work', async () => {
    const path = join(dir, 'w4.vigil');
    await saveWallet(path, wallet, 'pw', fast);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const hostile = [
      { n: 2 ** 30, r: 8, p: 1 },
      { n: 2 ** 20, r: 32, p: 1 },
      { n: 2 ** 17, r: 8, p: 16 },
      { n: 3000, r: 8, p: 1 },
      { n: 2 ** 4, r: 8, p: 1 },
      { n: 2 ** 14, r: 0, p: 1 },
      { n: '16384', r: 8, p: 1 },
    ];
    for (const params of hostile) {
      writeFileSync(path, JSON.stringify({ ...json, kdf: { ...json.kdf, ...params } }));
      const started = performance.now();
      expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_KDF_PARAMS');
      expect(performance.now() - started).toBeLessThan(200);
    }
    writeFileSync(path, ' '.repeat(2 * 1024 * 1024));
    expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_CORRUPT');
  });

  it('uses strong defaults for new files (128 MiB scrypt)', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ n: 2 ** 17, r: 8, p: 1 });
    const started = performance.now();
    const text = await sealEnvelope({
      kind: 'wallet',
      payload: { a: 1 },
      password: 'pw',
      random: systemRandom,
    });
    const sealMs = performance.now() - started;
    expect(JSON.parse(text).kdf).toMatchObject({ name: 'scrypt', n: 2 ** 17, r: 8, p: 1 });
    expect(await openEnvelope(text, 'wallet', 'pw')).toEqual({ a: 1 });
    process.stdout.write(`scrypt default parameters: seal took ${sealMs.toFixed(0)} ms\n`);
  }, 60_000);

  it('keeps the claim state encrypted, with the ephemeral secret never in plaintext', async () => {
    const path = join(dir, 'w5.claim');
    const secret = new Uint8Array(randomBytes(32));
    const state = {
      walletId: wallet.walletId,
      ephemeralSecretKey: secret,
      ephemeralKey: new Uint8Array(32).fill(9),
      claim: {
        claimId: new Uint8Array(32).fill(1),
        seed: new Uint8Array(32).fill(2),
        group: 'rsa2048' as const,
        iterations: 64,
        logIndex: 7,
      },
      release: null,
    };
    await saveClaimState(path, state, 'pw', fast);
    expect(readFileSync(path, 'utf8')).not.toContain(Buffer.from(secret).toString('hex'));
    expect(await loadClaimState(path, 'pw')).toEqual(state);
    expect(await codeOf(loadClaimState(path, 'nope'))).toBe('WALLET_PASSWORD');
    expect(await codeOf(loadWallet(path, 'pw'))).toBe('WALLET_FORMAT');
    expect(await loadClaimState(join(dir, 'absent.claim'), 'pw')).toBeUndefined();
  });
});

function fakeTty(typed: string[]) {
  const input = Object.assign(new EventEmitter(), {
    isTTY: true,
    raw: false,
    setRawMode(on: boolean) {
      input.raw = on;
      return input;
    },
    resume() {
      // One line per prompt, possibly split over several chunks.
      const emitNext = () => {
        const next = typed.shift();
        if (next === undefined) return;
        input.emit('data', next);
        if (!next.includes('\r')) setImmediate(emitNext);
      };
      setImmediate(emitNext);
      return input;
    },
    pause: () => input,
    setEncoding: () => input,
  });
  let shown = '';
  const output = {
    write: (t: string) => {
      shown += t;
      return true;
    },
  };
  return {
    input: input as unknown as NodeJS.ReadStream,
    output: output as unknown as NodeJS.WriteStream,
    shown: () => shown,
    raw: () => input.raw,
  };
}

describe('password sources', () => {
  it('reads the first line of a password file, then the environment', async () => {
    const f = join(dir, 'pw.txt');
    writeFileSync(f, 'from file\nsecond line\n');
    expect(await readPassword({ passwordFile: f, env: { VIGIL_WALLET_PASSWORD: 'env' } })).toBe(
      'from file',
    );
    expect(await readPassword({ env: { VIGIL_WALLET_PASSWORD: 'env' } })).toBe('env');
    writeFileSync(f, '\n');
    expect(await codeOf(readPassword({ passwordFile: f }))).toBe('PASSWORD_UNAVAILABLE');
    expect(await codeOf(readPassword({ passwordFile: join(dir, 'absent') }))).toBe(
      'PASSWORD_UNAVAILABLE',
    );
  });

  it('prompts without echo on a terminal, confirms a new password, and refuses without a source', async () => {
    const t = fakeTty(['s3cr', 'et\r']);
    const pw = await readPassword({ env: {}, input: t.input, output: t.output });
    expect(pw).toBe('s3cret');
    expect(t.shown()).not.toContain('s3cret');
    expect(t.raw()).toBe(false);
    const twice = fakeTty(['abc\r', 'abd\r']);
    expect(
      await codeOf(
        readPassword({ env: {}, input: twice.input, output: twice.output, confirm: true }),
      ),
    ).toBe('PASSWORD_UNAVAILABLE');
    const pipe = { isTTY: false } as unknown as NodeJS.ReadStream;
    expect(await codeOf(readPassword({ env: {}, input: pipe }))).toBe('PASSWORD_UNAVAILABLE');
  });
});
