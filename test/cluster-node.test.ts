/**
 * `vigil cluster node` as an operator runs it: configuration refused at start with every problem
 * named, nitro mode refusing to start without an NSM, and three nodes in their own data
 * directories that find each other only through `--peers`, found a cluster, refuse an impostor
 * whose document does not verify, and take back a restarted node as a new member.
 */
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devPcr, KeyFileSealer, toHex } from '../vault/index.ts';
import { runCli } from './support/cli.ts';
import { fetchJson, type Json, sleep } from './support/http.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dirs: string[] = [];
const procs: VigilProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-node-'));
  dirs.push(d);
  return d;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

const PCR0 = toHex(devPcr(0));

describe('vigil cluster node: configuration at start', () => {
  it('names every bad setting and exits 2', async () => {
    const r = await runCli(
      'cluster',
      'node',
      '--data-dir',
      await tempDir(),
      '--slot',
      'node-1',
      '--cluster-id',
      'c1',
      '--sealer',
      'aws-kms',
      '--peers',
      'node-2@10.0.0.2',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the aws-kms sealer needs --kms-key-id');
    expect(r.stderr).toContain('nitro attestation needs a PCR policy');
    expect(r.stderr).toContain('--peers: "node-2@10.0.0.2" is not slot@host:port');
  });

  it('refuses nitro mode where there is no /dev/nsm, before touching the disk', async () => {
    const dataDir = join(await tempDir(), 'node');
    const r = await runCli(
      'cluster',
      'node',
      '--data-dir',
      dataDir,
      '--slot',
      'node-1',
      '--cluster-id',
      'c1',
      '--expected-pcrs',
      `0=${PCR0}`,
      '--sealer',
      'aws-kms',
      '--kms-key-id',
      'alias/vigil',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nitro attestation is unavailable: .*\/dev\/nsm/);
    expect(r.stderr).toContain('a development node needs --insecure-dev-attestation');
    expect(await stat(dataDir).catch(() => null)).toBeNull();
  });
});

describe('vigil cluster node --peers: nodes on their own data directories', () => {
  it('found a cluster, refuse an impostor, take back a restarted node', async () => {
    const slots = ['node-1', 'node-2', 'node-3'];
    const ports = await Promise.all(slots.map(() => freePort()));
    const peers = slots.map((s, i) => `${s}@127.0.0.1:${ports[i]}`).join(',');
    const root = await tempDir();
    // dev mode trusts one signing key: every honest node gets a copy, the impostor its own
    const devKey = join(root, 'dev-attestation.key');
    await new KeyFileSealer({ path: devKey }).storageKey();
    const dataDirs: string[] = [];
    for (const s of slots) {
      const d = join(root, s);
      await mkdir(d, { mode: 0o700 });
      await copyFile(devKey, join(d, 'dev-attestation.key'));
      dataDirs.push(d);
    }
    const operatorKey = '22'.repeat(32);
    const node = (i: number, extra: string[] = []) => {
      const p = startVigil([
        'cluster',
        'node',
        '--data-dir',
        dataDirs[i]!,
        '--slot',
        slots[i]!,
        '--cluster-id',
        'prod-test',
        '--port',
        String(ports[i]),
        '--peers',
        peers,
        '--expected-pcrs',
        `0=${PCR0}`,
        '--insecure-dev-attestation',
        ...extra,
      ]);
      procs.push(p);
      return p;
    };
    const founding = ['--found', slots.join(','), '--boot', 'b1', '--operator-key', operatorKey];
    const nodes = slots.map((_, i) => node(i, founding));
    const readyIds = await Promise.all(
      nodes.map(async (p) => (await p.waitFor(/ready \S+ (\S+) http/, 30_000))[1]!),
    );
    expect(nodes[0]!.output()).toContain('INSECURE DEV ATTESTATION ENABLED');

    const status = async (i: number): Promise<Json | null> =>
      fetchJson(`http://127.0.0.1:${ports[i]}/v1/cluster/status`).then(
        (r) => r.json,
        () => null,
      );
    const until = async <T>(what: string, f: () => Promise<T | null | false>): Promise<T> => {
      const end = Date.now() + 30_000;
      for (;;) {
        const v = await f();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };
    const converged = async (ids: string[]) => {
      const all = await Promise.all(slots.map((_, i) => status(i)));
      const ok = all.every(
        (s) =>
          s?.epochReady === true &&
          s.leader !== '' &&
          [...s.voters].sort().join() === [...ids].sort().join(),
      );
      return ok && all;
    };
    const first = await until('a founded cluster', () => converged(readyIds));
    expect(new Set(first.map((s) => s!.leader)).size).toBe(1);
    // the hello peers learn each other from: this node's record, attested
    const hello = (await fetchJson(`http://127.0.0.1:${ports[0]}/v1/cluster/hello`)).json;
    expect(hello).toMatchObject({ slot: 'node-1', id: readyIds[0], boot: 'b1' });

    // an impostor with its own dev key asks to join: every node it asks refuses it
    const impostorDir = join(root, 'impostor');
    const impostor = startVigil([
      'cluster',
      'node',
      '--data-dir',
      impostorDir,
      '--slot',
      'node-4',
      '--cluster-id',
      'prod-test',
      '--port',
      String(await freePort()),
      '--peers',
      peers,
      '--insecure-dev-attestation',
    ]);
    procs.push(impostor);
    const leaderIndex = readyIds.indexOf(first[0]!.leader);
    await nodes[leaderIndex]!.waitFor(/refused peer node-4\/\S+ at 127\.0\.0\.1:\d+: ATTESTATION_/);
    impostor.child.kill('SIGKILL');
    expect((await status(0))!.voters).toHaveLength(3);

    // node-3 restarted from its disk rejoins through --peers as a new member
    nodes[2]!.child.kill('SIGKILL');
    await nodes[2]!.exited;
    const again = node(2);
    const newId = (await again.waitFor(/ready \S+ (\S+) http/, 30_000))[1]!;
    expect(newId).not.toBe(readyIds[2]);
    await until('the rejoin', () => converged([readyIds[0]!, readyIds[1]!, newId]));
  }, 90_000);
});
