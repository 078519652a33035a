/**
 * The enclave image's files, checked where Docker and nitro-cli do not run (here): shellcheck
 * on the scripts, the Dockerfile's pinning rules, the scripts' logic in their dry-run modes, and
 * that the image's entrypoint, the parent's script and the node's transport agree on every
 * relay socket and vsock port. The image build itself is untested here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { relaySocketName } from '../cluster/index.ts';
import { repoRoot } from './support/processes.ts';

const deploy = join(repoRoot, 'deploy');
const scripts = ['build-eif.sh', 'run-parent.sh', 'enclave/entrypoint.sh'].map((s) =>
  join(deploy, s),
);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-deploy-'));
  dirs.push(d);
  return d;
}

const shellcheck = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' });
const noShellcheck = shellcheck.error || shellcheck.status !== 0;
if (noShellcheck)
  console.warn('deploy: shellcheck not installed (.ci/run installs it): lint skipped');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('deploy scripts', () => {
  it.skipIf(noShellcheck)('pass shellcheck', () => {
    const r = run('shellcheck', ['-S', 'style', ...scripts]);
    expect(r.out + r.err).toBe('');
    expect(r.code).toBe(0);
    const ci = run('shellcheck', ['-S', 'warning', join(repoRoot, '.ci', 'run')]);
    expect(ci.out + ci.err).toBe('');
  });
});

describe('the Dockerfile pins what it builds from', () => {
  const text = () => readFile(join(deploy, 'enclave', 'Dockerfile'), 'utf8');

  it('takes its base image by digest, Debian packages from a dated snapshot, npm packages by lock', async () => {
    const d = await text();
    const base = /^ARG BASE=(\S+)$/m.exec(d)?.[1] ?? '';
    expect(base).toMatch(/^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/);
    const froms = [...d.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^\$\{BASE\}$/);
    expect(d).not.toMatch(/:latest\b/);
    expect(d).toMatch(/npm ci --omit=dev/);
    expect(d).not.toMatch(/npm (install|i) /);
    expect(d).toMatch(/snapshot\.debian\.org\/archive\/debian\/%s bookworm/);
    expect(d).toMatch(/^ARG DEBIAN_SNAPSHOT=\d{8}T\d{6}Z$/m);
    expect(d).toMatch(/SOURCE_DATE_EPOCH/);
  });

  it('fetches nothing else, builds the native addons, and copies only what exists', async () => {
    const d = await text();
    expect(d).not.toMatch(/^ADD /m);
    expect(d).not.toMatch(/\b(curl|wget)\b/);
    expect(d).toMatch(/test -f native\/build\/Release\/vigil_nsm\.node/);
    expect(d).toMatch(/^ENTRYPOINT \["[^"]+"\]$/m);
    for (const m of d.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(join(repoRoot, src)), src).toBe(true);
    }
  });
});

describe('build-eif.sh', () => {
  const script = join(deploy, 'build-eif.sh');

  it('prints PCR0/1/2 and the --expected-pcrs flag from nitro-cli output', async () => {
    const dir = await tempDir();
    // synthetic values in nitro-cli's output shape (not a real image's measurements)
    const pcr = (b: string) => b.repeat(48);
    const file = join(dir, 'm.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          Measurements: {
            HashAlgorithm: 'Sha384 { ... }',
            PCR0: pcr('a0'),
            PCR1: pcr('b1'),
            PCR2: pcr('c2'),
          },
        },
        null,
        2,
      ),
    );
    const r = run(script, ['--measurements', file]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      `PCR0 ${pcr('a0')}`,
      `PCR1 ${pcr('b1')}`,
      `PCR2 ${pcr('c2')}`,
      `--expected-pcrs 0=${pcr('a0')},1=${pcr('b1')},2=${pcr('c2')}`,
      '',
    ]);
    await writeFile(file, JSON.stringify({ Measurements: { PCR0: pcr('a0') } }));
    const bad = run(script, ['--measurements', file]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no PCR1/);
  });

  it('builds only a tagged commit, from its tree, with the commit time as SOURCE_DATE_EPOCH', async () => {
    const repo = await tempDir();
    const git = (...a: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], {
        encoding: 'utf8',
      });
    git('init', '-q');
    execFileSync('mkdir', ['-p', join(repo, 'deploy')]);
    await writeFile(join(repo, 'deploy', 'build-eif.sh'), await readFile(script));
    execFileSync('chmod', ['+x', join(repo, 'deploy', 'build-eif.sh')]);
    git('add', '-A');
    git('commit', '-qm', 'c', '--date', '2026-01-02T03:04:05Z');
    const copy = join(repo, 'deploy', 'build-eif.sh');
    const untagged = run(copy, ['--dry-run', 'v9.9.9']);
    expect(untagged.code).toBe(2);
    expect(untagged.err).toMatch(/no tag v9\.9\.9/);
    git('tag', 'v1.2.3');
    const commit = git('rev-parse', 'HEAD').trim();
    const epoch = git('log', '-1', '--format=%ct').trim();
    const r = run(copy, ['--dry-run', 'v1.2.3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`git archive --format=tar -o \\S+/source.tar ${commit}`));
    expect(r.out).toContain(`--build-arg SOURCE_DATE_EPOCH=${epoch}`);
    expect(r.out).toContain(
      '--output type=docker,name=vigil-enclave:v1.2.3,rewrite-timestamp=true',
    );
    expect(r.out).toContain(
      'nitro-cli build-enclave --docker-uri vigil-enclave:v1.2.3 --output-file vigil-v1.2.3.eif',
    );
  });
});

describe('the image entrypoint, the parent script and the node agree', () => {
  const peers = [
    { slot: 'node-1', host: '10.0.1.10', port: 7400 },
    { slot: 'node-2', host: 'Node-2.Example.internal', port: 7410 },
    { slot: 'node-3', host: '[fd00::3]', port: 7400 },
  ];
  const settingsText = [
    'VIGIL_SLOT=node-1',
    'VIGIL_CLUSTER_ID=prod-eu',
    `VIGIL_PEERS=${peers.map((p) => `${p.slot}@${p.host}:${p.port}`).join(',')}`,
    'VIGIL_PORT=7400',
    'VIGIL_RAFT_PORT=7401',
    'VIGIL_KMS_REGION=eu-west-1',
    '',
  ].join('\n');

  it('connects every relay socket the node dials to the peer address it names', async () => {
    const dir = await tempDir();
    const settings = join(dir, 'node.env');
    await writeFile(settings, settingsText);
    const enclave = run('sh', [join(deploy, 'enclave', 'entrypoint.sh'), '--dry-run', settings], {
      RELAY_DIR: '/run/vigil',
    });
    expect(enclave.err).toBe('');
    expect(enclave.code).toBe(0);
    const parent = run(join(deploy, 'run-parent.sh'), ['--dry-run', settings, 'vigil.eif'], {
      ENCLAVE_CID: '21',
    });
    expect(parent.err).toBe('');
    expect(parent.code).toBe(0);

    // enclave: UNIX-LISTEN:<socket> → VSOCK-CONNECT:3:<vport>; parent: VSOCK-LISTEN:<vport> → TCP:<addr>
    const enclaveOut = new Map(
      [
        ...enclave.out.matchAll(
          /UNIX-LISTEN:\/run\/vigil\/(\S+),fork,unlink-early VSOCK-CONNECT:3:(\d+)/g,
        ),
      ].map((m) => [m[1]!, Number(m[2])]),
    );
    const parentOut = new Map(
      [...parent.out.matchAll(/VSOCK-LISTEN:(\d+),fork,reuseaddr (\S+)/g)].map((m) => [
        Number(m[1]),
        m[2]!,
      ]),
    );
    for (const p of peers) {
      for (const port of [p.port, 7401]) {
        const socket = relaySocketName({ host: p.host, port });
        const vport = enclaveOut.get(socket);
        expect(vport, socket).toBeDefined();
        expect(parentOut.get(vport!)).toBe(`TCP:${p.host}:${port}`);
      }
    }
    const kms = relaySocketName({ host: 'kms.eu-west-1.amazonaws.com', port: 443 });
    expect(enclaveOut.get(kms)).toBe(8000);
    expect(parent.out).toContain('vsock-proxy 8000 kms.eu-west-1.amazonaws.com 443 --config');
    expect(parent.out).toContain(
      'allow-list: allowlist: - {address: kms.eu-west-1.amazonaws.com, port: 443}',
    );
    expect(enclaveOut.get('to-host-agent-7500.sock')).toBe(7500);
    expect(parentOut.get(7500)).toMatch(/^UNIX-CONNECT:/);
    expect(parentOut.get(7000)).toMatch(/^OPEN:.*node\.env,rdonly$/);
    // in: the parent's public ports reach the enclave's listeners
    expect(parent.out).toContain('socat TCP-LISTEN:7400,fork,reuseaddr VSOCK-CONNECT:21:7400');
    expect(parent.out).toContain('socat TCP-LISTEN:7401,fork,reuseaddr VSOCK-CONNECT:21:7401');
    expect(enclave.out).toContain(
      'socat VSOCK-LISTEN:7400,fork,reuseaddr UNIX-CONNECT:/run/vigil/listen-http.sock',
    );
    expect(enclave.out).toContain(
      'socat VSOCK-LISTEN:7401,fork,reuseaddr UNIX-CONNECT:/run/vigil/listen-raft.sock',
    );
    expect(enclave.out).toContain('cluster node --transport vsock --relay-dir /run/vigil');
    // the node keeps its records with the parent's host agent, through that same relay socket,
    // and takes the instance role's credentials from it
    expect(enclave.out).toContain(
      '--storage host:unix:/run/vigil/to-host-agent-7500.sock --kms-credentials host',
    );
    expect(parent.out).toMatch(/ host --listen unix:\S+ --data-dir \S+ --pass-aws-credentials/);
    expect(parent.out).toContain('nitro-cli run-enclave --eif-path vigil.eif --enclave-cid 21');
  });

  it('refuses settings that are not plain VIGIL_NAME=value lines, and a missing KMS region', async () => {
    const dir = await tempDir();
    const settings = join(dir, 'node.env');
    await writeFile(settings, `${settingsText}VIGIL_X=$(reboot)\n`);
    const r = run('sh', [join(deploy, 'enclave', 'entrypoint.sh'), '--dry-run', settings]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not VIGIL_NAME=value/);
    await writeFile(settings, 'VIGIL_SLOT=node-1\n');
    const parent = run(join(deploy, 'run-parent.sh'), ['--dry-run', settings, 'x.eif']);
    expect(parent.code).toBe(2);
    expect(parent.err).toMatch(/VIGIL_KMS_REGION is required/);
  });
});
