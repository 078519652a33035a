/**
 * The client SDK as built (`npm run build:sdk`): JavaScript and declarations where package.json's
 * `vigil/sdk` export points; a browser bundle of it that reaches no server, storage, Raft, solver
 * or Node-only module and no package but noble, scure and cborg; and that bundle running where
 * there is no Node at all (no process, Buffer or require), giving the answers the Node build does.
 * The Chromium end-to-end run is test/sdk-browser.test.ts.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createContext, runInContext } from 'node:vm';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  challengeFor,
  encodeChallengeFile,
  exportPrivateKey,
  verifierFor,
  walletAddresses,
} from '../client-lib/index.ts';
import { loadNitroSamples } from '../vault/enclave/nitro-vectors.test-support.ts';
import type { VaultError } from '../vault/index.ts';
import { encodeProofFile, solve } from '../vdf/index.ts';
import { repoRoot } from './support/processes.ts';
import { bundleForBrowser, compileSdk, forbiddenInputs } from './support/sdk-build.ts';
import { haveVectors } from './support/vectors.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sdk-build-'));
// the package as an app installs it: package.json, dist/, and its dependencies beside it
const pkgDir = join(dir, 'vigil');
const built = join(pkgDir, 'dist');
let entry: string;
let esm: Metafile;

beforeAll(async () => {
  mkdirSync(pkgDir);
  writeFileSync(join(pkgDir, 'package.json'), readFileSync(join(repoRoot, 'package.json')));
  symlinkSync(join(repoRoot, 'node_modules'), join(pkgDir, 'node_modules'));
  entry = await compileSdk(built);
  esm = await bundleForBrowser(entry, join(dir, 'sdk.js'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built SDK', () => {
  it('is JavaScript with declarations where the vigil/sdk export points', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const sdk = pkg.exports['./sdk'];
    expect(pkg.scripts['build:sdk']).toMatch(/tsc -p tsconfig\.sdk\.json/);
    for (const path of [
      sdk.default,
      sdk.types,
      `./dist/${pkg.typesVersions['*'].sdk[0].slice(5)}`,
    ]) {
      expect(path).toMatch(/^\.\/dist\//);
      expect(existsSync(join(built, path.slice('./dist/'.length))), path).toBe(true);
    }
  });

  it('type-checks and runs in an app that imports vigil/sdk (strict TypeScript, plain Node)', async () => {
    const app = join(dir, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(pkgDir, join(app, 'node_modules', 'vigil'));
    writeFileSync(join(app, 'package.json'), '{"type": "module"}');
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
          noEmit: true,
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(app, 'app.ts'),
      [
        "import { ClientError, exportPrivateKey, VaultClient, verifyBackup, type Wallet } from 'vigil/sdk';",
        'export async function check(wallet: Wallet): Promise<number> {',
        '  const r = await verifyBackup({ wallet, vault: new VaultClient(wallet.vaultUrls), random: (n) => new Uint8Array(n) });',
        '  return r.receipt.logIndex;',
        '}',
        'export const wif: string = exportPrivateKey(new Uint8Array(32).fill(1)).wif;',
        "export const code: ClientError['code'] = 'BACKUP_INVALID';",
      ].join('\n'),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', app]);
    writeFileSync(
      join(app, 'run.mjs'),
      "import { exportPrivateKey } from 'vigil/sdk';\nconsole.log(exportPrivateKey(new Uint8Array(32).fill(1)).wif);\n",
    );
    const run = await promisify(execFile)(process.execPath, [join(app, 'run.mjs')], { cwd: app });
    expect(run.stdout.trim()).toBe(exportPrivateKey(new Uint8Array(32).fill(1)).wif);
  });

  it('bundles for the browser with nothing but noble, scure, cborg and our portable modules', () => {
    const inputs = Object.keys(esm.inputs);
    expect(forbiddenInputs(esm, built)).toEqual([]);
    // it is the real thing: the protocol, the dev attestation verifier and the client are in
    for (const part of [
      'vault/protocol/primitives.js',
      'vault/enclave/dev-attestation.js',
      'vault/enclave/nitro-verifier.js',
      'vault/enclave/portable-nitro-pki.js',
      'client-lib/claim.js',
      'client-lib/challenge-file.js',
      'vdf/portable.js',
      'vdf/class1024/verify.js',
      '@noble/curves',
    ]) {
      expect(
        inputs.some((i) => i.includes(part)),
        part,
      ).toBe(true);
    }
  });

  it("fails the same check for client-lib's Node face (the check can fail)", async () => {
    const failure = await bundleForBrowser(
      join(repoRoot, 'client-lib', 'index.ts'),
      join(dir, 'node-face.js'),
    ).then(
      (meta) => forbiddenInputs(meta, repoRoot),
      (err: Error) => err.message,
    );
    expect(String(failure)).toMatch(/node:|fastify|level|cosigner|vdf/);
  });

  it('stays small: minified for the browser, under 256 KiB (docs/sdk.md has the figure)', async () => {
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
      nodePaths: [join(repoRoot, 'node_modules')],
    });
    expect(r.outputFiles[0]!.contents.length).toBeLessThan(256 * 1024);
  });

  it('runs where there is no Node: no process, Buffer or require', async () => {
    await bundleForBrowser(entry, join(dir, 'sdk.iife.js'), 'iife');
    const context = createContext({
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      URL,
      AbortController,
      AbortSignal,
      DOMException,
      console,
      setTimeout,
      clearTimeout,
    });
    runInContext(readFileSync(join(dir, 'sdk.iife.js'), 'utf8'), context);
    expect(runInContext('typeof process + typeof Buffer + typeof require', context)).toBe(
      'undefinedundefinedundefined',
    );
    const secret = new Uint8Array(32).fill(7);
    context.secret = secret;
    const inVm = runInContext('VigilSdk.exportPrivateKey(secret)', context);
    expect({ ...inVm }).toEqual({ ...exportPrivateKey(secret) });
    const q = Buffer.from(exportPrivateKey(secret).publicKey, 'hex');
    context.q = new Uint8Array(q);
    expect({ ...runInContext("VigilSdk.walletAddresses('musig2', q)", context) }).toEqual({
      ...walletAddresses('musig2', q),
    });
    // a claim state: a fresh X25519 key from Web Crypto, sealed with scrypt and opened again
    const roundTrip = await runInContext(
      `(async () => {
        const wallet = { walletId: new Uint8Array(32).fill(1) };
        const state = VigilSdk.newClaimState(wallet, VigilSdk.webCryptoRandom);
        const opts = { random: VigilSdk.webCryptoRandom, scrypt: { n: 1024, r: 8, p: 1 } };
        const text = await VigilSdk.sealClaimState(state, 'pw', opts);
        const back = await VigilSdk.openClaimState(text, 'pw');
        let wrong = '';
        await VigilSdk.openClaimState(text, 'other').catch((e) => { wrong = e.code; });
        return { same: back.ephemeralKey.join() === state.ephemeralKey.join(), wrong };
      })()`,
      context,
    );
    expect({ ...roundTrip }).toEqual({ same: true, wrong: 'WALLET_PASSWORD' });

    // solving elsewhere: the challenge file the Node face writes, and a proof checked before it
    // is sent (right, tampered, for another claim), all by the portable VDF code
    const claim = {
      claimId: new Uint8Array(32).fill(3),
      seed: new Uint8Array(32).fill(4),
      group: 'rsa2048' as const,
      iterations: 600,
      logIndex: 9,
    };
    const proof = await solve({ group: 'rsa2048', seed: claim.seed, iterations: 600 });
    const other = await solve({ group: 'rsa2048', seed: claim.claimId, iterations: 600 });
    const where = { walletId: new Uint8Array(32).fill(5), clusterId: new Uint8Array(32).fill(6) };
    const vaultUrls = ['http://127.0.0.1:7001'];
    Object.assign(context, {
      plain: { ...claim, claimId: [...claim.claimId], seed: [...claim.seed] },
      where: { walletId: [...where.walletId], clusterId: [...where.clusterId] },
      vaultUrls,
      proofText: encodeProofFile(proof),
      tamperedText: encodeProofFile({ ...proof, proof: proof.output, output: proof.proof }),
      otherText: encodeProofFile(other),
    });
    const elsewhere = runInContext(
      `(() => {
        const u8 = (a) => new Uint8Array(a);
        const claim = { ...plain, claimId: u8(plain.claimId), seed: u8(plain.seed) };
        const text = VigilSdk.encodeChallengeFile(VigilSdk.challengeFor({
          claim, walletId: u8(where.walletId), clusterId: u8(where.clusterId), vaultUrls,
        }));
        const parsed = VigilSdk.parseChallengeFile(text);
        const refusal = (proofFile) => {
          try {
            VigilSdk.checkProofFile(claim, proofFile);
            return 'accepted';
          } catch (e) {
            return e.code;
          }
        };
        return {
          text,
          parsedIterations: parsed.iterations,
          good: refusal(proofText),
          tampered: refusal(tamperedText),
          other: refusal(otherText),
          notJson: refusal('{'),
        };
      })()`,
      context,
    );
    expect(elsewhere.text).toBe(encodeChallengeFile(challengeFor({ claim, ...where, vaultUrls })));
    expect({ ...elsewhere, text: undefined }).toEqual({
      text: undefined,
      parsedIterations: 600,
      good: 'accepted',
      tampered: 'PROOF_INVALID',
      other: 'PROOF_MISMATCH',
      notJson: 'PROOF_INVALID',
    });

    // AWS Nitro: a real document verified by the SDK alone (COSE, chain to the pinned root, PCRs),
    // with the answers OpenSSL's chain check gives this Node process, and a tampered one refused
    if (!haveVectors('nitro')) return;
    const nodeAnswer = (doc: Uint8Array, policy: object) => {
      try {
        const r = verifierFor({ kind: 'aws-nitro', pcrs: {} }).verify(doc, policy);
        return { moduleId: r.moduleId, at: r.timestamp.getTime(), pcr0: r.pcrs.get(0)!.join() };
      } catch (e) {
        return { code: (e as VaultError).code };
      }
    };
    for (const sample of loadNitroSamples().slice(1, 3)) {
      const tampered = Uint8Array.from(sample.doc);
      tampered[tampered.length - 1]! ^= 1;
      Object.assign(context, {
        nitro: { doc: [...sample.doc], tampered: [...tampered], at: sample.timestamp },
      });
      const inVmNitro = runInContext(
        `(() => {
          const verifier = VigilSdk.portableVerifierFor({ kind: 'aws-nitro', pcrs: {} });
          const answer = (doc, policy) => {
            try {
              const r = verifier.verify(new Uint8Array(doc), policy);
              return { moduleId: r.moduleId, at: r.timestamp.getTime(), pcr0: r.pcrs.get(0).join() };
            } catch (e) {
              return { code: e.code };
            }
          };
          const at = new Date(nitro.at);
          return [
            answer(nitro.doc, { at, allowDebug: true }),
            answer(nitro.tampered, { at, allowDebug: true }),
            answer(nitro.doc, { allowDebug: true }),
            answer(nitro.doc, { at }),
          ];
        })()`,
        context,
      );
      const at = new Date(sample.timestamp);
      const expected = [
        nodeAnswer(sample.doc, { at, allowDebug: true }),
        nodeAnswer(tampered, { at, allowDebug: true }),
        nodeAnswer(sample.doc, { allowDebug: true }),
        nodeAnswer(sample.doc, { at }),
      ];
      expect(JSON.parse(JSON.stringify(inVmNitro))).toEqual(expected);
      expect(expected[0]).toMatchObject({ at: sample.timestamp });
      expect(expected.slice(1, 3)).toEqual([
        { code: 'ATTESTATION_BAD_SIGNATURE' },
        { code: 'ATTESTATION_EXPIRED' },
      ]);
      expect(expected[3]).toEqual(
        sample.debug ? { code: 'ATTESTATION_DEBUG_ENCLAVE' } : expected[0],
      );
    }
  });
});
