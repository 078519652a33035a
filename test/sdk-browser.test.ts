/**
 * The client SDK in a real browser (issue 13, item 13): the SDK built as `build:sdk` builds it and
 * bundled for the browser, loaded by a page in headless Chromium (Debian's `chromium`, driven by
 * playwright-core), against a local stack of real processes (`vigil start`: three vault nodes
 * and a cosigner), whose cosigner is stopped once the wallet exists (a provider gone: its pings
 * would cancel the claim). The page verifies a wallet's backup, claims and watches the claim, and
 * exports the claim's challenge file; `vigil vdf solve --challenge` solves it outside the browser;
 * the page checks the proof file against its claim (and refuses a tampered one and one for
 * another challenge, sending nothing), submits it, opens the release and rebuilds the key, which
 * is checked here, outside the browser. Every request of the page to the
 * vault is cross-origin, under the vault's CORS rules (the local cluster allows localhost pages).
 *
 * Skipped, with the reason printed, where Chromium is absent (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkKeyIndependently, decodeWif, parseChallengeFile } from '../client-lib/index.ts';
import { parseHex, toHex } from '../vault/index.ts';
import { fetchJson } from './support/http.ts';
import { repoRoot, startVigil, type VigilProcess } from './support/processes.ts';
import { bundleForBrowser, compileSdk } from './support/sdk-build.ts';

const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `test/sdk-browser.test.ts skipped: no Chromium at ${CHROMIUM} ` +
      '(apt-get install chromium, as .ci/run does, or set VIGIL_CHROMIUM)',
  );
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-sdk-browser-'));
const started: VigilProcess[] = [];
let server: Server | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGINT');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The page's files: the SDK bundle, the app module, and a page that loads the app. */
async function buildSite(www: string): Promise<void> {
  mkdirSync(www, { recursive: true });
  const entry = await compileSdk(join(dir, 'dist'));
  await bundleForBrowser(entry, join(www, 'sdk.js'));
  writeFileSync(
    join(www, 'app.js'),
    readFileSync(join(repoRoot, 'test', 'support', 'sdk-browser-app.js')),
  );
  writeFileSync(
    join(www, 'index.html'),
    '<!doctype html><title>wallet</title><script type="module" src="/app.js"></script>',
  );
}

function serve(www: string): Promise<string> {
  const types: Record<string, string> = { html: 'text/html', js: 'text/javascript' };
  const site = createServer((req, res) => {
    const name = req.url === '/' ? 'index.html' : (req.url ?? '').slice(1);
    if (!/^[a-z.]+$/.test(name) || !existsSync(join(www, name))) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[name.split('.').pop() as string] ?? 'text/plain' });
    res.end(readFileSync(join(www, name)));
  });
  server = site;
  return new Promise((resolve) =>
    site.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(site.address() as { port: number }).port}`);
    }),
  );
}

async function run(args: string[], timeoutMs: number): Promise<string> {
  const p = startVigil(args);
  started.push(p);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  expect({ args: args.slice(0, 2), code, output: p.output() }).toMatchObject({ code: 0 });
  return p.output();
}

describe.skipIf(!haveChromium)('the client SDK in Chromium, against a local stack', () => {
  it('verifies the backup, claims, exports the challenge, checks and submits the proof the CLI made of it, and rebuilds the key in the page', async () => {
    const www = join(dir, 'www');
    const data = join(dir, 'data');
    const siteBuilt = buildSite(www);

    const stack = startVigil(['start', '--data-dir', data, '--cosigner-port', '0']);
    started.push(stack);
    await stack.waitFor(/Stop with Ctrl-C/, 180_000);
    const info = JSON.parse(readFileSync(join(data, 'stack.json'), 'utf8'));

    const password = 'correct horse battery staple 42';
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${password}\n`);
    const walletPath = join(dir, 'alice.vigil');
    const created = JSON.parse(
      (
        await run(
          [
            'wallet',
            'create',
            '--stack',
            data,
            '--out',
            walletPath,
            '--scheme',
            'musig2',
            '--iterations',
            '20000',
            '--password-file',
            passwordFile,
            '--scrypt-log-n',
            '10',
            '--json',
          ],
          180_000,
        )
      )
        .split('\n')
        .find((l) => l.startsWith('{')) as string,
    );
    const walletText = readFileSync(walletPath, 'utf8');

    // The provider goes away (its pings would cancel the claim): the stack says so.
    process.kill(info.cosignerPid, 'SIGTERM');
    await stack.waitFor(new RegExp(`the cosigner \\(pid ${info.cosignerPid}\\) exited`), 60_000);

    await siteBuilt;
    const origin = await serve(www);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Chromium's sandbox refuses to run as root (CI containers)
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as { vigilAppReady?: boolean }).vigilAppReady);

    type App = {
      backupAndClaim(a: unknown): Promise<{
        challengeFile: string;
        backup: { kind: string; insecure: boolean; tenant: string; released: boolean };
        claim: { claimId: string; group: string; iterations: number; seed: string };
        watched: string;
      }>;
      checkProof(
        a: unknown,
      ): Promise<{ accepted: boolean; ms?: number; code?: string; message?: string }>;
      finish(a: unknown): Promise<{ hex: string; wif: string; publicKey: string; waits: number[] }>;
    };
    const first = await page.evaluate(
      (a) => (globalThis as unknown as { vigilApp: App }).vigilApp.backupAndClaim(a),
      { walletText, password },
    );
    expect(first.backup).toEqual({
      kind: 'insecure-dev',
      insecure: true,
      tenant: info.tenant,
      released: false,
    });
    expect(first.watched).toBe('live');
    expect(first.claim).toMatchObject({ group: 'rsa2048', iterations: 20_000 });
    const onVault = await fetchJson(`${info.vaultUrls[0]}/v1/claims/${first.claim.claimId}`);
    expect(onVault.json.status).toBe('live');

    // The page's challenge file is the claim's, and the CLI's solver solves it outside the browser.
    const challenge = parseChallengeFile(first.challengeFile);
    expect(toHex(challenge.claimId)).toBe(first.claim.claimId);
    expect(toHex(challenge.seed)).toBe(first.claim.seed);
    expect(challenge.vault.urls.length).toBeGreaterThan(0);
    const challengePath = join(dir, 'challenge.json');
    writeFileSync(challengePath, first.challengeFile);
    const proofPath = join(dir, 'proof.json');
    await run(['vdf', 'solve', '--challenge', challengePath, '--out', proofPath], 120_000);
    const proofText = readFileSync(proofPath, 'utf8');
    const proof = JSON.parse(proofText);

    // The page checks a proof before it sends it: a tampered one and one for another challenge
    // are refused, say why, and leave the claim live; the CLI's is accepted.
    const checkInPage = (text: string) =>
      page.evaluate((a) => (globalThis as unknown as { vigilApp: App }).vigilApp.checkProof(a), {
        password,
        proofText: text,
      });
    const at = 100; // a nibble in the middle of π
    const flipped = `${proof.proof.slice(0, at)}${proof.proof[at] === '0' ? '1' : '0'}${proof.proof.slice(at + 1)}`;
    const tampered = await checkInPage(proofText.replace(proof.proof, flipped));
    expect(tampered).toMatchObject({ accepted: false, code: 'PROOF_INVALID' });
    expect(tampered.message).toMatch(/does not verify/);
    const otherT = proofText.replace(/"iterations": \d+/, '"iterations": 20001');
    const mismatch = await checkInPage(otherT);
    expect(mismatch).toMatchObject({ accepted: false, code: 'PROOF_MISMATCH' });
    expect(mismatch.message).toMatch(/another challenge .*20001 squarings.*20000 squarings/);
    expect(
      (await fetchJson(`${info.vaultUrls[0]}/v1/claims/${first.claim.claimId}`)).json.status,
    ).toBe('live');
    expect(await checkInPage(proofText)).toMatchObject({ accepted: true });

    const key = await page.evaluate(
      (a) => (globalThis as unknown as { vigilApp: App }).vigilApp.finish(a),
      { walletText, password, proofText },
    );

    // a strict wallet: submitUntilReleased released at once, with no wait
    expect(key.waits).toEqual([]);

    // The key, checked outside the browser: it is the wallet's, and it signs.
    const secretKey = parseHex('key', key.hex, 32);
    const q = parseHex('q', created.publicKey, 33);
    expect(toHex(secp256k1.getPublicKey(secretKey, true))).toBe(created.publicKey);
    expect(key.publicKey).toBe(created.publicKey);
    expect(toHex(decodeWif(key.wif))).toBe(key.hex);
    expect(checkKeyIndependently(secretKey, q)).toEqual({
      opensslEcdsa: true,
      nobleVerifiesOpenssl: true,
      bip340: true,
    });
    const released = await fetchJson(`${info.vaultUrls[0]}/v1/claims/${first.claim.claimId}`);
    expect(released.json.status).toBe('released');
    expect(pageErrors).toEqual([]);

    // The same request from a page of an origin the vault does not list is refused by the
    // browser (a data: page's origin is "null").
    const stranger = await browser.newPage();
    await stranger.goto('data:text/html,<title>elsewhere</title>');
    const refused = await stranger.evaluate(
      (url) =>
        fetch(`${url}/v1/attestation`).then(
          (r) => `read ${r.status}`,
          (e: Error) => `refused: ${e.name}`,
        ),
      info.vaultUrls[0] as string,
    );
    expect(refused).toBe('refused: TypeError');
  }, 600_000);
});
