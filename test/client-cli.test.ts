import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWif, saveWallet, systemRandom, type Wallet } from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { encodePoint, Point } from '../vault/index.ts';
import { claimBeside } from './support/claims.ts';
import { runCli } from './support/cli.ts';
import { startVigil } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-client-cli-'));
const passwordFile = join(dir, 'password');
const fast = { random: systemRandom, scrypt: { n: 2 ** 10, r: 8, p: 1 } };
let vault: LocalVault;
let n = 0;

beforeAll(async () => {
  vault = await startLocalVault();
  writeFileSync(passwordFile, 'hunter22\n');
});
afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

async function walletFile(
  scheme: 'additive' | 'musig2' = 'additive',
  policy?: { group: 'rsa2048'; iterations: number },
  edit: (w: Wallet) => Wallet = (w) => w,
) {
  const { wallet } = await vault.deposit(scheme, policy);
  const path = join(dir, `w${++n}.vigil`);
  await saveWallet(path, edit(wallet), 'hunter22', fast);
  return { path, wallet };
}

const pointOf = (hex: string) => encodePoint(Point.BASE.multiply(BigInt(`0x${hex}`)));

describe('vigil wallet / recover / claim (in-process)', () => {
  it('has --help on every user command', async () => {
    for (const args of [
      ['wallet', '--help'],
      ['wallet', 'create', '--help'],
      ['wallet', 'address', '--help'],
      ['wallet', 'sign', '--help'],
      ['wallet', 'backup-status', '--help'],
      ['recover', '--help'],
      ['claim', 'status', '--help'],
    ]) {
      const r = await runCli(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: vigil/);
    }
    expect((await runCli('recover', '--help')).stdout).toMatch(/--checkpoint-dir/);
    expect((await runCli('recover', '--help')).stdout).not.toMatch(/--password <|--password=/);
  });

  it('prints addresses offline, and exits 2 on a wrong or missing password', async () => {
    const { path, wallet } = await walletFile();
    const r = await runCli(
      'wallet',
      'address',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
      '--json',
    );
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.publicKey).toBe(Buffer.from(wallet.q).toString('hex'));
    expect(a.bitcoin).toMatch(/^bc1q/);
    expect(a.ethereum).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const musig = await walletFile('musig2');
    const m = await runCli(
      'wallet',
      'address',
      '--wallet',
      musig.path,
      '--password-file',
      passwordFile,
      '--json',
    );
    expect(JSON.parse(m.stdout).bitcoin).toMatch(/^bc1p/);

    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'nope\n');
    const bad = await runCli('wallet', 'address', '--wallet', path, '--password-file', wrong);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/wrong password/);
    const saved = process.env.VIGIL_WALLET_PASSWORD;
    delete process.env.VIGIL_WALLET_PASSWORD;
    try {
      const none = await runCli('wallet', 'address', '--wallet', path);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/--password-file|VIGIL_WALLET_PASSWORD/);
      process.env.VIGIL_WALLET_PASSWORD = 'hunter22';
      expect((await runCli('wallet', 'address', '--wallet', path)).code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.VIGIL_WALLET_PASSWORD;
      else process.env.VIGIL_WALLET_PASSWORD = saved;
    }
  });

  it('backup-status exits 0 for a verified backup and 4 for a receipt that does not match', async () => {
    const good = await walletFile();
    const ok = await runCli(
      'wallet',
      'backup-status',
      '--wallet',
      good.path,
      '--password-file',
      passwordFile,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/backup verified/);
    expect(ok.stdout).toMatch(/INSECURE/);
    const other = await walletFile('additive', undefined, (w) => ({
      ...w,
      policy: { group: 'rsa2048', iterations: 999 },
    }));
    const bad = await runCli(
      'wallet',
      'backup-status',
      '--wallet',
      other.path,
      '--password-file',
      passwordFile,
    );
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/receipt/);
  });

  it('recovers the key, then again offline, and shows the claim status', async () => {
    const { path, wallet } = await walletFile();
    const r = await runCli('recover', '--wallet', path, '--password-file', passwordFile, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(pointOf(out.hex)).toEqual(wallet.q);
    expect(decodeWif(out.wif)).toEqual(new Uint8Array(Buffer.from(out.hex, 'hex')));
    expect(out.check).toEqual({ opensslEcdsa: true, nobleVerifiesOpenssl: true, bip340: true });

    const status = await runCli(
      'claim',
      'status',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
      '--json',
    );
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      saved: true,
      status: 'released',
      releaseStored: true,
    });

    const offlineStatus = await runCli(
      'claim',
      'status',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
      '--vault',
      'http://127.0.0.1:9',
    );
    expect(offlineStatus.code).toBe(0);
    expect(offlineStatus.stdout).toMatch(/released/);

    const again = await runCli(
      'recover',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
      '--vault',
      'http://127.0.0.1:9',
      '--json',
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).hex).toBe(out.hex);
    expect(again.stderr).toMatch(/offline/);
  });

  it('exits 3 with a clear message when a ping cancelled the claim, and --new-claim starts over', async () => {
    const { path, wallet } = await walletFile();
    await claimBeside(path, wallet, vault.url, 'hunter22');
    expect(await vault.ping()).toHaveLength(1);
    const r = await runCli('recover', '--wallet', path, '--password-file', passwordFile);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/proof of life/);
    expect(r.stderr).toMatch(/--new-claim/);
    const status = await runCli(
      'claim',
      'status',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
    );
    expect(status.stdout).toMatch(/cancelled/);
    const fresh = await runCli(
      'recover',
      '--wallet',
      path,
      '--password-file',
      passwordFile,
      '--new-claim',
      '--json',
    );
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(pointOf(JSON.parse(fresh.stdout).hex)).toEqual(wallet.q);
  });

  it('claim status says when a live clock-gated claim becomes releasable, in seconds from the vault', async () => {
    const { wallet } = await vault.deposit('additive', {
      group: 'rsa2048',
      iterations: 64,
      kind: 'clock-gated',
      delaySeconds: 600,
    });
    const path = join(dir, `w${++n}.vigil`);
    await saveWallet(path, wallet, 'hunter22', fast);
    await claimBeside(path, wallet, vault.url, 'hunter22');
    const status = (...extra: string[]) =>
      runCli('claim', 'status', '--wallet', path, '--password-file', passwordFile, ...extra);
    const json = await status('--json');
    expect(json.code, json.stderr).toBe(0);
    const seconds = JSON.parse(json.stdout).releasableInSeconds;
    expect(seconds).toBeGreaterThan(500);
    expect(seconds).toBeLessThanOrEqual(600);
    const text = await status();
    expect(text.stdout).toMatch(
      /clock-gated: releasable in (9|10)m \d+s on the vault cluster's clock/,
    );
    // a strict wallet's live claim has nothing to wait for
    const strict = await walletFile();
    await claimBeside(strict.path, strict.wallet, vault.url, 'hunter22');
    const plain = await runCli(
      'claim',
      'status',
      '--wallet',
      strict.path,
      '--password-file',
      passwordFile,
      '--json',
    );
    expect(JSON.parse(plain.stdout)).toMatchObject({ status: 'live', releasableInSeconds: null });
  });

  it('claim status without a saved claim exits 0; a missing wallet file exits 2', async () => {
    const { path } = await walletFile();
    const r = await runCli('claim', 'status', '--wallet', path, '--password-file', passwordFile);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no claim saved/);
    const missing = await runCli(
      'claim',
      'status',
      '--wallet',
      join(dir, 'absent'),
      '--password-file',
      passwordFile,
    );
    expect(missing.code).toBe(2);
  });
});

describe('usage errors (real processes)', () => {
  it('exit 2 and name the first real mistake: an unknown flag before a missing required one', async () => {
    const run = async (...args: string[]) => {
      const p = startVigil(args);
      return { code: await p.exited, output: p.output() };
    };
    const [misspelt, missing, unknownCommand, badValue, help] = await Promise.all([
      run('recover', '--walet', 'x'),
      run('claim', 'status'),
      run('no-such-command'),
      run('recover', '--wallet'),
      run('recover', '--help'),
    ]);
    expect(misspelt.code, misspelt.output).toBe(2);
    expect(misspelt.output).toMatch(/unknown option '--walet'/);
    expect(misspelt.output).toMatch(/Did you mean --wallet\?/);
    expect(misspelt.output).not.toMatch(/required option/);
    expect(missing.code, missing.output).toBe(2);
    expect(missing.output).toMatch(/required option '--wallet <file>' not specified/);
    expect(unknownCommand.code, unknownCommand.output).toBe(2);
    expect(unknownCommand.output).toMatch(/unknown command 'no-such-command'/);
    expect(badValue.code, badValue.output).toBe(2);
    expect(badValue.output).toMatch(/argument missing/);
    expect(help.code, help.output).toBe(0);
  }, 60_000);
});

describe('vigil recover as a real process', () => {
  it('survives SIGKILL mid-solve and resumes from the checkpoints to the right key', async () => {
    const { path, wallet } = await walletFile('additive', {
      group: 'rsa2048',
      iterations: 1_500_000,
    });
    const env = { VIGIL_WALLET_PASSWORD: 'hunter22' };
    const first = startVigil(['recover', '--wallet', path, '--json'], env);
    await first.waitFor(/claim [0-9a-f]{64} live/, 20_000);
    const vdfDir = `${path}.vdf`;
    const deadline = Date.now() + 20_000;
    const segments = () => {
      try {
        return readdirSync(vdfDir)
          .flatMap((c) => readdirSync(join(vdfDir, c)))
          .filter((f) => f.startsWith('seg-'));
      } catch {
        return [];
      }
    };
    while (segments().length === 0) {
      if (Date.now() > deadline) throw new Error(`no checkpoint written:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.output()).not.toMatch(/"hex"/);

    const second = startVigil(['recover', '--wallet', path, '--json'], env);
    const code = await second.exited;
    expect(code, second.output()).toBe(0);
    expect(second.output()).not.toMatch(/claim sent/); // the saved claim was resumed, not re-sent
    expect(second.output()).toMatch(/resuming the saved claim [0-9a-f]{64}/);
    expect(second.output()).toMatch(
      /resuming from \d+\.\d% \([1-9]\d* of 1500000 squarings already done\)/,
    );
    const line = second
      .output()
      .split('\n')
      .find((l) => l.startsWith('{'));
    expect(pointOf(JSON.parse(line as string).hex)).toEqual(wallet.q);
    // Recovered: the solver's checkpoints are gone, and the user is told.
    expect(second.output()).toMatch(/removed the solver's checkpoints/);
    expect(existsSync(vdfDir)).toBe(false);
  }, 60_000);
});
