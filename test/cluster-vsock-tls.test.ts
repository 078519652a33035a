/**
 * Three `vigil cluster node` processes as they run in enclaves: `--transport vsock` (each node
 * listens and dials only on Unix sockets in its relay directory, never on the network) and
 * `--tls on` (attested HTTPS, peers pinning each other's keys through their documents). socat
 * plays the image's and the parent's bridges; the leg between them is loopback TCP here (this
 * kernel has no vsock loopback; see test/transport-vsock.test.ts). Peers are named by hosts
 * that do not resolve, so anything that bypassed the relays would fail.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DevAttestationProvider, DevAttestationVerifier, KeyFileSealer } from '../vault/index.ts';
import { AttestedTls } from '../vault/tls/index.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';
import { freePort, socat, socatMissing, stopBridges } from './support/socat.ts';

const missing = socatMissing();
if (missing) console.warn(`cluster-vsock-tls: skipped: ${missing}`);

const procs: VigilProcess[] = [];
let root = '';
let client: AttestedTls | undefined;
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await client?.close();
  await stopBridges();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(
  'cluster nodes over the vsock transport with attested TLS',
  () => {
    it('found a cluster through relay sockets only, and serve it over attested HTTPS', async () => {
      root = await mkdtemp(join(tmpdir(), 'vv-'));
      const slots = ['node-1', 'node-2', 'node-3'];
      const http = await Promise.all(slots.map(() => freePort()));
      const raft = await Promise.all(slots.map(() => freePort()));
      const host = (i: number) => `n${i + 1}.vigil.invalid`;
      const peers = slots.map((s, i) => `${s}@${host(i)}:${http[i]}`).join(',');
      const devKey = join(root, 'dev-attestation.key');
      await new KeyFileSealer({ path: devKey }).storageKey();
      const relay = (i: number) => join(root, `r${i + 1}`);
      for (let i = 0; i < 3; i++) {
        await mkdir(join(root, slots[i]!), { mode: 0o700 });
        await mkdir(relay(i), { mode: 0o700 });
        await copyFile(devKey, join(root, slots[i]!, 'dev-attestation.key'));
        // the parent of node i: its public ports forward into the enclave's listeners
        for (const [port, service] of [
          [http[i], 'http'],
          [raft[i], 'raft'],
        ] as const) {
          socat(
            `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
            `UNIX-CONNECT:${join(relay(i), `listen-${service}.sock`)}`,
          );
        }
      }
      for (let i = 0; i < 3; i++) {
        // the image of node i: one dial socket per peer address, out to that peer's parent
        for (let j = 0; j < 3; j++) {
          if (j === i) continue;
          for (const port of [http[j]!, raft[j]!]) {
            socat(
              `UNIX-LISTEN:${join(relay(i), `to-${host(j)}-${port}.sock`)},fork,unlink-early`,
              `TCP:127.0.0.1:${port}`,
            );
          }
        }
      }
      const nodes = slots.map((slot, i) => {
        const p = startVigil([
          'cluster',
          'node',
          '--data-dir',
          join(root, slot),
          '--slot',
          slot,
          '--cluster-id',
          'enclave-test',
          '--port',
          String(http[i]),
          '--raft-port',
          String(raft[i]),
          '--advertise-host',
          host(i),
          '--peers',
          peers,
          '--transport',
          'vsock',
          '--relay-dir',
          relay(i),
          '--tls',
          'on',
          '--insecure-dev-attestation',
          '--found',
          slots.join(','),
          '--boot',
          'b1',
          '--operator-key',
          '22'.repeat(32),
        ]);
        procs.push(p);
        return p;
      });
      const ids = await Promise.all(
        nodes.map(async (p) => (await p.waitFor(/ready \S+ (\S+) https:\/\//, 60_000))[1]!),
      );

      const signingKey = new Uint8Array(await readFile(devKey));
      const dev = new DevAttestationProvider({
        insecureDevAttestation: true,
        signingKey,
        warn: () => {},
      });
      client = new AttestedTls({
        verifier: new DevAttestationVerifier({
          insecureDevAttestation: true,
          trustedKeys: [dev.publicKey],
          warn: () => {},
        }),
      });
      const status = async (i: number) => {
        try {
          const res = await client!.fetch(`https://127.0.0.1:${http[i]}/v1/cluster/status`);
          return (await res.json()) as { epochReady: boolean; leader: string; voters: string[] };
        } catch {
          return null;
        }
      };
      const deadline = Date.now() + 60_000;
      let all: Awaited<ReturnType<typeof status>>[] = [];
      for (;;) {
        all = await Promise.all([0, 1, 2].map(status));
        const founded = (s: (typeof all)[number]) =>
          s?.epochReady === true && s.leader !== '' && s.voters.length === 3;
        if (all.every(founded)) break;
        if (Date.now() > deadline) throw new Error('timed out waiting for a founded cluster');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(new Set(all.map((s) => s!.leader)).size).toBe(1);
      expect([...all[0]!.voters].sort()).toEqual([...ids].sort());
      const members = (await (
        await client.fetch(`https://127.0.0.1:${http[0]}/v1/cluster/members`)
      ).json()) as { members: Array<{ url: string }> };
      expect(members.members.map((m) => m.url).sort()).toEqual(
        slots.map((_, i) => `https://${host(i)}:${http[i]}`).sort(),
      );
    }, 120_000);
  },
);
