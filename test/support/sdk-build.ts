/**
 * Building the client SDK as its users get it: `tsc -p tsconfig.sdk.json` (what `npm run
 * build:sdk` runs, here into a scratch folder), then a browser bundle of the built JavaScript by
 * esbuild, whose metafile lists every module the SDK reaches.
 */
import { execFile } from 'node:child_process';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { repoRoot } from './processes.ts';

/** Compiles the SDK into `outDir`; returns the built entry (`<outDir>/client-lib/sdk.js`). */
export async function compileSdk(outDir: string): Promise<string> {
  await promisify(execFile)(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.sdk.json',
      '--outDir',
      outDir,
    ],
    { cwd: repoRoot },
  );
  return join(outDir, 'client-lib', 'sdk.js');
}

/** Bundles `entry` for the browser (no Node built-ins resolve there: any one fails the build). */
export async function bundleForBrowser(
  entry: string,
  outfile: string,
  format: 'esm' | 'iife' = 'esm',
): Promise<Metafile> {
  const r = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { globalName: 'VigilSdk' } : {}),
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: repoRoot,
    // the build may sit outside the repository (a scratch folder): its packages are ours
    nodePaths: [join(repoRoot, 'node_modules')],
  });
  return r.metafile;
}

/** The packages the SDK may reach: noble and scure (crypto, encodings) and cborg (attestation). */
export const SDK_PACKAGES = new Set([
  '@noble/ciphers',
  '@noble/curves',
  '@noble/hashes',
  '@scure/base',
  '@scure/btc-signer',
  'micro-packed',
  'cborg',
]);

/**
 * Our modules the SDK must never reach: servers, storage, Raft, the solver, Node-only shells. Of
 * the VDF it may reach only what vdf/portable.ts does: not the full face, the solver, the native
 * addon's glue, OpenSSL's paths or the speed tables.
 */
const FORBIDDEN_OWN = [
  /^cluster\//,
  /^cosigner\//,
  /^cli\//,
  /^vdf\/(index|node-accelerators|native-chain|speed)\.[jt]s$/,
  /^vdf\/solver\//,
  /^vdf\/class1024\/(index|native)\.[jt]s$/,
  /^vdf\/rsa2048\/(native|native-chain|native-pass|openssl)\.[jt]s$/,
  /^vdf\/primes\/openssl-pow\.[jt]s$/,
  /^vault\/(http|node|machine|replicated)\//,
  /^vault\/index\.[jt]s$/,
  /^vault\/protocol\/(index|node-primitives|server-limits)\.[jt]s$/,
  /^vault\/enclave\/(index|nitro-provider|node-|kms-|cms|nsm|key-file|durable-file|storage-box)/,
  /^client-lib\/(index|files|password|recovery|verify-key|wallet-file|claim-state-file|nitro-trust|cosigner-|time-lock)/,
];

/**
 * Every input of a bundle that the SDK must not contain: a package outside SDK_PACKAGES, or one
 * of our Node-only or server modules. `builtFrom` is the folder our own modules were built into
 * (their paths are read relative to it).
 */
export function forbiddenInputs(meta: Metafile, builtFrom: string): string[] {
  const bad: string[] = [];
  for (const input of Object.keys(meta.inputs)) {
    const path = input.split(sep).join('/');
    const pkg = path.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
    if (pkg !== undefined) {
      if (!SDK_PACKAGES.has(pkg)) bad.push(input);
      continue;
    }
    const own = relative(builtFrom, join(repoRoot, input)).split(sep).join('/');
    if (FORBIDDEN_OWN.some((r) => r.test(own))) bad.push(input);
  }
  return bad;
}
