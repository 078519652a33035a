/**
 * A whole-cluster stop of enclave-like nodes (issue 12, P9): three `vigil cluster node
 * --storage host:` processes sealed by KMS (the loopback fake, trusting the dev attestation),
 * each beside its own `vigil host`. Every node and every agent is SIGKILLed at once, and the
 * nodes' own directories are emptied, as an enclave's memory is: what survives is only what the
 * host agents hold (sealed records, the KMS-wrapped data key, the generation). Each node started
 * with `--recover` rebuilds its slot's vault from its agent; `vigil cluster recover --views`
 * names the founder; the founder starts the new cluster alone and the others join it. Every
 * acknowledged deposit is then on every node, every claim that was live is void (a new epoch,
 * P4), and the cluster takes new deposits.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeKms, startFakeKms } from '../vault/enclave/fake-kms.test-support.ts';
import { DevAttestationVerifier } from '../vault/index.ts';
import { Tenant } from '../vault/node/actors.test-support.ts';
import { runCli } from './support/cli.ts';
import { missingWrites, urlsOf, WriteStream } from './support/cluster.ts';
import { HostedCluster } from './support/hosted-cluster.ts';
import { fetchJson } from './support/http.ts';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ACCESS_KEY_ID = 'AKIAVIGILTESTKEY0000';
let cluster: HostedCluster | undefined;
let kms: FakeKms | undefined;
afterAll(async () => {
  await cluster?.destroy();
  await kms?.close();
});

describe('a whole-cluster stop of host-stored, KMS-sealed nodes', () => {
  it('recovers every acknowledged deposit from the host agents alone and voids live claims', async () => {
    cluster = await HostedCluster.start({
      tls: false,
      kms: async (devKey) => {
        const verifier = new DevAttestationVerifier({
          insecureDevAttestation: true,
          trustedKeys: [devKey],
          warn: () => {},
        });
        kms = await startFakeKms({
          keyIds: [KEY_ID],
          accessKeyId: ACCESS_KEY_ID,
          recipientKey: (document) => verifier.verify(document).publicKey!,
        });
        return {
          args: ['--sealer', 'aws-kms', '--kms-key-id', KEY_ID, '--kms-region', 'eu-west-1'],
          env: {
            VIGIL_KMS_ENDPOINT: kms.endpoint,
            AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY: 'vigil-test-secret',
          },
        };
      },
    });
    const c = cluster;
    const first = await c.founded();
    const tenant = new Tenant('acme');
    expect(await c.registerTenant(first[0]!.url, tenant)).toBe(201);
    const stream = new WriteStream(c, tenant, urlsOf(first));
    await stream.more(6, '6 deposits');

    // a follower restarted before the stop: its slot's agent holds two identities' stores
    const follower = first.find((n) => n.role !== 'leader')!;
    const f = c.slots.indexOf(follower.slot as string);
    stream.live = urlsOf(first.filter((n) => n !== follower));
    c.nodes[f]!.child.kill('SIGKILL');
    await c.nodes[f]!.exited;
    c.startNode(f, false);
    await c.ready(f);
    const members = await c.until('the follower back', () => c.converged(), 90_000);
    stream.live = urlsOf(members);
    await stream.more(6, '6 more deposits');
    await stream.stop();
    expect(stream.claims.length).toBeGreaterThan(0);
    await c.until('every write everywhere', async () => (await c.converged()) ?? false);

    // nothing of a node's own is needed: the wrapped data key is with the agent, not the node
    for (const slot of c.slots) {
      expect(await readdir(join(c.dataDir, slot))).not.toContain('kms-data-key.blob');
    }

    // power cut: every node and every agent at once; the enclaves' memory is gone
    for (const p of [...c.nodes, ...c.hosts]) p!.child.kill('SIGKILL');
    await Promise.all([...c.nodes, ...c.hosts].map((p) => p!.exited));
    await c.forgetNodeMemory();
    await Promise.all(c.slots.map((_, i) => c.startHost(i)));

    // each node rebuilds its own slot from its agent (KMS releases the same data key)
    const views = [];
    for (let i = 0; i < c.size; i++) views.push(await c.recoverSlot(i));
    expect(views.map((v) => v.slot)).toEqual(c.slots);
    for (const v of views) expect(v.records).toBeGreaterThan(stream.acked.length);
    const restarted = views[f]!;
    expect(restarted.stores).toBe(2);

    // the operator's choice: the most up-to-date view of a majority
    const files = await Promise.all(
      views.map(async (v, i) => {
        const file = join(c.root, `view-${i}.json`);
        await writeFile(file, JSON.stringify(v));
        return file;
      }),
    );
    const tooFew = await runCli(
      'cluster',
      'recover',
      '--views',
      files[0]!,
      '--slots',
      c.slots.join(','),
    );
    expect([tooFew.code, tooFew.stderr]).toEqual([
      1,
      expect.stringMatching(/a majority is needed/),
    ]);
    const plan = await runCli(
      'cluster',
      'recover',
      '--views',
      files.join(','),
      '--slots',
      c.slots.join(','),
    );
    expect(plan.code).toBe(0);
    const { founder, join: joiners } = JSON.parse(plan.stdout) as {
      founder: string;
      join: string[];
    };
    const best = [...views].sort(
      (a, b) =>
        b.lastTerm - a.lastTerm ||
        b.lastIndex - a.lastIndex ||
        b.appliedIndex - a.appliedIndex ||
        (a.slot < b.slot ? -1 : 1),
    )[0]!;
    expect(founder).toBe(best.slot);
    expect(joiners).toEqual(c.slots.filter((s) => s !== founder));

    // the view left with the agent is the one printed
    const stored = await runCli(
      'cluster',
      'recovery-view',
      '--storage',
      `host:unix:${c.socket(0)}`,
      '--slot',
      c.slots[0]!,
    );
    expect(JSON.parse(stored.stdout)).toEqual(views[0]);

    // the founder starts the new cluster alone; the others join it as new members
    const fi = c.slots.indexOf(founder);
    c.startNode(fi, 'recovered');
    await c.ready(fi);
    for (const slot of joiners) c.startNode(c.slots.indexOf(slot), false);
    await Promise.all(joiners.map((slot) => c.ready(c.slots.indexOf(slot))));
    const after = await c.until('the recovered cluster', () => c.converged(), 120_000);

    const deposits = await missingWrites(after, stream);
    expect(deposits.filter((m) => !m.includes(' claim '))).toEqual([]);
    // no claim is live any more: voided where its record was applied before the stop, unknown
    // (404) where only the log held it (replayed without the dead epoch's secret, as rejected)
    for (const claimId of stream.claims) {
      for (const n of after) {
        const got = await fetchJson(`${n.url}/v1/claims/${claimId}`);
        expect(got.status === 404 ? 'unknown' : got.json.status).toMatch(/^(voided|unknown)$/);
      }
    }
    // the same cluster keys, and it takes new deposits
    const again = new WriteStream(c, tenant, urlsOf(after));
    await again.more(3, '3 deposits on the recovered cluster');
    await again.stop();
    expect(await missingWrites(await c.until('converged', () => c.converged()), again)).toEqual([]);
  }, 300_000);
});
