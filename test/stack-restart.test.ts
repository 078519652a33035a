/**
 * The local stack as a user lives with it (real processes): `vigil start` prints the dev
 * attestation key and the pids; `vigil wallet create --stack` finds the cosigner, every vault
 * node and the key in the data folder, and shows a time lock in days before anything slow; after
 * Ctrl-C and `vigil start` again the vault answers at the same URLs, so the wallet's backup still
 * checks without any --vault. Each command that talks to the vault refreshes the wallet's nodes
 * from the cluster's membership, so a wallet that knew one node reaches the vault after that
 * node is killed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWallet } from '../client-lib/index.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-stack-restart-'));
const dataDir = join(dir, 'data');
const started: VigilProcess[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

async function startStack(): Promise<{ stack: VigilProcess; info: Record<string, unknown> }> {
  const stack = startVigil(['start', '--data-dir', dataDir, '--cosigner-port', '0']);
  started.push(stack);
  await stack.waitFor(/Stop with Ctrl-C/, 150_000);
  return { stack, info: JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) };
}

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startVigil(args, { VIGIL_WALLET_PASSWORD: 'correct horse' });
  started.push(p);
  return { code: await p.exited, output: p.output() };
}

/** `vigil wallet create` against the stack, with a cheap password hardening for the test. */
const createOnStack = (out: string, ...flags: string[]) =>
  run(['wallet', 'create', '--stack', dataDir, '--out', out, '--scrypt-log-n', '10', ...flags]);
const jsonLine = (output: string) =>
  JSON.parse(output.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;

describe('the local stack across a restart', () => {
  it('prints its key and pids, makes wallets with --stack, and keeps its vault URLs', async () => {
    const first = await startStack();
    const out = first.stack.output();
    expect(out).toContain(`dev attestation key  ${first.info.devAttestationKey}`);
    for (const slot of ['node-1', 'node-2', 'node-3']) {
      expect(out).toMatch(new RegExp(`vault ${slot} {2}http://127\\.0\\.0\\.1:\\d+ .*pid \\d+`));
    }
    expect(out).toContain(`pid ${first.info.cosignerPid}`);
    expect(out).toContain(`supervisor    pid ${first.info.supervisorPid}`);

    const walletPath = join(dir, 'alice.vigil');
    const created = await createOnStack(walletPath, '--scheme', 'musig2', '--iterations', '64');
    expect(created.code, created.output).toBe(0);
    expect(created.output).not.toMatch(/easy to guess/); // "correct horse" scores 3 of 4
    expect(created.output).not.toContain('correct horse');
    const wallet = await loadWallet(walletPath, 'correct horse');
    expect(wallet.vaultUrls).toEqual(first.info.vaultUrls);
    expect(wallet.vaultUrls).toHaveLength(3);

    // A wallet that knows one node only (made with a single --vault).
    const singlePath = join(dir, 'single.vigil');
    const single = await createOnStack(
      singlePath,
      '--vault',
      (first.info.vaultUrls as string[])[0]!,
      '--scheme',
      'musig2',
      '--iterations',
      '64',
    );
    expect(single.code, single.output).toBe(0);
    expect((await loadWallet(singlePath, 'correct horse')).vaultUrls).toHaveLength(1);

    // The stack offers both groups the README shows.
    const classGroup = await createOnStack(
      join(dir, 'class.vigil'),
      '--scheme',
      'musig2',
      '--group',
      'class1024',
      '--iterations',
      '64',
    );
    expect(classGroup.code, classGroup.output).toBe(0);

    // Issue 13's "7d" wallet: the wait is shown in days before anything slow, and the provider's
    // refusal says what it offers in time, not only in squarings.
    const week = await createOnStack(join(dir, 'week.vigil'), '--delay', '7d');
    expect(week.code, week.output).toBe(1);
    expect(week.output).toMatch(/fastest known attacker .*: at least 14\.0 days/);
    expect(week.output).toMatch(/honest wait on this machine .*: about [\d,.]+ days/);
    expect(week.output).toMatch(/honest wait on a typical desktop .*: about 291 days/);
    expect(week.output).toMatch(
      /COSIGNER_POLICY_REJECTED.*the provider offers rsa2048: 16 to 1,000,000,000 squarings = under a second to 1m 7s for the fastest known attacker/,
    );
    expect(week.output).not.toMatch(/safe primes/);

    first.stack.child.kill('SIGINT');
    expect(await first.stack.exited).toBe(0);

    const second = await startStack();
    expect(second.info.vaultUrls).toEqual(first.info.vaultUrls);
    const frontUrls = first.info.vaultUrls as string[];
    const status = await run(['wallet', 'backup-status', '--wallet', walletPath, '--json']);
    expect(status.code, status.output).toBe(0);
    expect(jsonLine(status.output)).toMatchObject({
      ok: true,
      released: false,
    });

    // Talking to the vault, a wallet learns the cluster's members (the nodes' own URLs, which
    // change with each start) and records each one that passes the backup check on its own.
    const nodeUrls = (second.info.nodes as { nodeUrl: string }[]).map((n) => n.nodeUrl);
    const learned = await run(['wallet', 'backup-status', '--wallet', singlePath, '--json']);
    expect(learned.code, learned.output).toBe(0);
    expect(new Set(jsonLine(learned.output).recordedVaultUrls as string[])).toEqual(
      new Set(nodeUrls),
    );
    const afterLearning = (await loadWallet(singlePath, 'correct horse')).vaultUrls;
    expect(new Set(afterLearning)).toEqual(new Set([frontUrls[0]!, ...nodeUrls]));
    expect(new Set(afterLearning.slice(0, 3))).toEqual(new Set(nodeUrls)); // members first

    // Pointed at the stack, backup-status checks each of its nodes and records them too.
    const refreshed = await run([
      'wallet',
      'backup-status',
      '--wallet',
      singlePath,
      '--stack',
      dataDir,
      '--json',
    ]);
    expect(refreshed.code, refreshed.output).toBe(0);
    const report = jsonLine(refreshed.output);
    expect(report.recordedVaultUrls).toEqual(frontUrls.slice(1));
    expect(new Set((await loadWallet(singlePath, 'correct horse')).vaultUrls)).toEqual(
      new Set([...frontUrls, ...nodeUrls]),
    );

    // The node the wallet was made with goes away: the wallet reaches the vault through the others.
    const node1 = (second.info.nodes as { pid: number }[])[0]!.pid;
    process.kill(node1, 'SIGKILL');
    const claim = await run(['claim', 'status', '--wallet', singlePath, '--json']);
    expect(claim.code, claim.output).toBe(0);
    expect(jsonLine(claim.output)).toMatchObject({ saved: false, vaultLiveClaim: false });
    second.stack.child.kill('SIGINT');
    expect(await second.stack.exited).toBe(0);
  }, 420_000);
});
