/**
 * `vigil recover` as a real process watching its claim against a real vault node: a cluster
 * restart mid-solve voids the claim and the solve stops (exit 3), or with --new-claim a new claim
 * takes over; a vault that cannot be reached does not stop the solve, and the user is told.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveWallet, systemRandom, VaultClient, type Wallet } from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { encodePoint, Point } from '../vault/index.ts';
import { claimBeside } from './support/claims.ts';
import { type PausableProxy, startPausableProxy } from './support/pausable-proxy.ts';
import { repoRoot, startVigil, type VigilProcess } from './support/processes.ts';
import { until } from './support/until.ts';

/** util-linux `script` gives the child a pseudo-terminal; without it the terminal test skips. */
const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('skipping the terminal test: util-linux `script` is not installed');

const dir = mkdtempSync(join(tmpdir(), 'vigil-recover-watch-'));
const env = { VIGIL_WALLET_PASSWORD: 'hunter22' };
let vault: LocalVault;
let proxy: PausableProxy;
let n = 0;

beforeAll(async () => {
  vault = await startLocalVault({ maxIterations: 200_000_000 });
  proxy = await startPausableProxy(vault.url);
});
afterAll(async () => {
  await proxy.close();
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

async function walletFile(iterations: number, edit: (w: Wallet) => Wallet = (w) => w) {
  const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations });
  const path = join(dir, `w${++n}.vigil`);
  await saveWallet(path, edit(wallet), 'hunter22', {
    random: systemRandom,
    scrypt: { n: 2 ** 10, r: 8, p: 1 },
  });
  return { path, wallet };
}

const keyLine = (output: string) =>
  JSON.parse(output.split('\n').find((l) => l.startsWith('{')) as string) as { hex: string };
/** After an outage: the vault is said to answer again, and the recovered key is the wallet's. */
async function recoversOnceBack(child: VigilProcess, wallet: Wallet): Promise<void> {
  await child.waitFor(/the vault answers again/, 30_000);
  const code = await child.exited;
  expect(code, child.output()).toBe(0);
  expect(pointOf(keyLine(child.output()).hex)).toEqual(wallet.q);
}

const pointOf = (hex: string) => encodePoint(Point.BASE.multiply(BigInt(`0x${hex}`)));

describe('vigil recover watches its claim (real process, real vault node)', () => {
  it('stops with exit 3 and says so when a vault restart voids the claim mid-solve', async () => {
    // 10^8 squarings: over a minute even on a fast machine, so only the watch can end it early.
    const { path } = await walletFile(100_000_000);
    const child = startVigil(['recover', '--wallet', path, '--watch-seconds', '0.2'], env);
    await child.waitFor(/claim [0-9a-f]{64} live/, 30_000);
    await vault.restart();
    const code = await child.exited;
    expect(code, child.output()).toBe(3);
    expect(child.output()).toMatch(/vault cluster restarted/);
    expect(child.output()).toMatch(/vigil recover --new-claim/);
  }, 60_000);

  it('with --new-claim, replaces a claim voided mid-solve and recovers the key', async () => {
    const { path, wallet } = await walletFile(2_000_000);
    const child = startVigil(
      ['recover', '--wallet', path, '--watch-seconds', '0.2', '--new-claim', '--json'],
      env,
    );
    const first = await child.waitFor(/claim ([0-9a-f]{64}) live/, 30_000);
    await vault.restart();
    await child.waitFor(/voided by a vault cluster restart; starting a new claim/, 30_000);
    const code = await child.exited;
    expect(code, child.output()).toBe(0);
    const ids = [...child.output().matchAll(/claim ([0-9a-f]{64}) live/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    expect(ids[1]).not.toBe(first[1]);
    expect(pointOf(keyLine(child.output()).hex)).toEqual(wallet.q);
  }, 90_000);

  it('keeps solving while the vault is unreachable, says so, and finishes once it is back', async () => {
    const { path, wallet } = await walletFile(4_000_000, (w) => ({ ...w, vaultUrls: [proxy.url] }));
    const child = startVigil(
      ['recover', '--wallet', path, '--watch-seconds', '0.2', '--json'],
      env,
    );
    await child.waitFor(/claim [0-9a-f]{64} live/, 30_000);
    await proxy.down();
    try {
      await child.waitFor(
        /cannot reach the vault at http:\/\/127\.0\.0\.1:\d+ \([^)]+\); still solving/,
        30_000,
      );
    } finally {
      await proxy.up();
    }
    await recoversOnceBack(child, wallet);
  }, 90_000);

  it('resumes a saved claim while the vault is away from the start, and submits once it is back', async () => {
    const { path, wallet } = await walletFile(4_000_000, (w) => ({ ...w, vaultUrls: [proxy.url] }));
    // The claim was sent in an earlier run; this run starts with the network already gone.
    await claimBeside(path, wallet, vault.url, 'hunter22');
    await proxy.down();
    const child = startVigil(
      ['recover', '--wallet', path, '--watch-seconds', '0.2', '--json'],
      env,
    );
    try {
      await child.waitFor(/resuming the saved claim [0-9a-f]{64}/, 30_000);
      await child.waitFor(/cannot reach the vault at .*; still solving/, 30_000);
    } finally {
      await proxy.up();
    }
    await recoversOnceBack(child, wallet);
  }, 90_000);

  it.skipIf(!hasScript)(
    'at a terminal, offers a new claim when the claim is voided, and starts it once accepted',
    async () => {
      const { path, wallet } = await walletFile(100_000_000);
      // A real pseudo-terminal (util-linux `script`), so the prompt is what a person sees.
      const command = [process.execPath, join(repoRoot, 'bin', 'vigil.mjs')]
        .concat(['recover', '--wallet', path, '--watch-seconds', '0.2'])
        .map((a) => `'${a}'`)
        .join(' ');
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await until(() => /claim [0-9a-f]{64} live/.test(output), 30_000, 'the claim');
        const first = output.match(/claim ([0-9a-f]{64}) live/)![1];
        await vault.restart();
        await until(() => /Start a new claim now\? \[y\/N\]/.test(output), 30_000, 'the offer');
        expect(output).toMatch(/vault cluster restarted/);
        // The new claim has the same 10^8 squarings: take it, see it go live, then stop there.
        child.stdin.write('y\n');
        await until(
          () => [...output.matchAll(/claim ([0-9a-f]{64}) live/g)].length === 2,
          30_000,
          'a second claim',
        );
        const ids = [...output.matchAll(/claim ([0-9a-f]{64}) live/g)].map((m) => m[1]);
        expect(ids[1]).not.toBe(first);
        const { claimId } = await new VaultClient([vault.url])
          .wallet(wallet.walletId)
          .then((w) => ({
            claimId: w.liveClaim && Buffer.from(w.liveClaim.claimId).toString('hex'),
          }));
        expect(claimId).toBe(ids[1]);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    },
    90_000,
  );
});
