import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import type { RawFlags } from '../node/config-reader.ts';
import { parseClusterNodeConfig } from './config.ts';

const PCR0 = 'a'.repeat(96);
const PCR1 = 'b'.repeat(96);
const PEERS = 'node-1@10.0.0.1:7400,node-2@10.0.0.2:7400,node-3@[fd00::3]:7400';

const base: RawFlags = { dataDir: '/srv/vigil', slot: 'node-1', clusterId: 'prod-eu' };

/** The list of problems a bad configuration is refused with. */
function problemsOf(flags: RawFlags, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseClusterNodeConfig(flags, env);
  } catch (e) {
    expect(e).toBeInstanceOf(VaultError);
    expect((e as VaultError).code).toBe('CONFIG_INVALID');
    return (e as Error).message.replace(/^invalid configuration: /, '').split('; ');
  }
  throw new Error('accepted');
}

describe('cluster node configuration', () => {
  it('reads a production node: nitro with a PCR policy, KMS, peers, fixed ports', () => {
    const c = parseClusterNodeConfig(
      {
        ...base,
        host: '0.0.0.0',
        advertiseHost: '10.0.0.1',
        port: '7400',
        raftPort: '7401',
        peers: PEERS,
        found: 'node-1,node-2,node-3',
        boot: 'launch-1',
        sealer: 'aws-kms',
        kmsKeyId: 'alias/vigil',
        kmsEndpoint: 'http://127.0.0.1:8000',
        expectedPcrs: `0=${PCR0}, 1=${PCR1}`,
      },
      { VIGIL_KMS_REGION: 'eu-west-1' },
    );
    expect(c).toMatchObject({
      dataDir: '/srv/vigil',
      slot: 'node-1',
      clusterId: 'prod-eu',
      host: '0.0.0.0',
      advertiseHost: '10.0.0.1',
      port: 7400,
      raftPort: 7401,
      operatorKey: undefined,
      sealer: {
        kind: 'aws-kms',
        keyId: 'alias/vigil',
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:8000',
      },
      attestation: { kind: 'nitro', images: [{ 0: PCR0, 1: PCR1 }] },
      found: { slots: ['node-1', 'node-2', 'node-3'], boot: 'launch-1' },
    });
    expect(c.peers).toEqual([
      { slot: 'node-1', host: '10.0.0.1', port: 7400 },
      { slot: 'node-2', host: '10.0.0.2', port: 7400 },
      { slot: 'node-3', host: '[fd00::3]', port: 7400 },
    ]);
  });

  it("reads the vault's variables; a flag wins over its variable", () => {
    const c = parseClusterNodeConfig(
      { slot: 'node-2', port: '7500' },
      {
        VIGIL_DATA_DIR: '/data',
        VIGIL_CLUSTER_ID: 'c1',
        VIGIL_PORT: '7400',
        VIGIL_PEERS: 'node-1@a.example:7400',
        VIGIL_INSECURE_DEV_ATTESTATION: '1',
        VIGIL_OPERATOR_KEY: '11'.repeat(32),
      },
    );
    expect(c.port).toBe(7500);
    expect(c.peers).toEqual([{ slot: 'node-1', host: 'a.example', port: 7400 }]);
    expect(c.attestation).toEqual({ kind: 'insecure-dev', images: undefined });
    expect(c.operatorKey).toEqual(Buffer.from('11'.repeat(32), 'hex'));
    // the key-file sealer's default file is the slot's own
    expect(c.sealer).toEqual({ kind: 'key-file', path: join('/data', 'node-2', 'storage.key') });
  });

  it('defaults to a local node: siblings under the data directory, any ports', () => {
    const c = parseClusterNodeConfig({ ...base, insecureDevAttestation: true }, {});
    expect(c).toMatchObject({ host: '127.0.0.1', advertiseHost: '127.0.0.1', port: 0 });
    expect(c.peers).toBeUndefined();
    expect(c.found).toBeUndefined();
    expect(
      parseClusterNodeConfig({ slot: 's', clusterId: 'c', insecureDevAttestation: true }, {})
        .dataDir,
    ).toBe(resolve('data', 'cluster'));
  });

  it('collects every problem at once', () => {
    expect(
      problemsOf(
        { sealer: 'aws-kms', peers: 'node-2@10.0.0.2', port: '99999' },
        {
          VIGIL_INSECURE_DEV_ATTESTATION: 'yes',
        },
      ),
    ).toEqual([
      '--slot must name this node: letters, digits, . _ -',
      '--cluster-id must be 1..64 letters, digits, . _ - (the same on every node)',
      '--port must be an integer in [0, 65535], got "99999"',
      'the aws-kms sealer needs --kms-key-id',
      'VIGIL_INSECURE_DEV_ATTESTATION must be 0 or 1',
      'nitro attestation needs a PCR policy: --expected-pcrs with at least PCR0 (the enclave image) for each image',
      '--peers: "node-2@10.0.0.2" is not slot@host:port',
    ]);
  });

  it('keeps storage locally by default, or with a host agent; KMS credentials from the host need both', () => {
    const dev = { ...base, insecureDevAttestation: true };
    expect(parseClusterNodeConfig(dev, {})).toMatchObject({
      storage: { kind: 'local' },
      kmsCredentials: 'default',
    });
    expect(
      parseClusterNodeConfig({ ...dev, storage: 'host:unix:/run/vigil/host.sock' }, {}).storage,
    ).toEqual({
      kind: 'host',
      address: { kind: 'unix', path: '/run/vigil/host.sock' },
    });
    const nitro = { ...base, sealer: 'aws-kms', kmsKeyId: 'k', expectedPcrs: `0=${PCR0}` };
    const c = parseClusterNodeConfig(nitro, {
      VIGIL_STORAGE: 'host:127.0.0.1:7500',
      VIGIL_KMS_CREDENTIALS: 'host',
    });
    expect(c).toMatchObject({
      storage: { kind: 'host', address: { kind: 'tcp', host: '127.0.0.1', port: 7500 } },
      kmsCredentials: 'host',
    });
    expect(problemsOf({ ...dev, storage: 'host:nowhere', kmsCredentials: 'host' })).toEqual([
      '--storage: "nowhere" is neither unix:<path> nor <host>:<port>',
      '--kms-credentials host needs --sealer aws-kms and --storage host:<address> (the agent that passes them)',
    ]);
    expect(problemsOf({ ...dev, storage: 's3', kmsCredentials: 'instance' })).toEqual([
      '--storage must be local or host:<unix:/path or host:port of vigil host>',
      '--kms-credentials must be default or host',
    ]);
  });

  it('reads --recover (or VIGIL_RECOVER=1), not with --found', () => {
    const hosted = { ...base, insecureDevAttestation: true, storage: 'host:unix:/run/h.sock' };
    expect(parseClusterNodeConfig(hosted, {}).recover).toBe(false);
    expect(parseClusterNodeConfig({ ...hosted, recover: true }, {}).recover).toBe(true);
    expect(parseClusterNodeConfig(hosted, { VIGIL_RECOVER: '1' }).recover).toBe(true);
    expect(
      parseClusterNodeConfig({ ...base, insecureDevAttestation: true, recover: true }, {}),
    ).toMatchObject({ recover: true, storage: { kind: 'local' } });
    expect(problemsOf({ ...hosted, recover: true, found: 'node-1' })).toEqual([
      '--recover and --found are separate starts',
    ]);
    expect(problemsOf(hosted, { VIGIL_RECOVER: 'yes' })).toEqual(['VIGIL_RECOVER must be 0 or 1']);
  });

  it('takes several trusted images for a rolling upgrade, each naming PCR0', () => {
    const c = parseClusterNodeConfig(
      { ...base, sealer: 'aws-kms', kmsKeyId: 'k', expectedPcrs: `0=${PCR0},1=${PCR1};0=${PCR1}` },
      {},
    );
    expect(c.attestation).toEqual({ kind: 'nitro', images: [{ 0: PCR0, 1: PCR1 }, { 0: PCR1 }] });
    expect(
      problemsOf({
        ...base,
        sealer: 'aws-kms',
        kmsKeyId: 'k',
        expectedPcrs: `0=${PCR0};1=${PCR1}`,
      }),
    ).toEqual([
      'nitro attestation needs a PCR policy: --expected-pcrs with at least PCR0 (the enclave image) for each image',
    ]);
    expect(
      problemsOf({
        ...base,
        insecureDevAttestation: true,
        expectedPcrs: `0=${PCR0};`.repeat(5),
      })[0],
    ).toBe('--expected-pcrs: at most 4 images');
  });

  it('refuses nitro without PCR0, and malformed PCRs', () => {
    const nitro = { ...base, sealer: 'aws-kms', kmsKeyId: 'k' };
    expect(problemsOf({ ...nitro, expectedPcrs: `1=${PCR1}` })).toEqual([
      'nitro attestation needs a PCR policy: --expected-pcrs with at least PCR0 (the enclave image) for each image',
    ]);
    expect(
      problemsOf({ ...nitro, expectedPcrs: `0=${PCR0.toUpperCase()},0=${PCR0},32=${PCR0},x` }),
    ).toEqual([
      '--expected-pcrs: PCR0 must be 96 lowercase hex digits (SHA-384)',
      '--expected-pcrs: "32=aaaaaaaaaaaaaaaaa" is not <index 0..31>=<hex>',
      '--expected-pcrs: "x" is not <index 0..31>=<hex>',
    ]);
    expect(problemsOf({ ...nitro, expectedPcrs: `0=${PCR0},0=${PCR0}` })).toEqual([
      '--expected-pcrs: PCR0 is given twice',
    ]);
  });

  it('refuses a bad peer list', () => {
    const dev = { ...base, insecureDevAttestation: true, port: '7400' };
    expect(
      problemsOf({
        ...dev,
        peers:
          'node-2@10.0.0.2:7400,node-2@10.0.0.3:7400,node-4@10.0.0.2:7400,' +
          'node-5@10.0.0.5:0,node 6@h:1,node-7@bad_host:1,,node-8@h:70000',
      }),
    ).toEqual([
      '--peers: node-2 is listed twice',
      '--peers: 10.0.0.2:7400 is listed twice',
      '--peers: bad port 0 for node-5',
      '--peers: bad slot name "node 6"',
      '--peers: bad host "bad_host" for node-7',
      '--peers: "" is not slot@host:port',
      '--peers: bad port 70000 for node-8',
    ]);
    expect(problemsOf({ ...dev, peers: Array(16).fill('a@h:1').join(',') })[0]).toBe(
      '--peers: at most 15 nodes',
    );
  });

  it('needs a fixed port with peers, an advertised address behind a wildcard, founders it knows', () => {
    expect(
      problemsOf({
        ...base,
        insecureDevAttestation: true,
        host: '::',
        peers: 'node-2@10.0.0.2:7400',
        found: 'node-2,node-9,node-2',
      }),
    ).toEqual([
      '--advertise-host is needed when --host is a wildcard address',
      '--port must be fixed when --peers is given (the peers dial it)',
      '--found: node-9 is neither this node nor in --peers',
      "--found must include this node's slot (node-1)",
      '--found names a slot twice',
    ]);
  });
});

describe('cluster node TLS and transport', () => {
  const nitro = { ...base, expectedPcrs: `0=${PCR0}`, port: '7400', raftPort: '7401' };

  it('serves attested HTTPS over TCP by default; dev mode defaults to plain HTTP', () => {
    const c = parseClusterNodeConfig(nitro, {});
    expect(c.tls).toBe(true);
    expect(c.transport).toEqual({ kind: 'tcp' });
    const dev = parseClusterNodeConfig({ ...base, insecureDevAttestation: true }, {});
    expect(dev.tls).toBe(false);
    expect(
      parseClusterNodeConfig({ ...base, insecureDevAttestation: true, tls: 'on' }, {}).tls,
    ).toBe(true);
  });

  it('refuses plain HTTP without the insecure dev attestation, and unknown values', () => {
    expect(problemsOf({ ...nitro, tls: 'off' })).toEqual([
      '--tls off (plain HTTP) needs --insecure-dev-attestation: a production node serves attested HTTPS',
    ]);
    expect(problemsOf({ ...nitro }, { VIGIL_TLS: 'yes', VIGIL_TRANSPORT: 'udp' })).toEqual([
      '--tls must be on or off, got "yes"',
      '--transport must be tcp or vsock, got "udp"',
    ]);
  });

  it('reads the vsock transport with its relay directory, and needs fixed ports for it', () => {
    const c = parseClusterNodeConfig({ ...nitro, transport: 'vsock', relayDir: '/run/x' }, {});
    expect(c.transport).toEqual({ kind: 'vsock', relayDir: '/run/x' });
    const d = parseClusterNodeConfig(nitro, { VIGIL_TRANSPORT: 'vsock' });
    expect(d.transport).toEqual({ kind: 'vsock', relayDir: '/run/vigil' });
    expect(problemsOf({ ...nitro, raftPort: '0', transport: 'vsock' })).toEqual([
      '--port and --raft-port must be fixed with --transport vsock (the parent instance forwards them)',
    ]);
  });
});
