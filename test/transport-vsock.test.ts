/**
 * The vsock transport as an enclave uses it: each node listens and dials only on Unix sockets in
 * its relay directory, and socat bridges them (enclave side and parent side). Where this kernel
 * has vsock loopback the middle leg is real vsock; otherwise it is loopback TCP (printed).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  keyPairFromPrivate,
  type PeerAddress,
  PeerNetwork,
  relaySocketName,
  vsockTransport,
} from '../cluster/index.ts';
import { relay, socatMissing, stopBridges, vsockLoopbackMissing } from './support/socat.ts';
import { until } from './support/until.ts';

const missing = socatMissing();
if (missing) console.warn(`transport-vsock: skipped: ${missing}`);

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await stopBridges();
});

async function tempDir(): Promise<string> {
  // short: a Unix socket path is at most 107 bytes
  const dir = await mkdtemp(join(tmpdir(), 'vr-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe.skipIf(missing !== null)('vsock transport through relay sockets', () => {
  it('carries authenticated peer links both ways through socat bridges', async () => {
    const vsockWhy = await vsockLoopbackMissing();
    console.warn(
      `transport-vsock: middle leg over ${vsockWhy ? `loopback TCP: ${vsockWhy}` : 'vsock'}`,
    );
    const [dirA, dirB] = [await tempDir(), await tempDir()];
    const keyA = keyPairFromPrivate(randomBytes(32));
    const keyB = keyPairFromPrivate(randomBytes(32));
    // the addresses each node advertises: what the other's parent instance would dial
    const peers = new Map<string, PeerAddress>([
      ['a', { publicKey: keyA.publicKey, host: '10.0.1.10', port: 7401 }],
      ['b', { publicKey: keyB.publicKey, host: '10.0.2.10', port: 7401 }],
    ]);
    await relay(
      join(dirB, relaySocketName(peers.get('a')!)),
      join(dirA, 'listen-raft.sock'),
      !vsockWhy,
    );
    await relay(
      join(dirA, relaySocketName(peers.get('b')!)),
      join(dirB, 'listen-raft.sock'),
      !vsockWhy,
    );
    const inbox = { a: [] as string[], b: [] as string[] };
    const node = (id: 'a' | 'b', dir: string, key: typeof keyA) => {
      const net = new PeerNetwork({
        clusterId: 'c1',
        selfId: id,
        staticKey: key,
        listen: { host: '0.0.0.0', port: 7401 },
        transport: vsockTransport(dir),
        peers,
        onMessage: (from, m) => inbox[id].push(`${from}:${Buffer.from(m).toString()}`),
      });
      cleanup.push(() => net.close());
      return net;
    };
    const a = node('a', dirA, keyA);
    const b = node('b', dirB, keyB);
    expect(await a.start()).toBe(7401);
    await b.start();
    for (let i = 0; i < 20; i++) a.send('b', Buffer.from(`m${i}`));
    b.send('a', Buffer.from('hello a'));
    await until(() => inbox.b.length === 20 && inbox.a.length === 1, 20_000, 'both directions');
    expect(inbox.b).toEqual(Array.from({ length: 20 }, (_, i) => `a:m${i}`));
    expect(inbox.a).toEqual(['b:hello a']);
  });

  it('cannot reach a destination that has no relay socket, and says why', async () => {
    const dir = await tempDir();
    const socket = vsockTransport(dir).connect({ host: '10.9.9.9', port: 7401 });
    const err = await new Promise<NodeJS.ErrnoException>((r) => socket.once('error', r));
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain(join(dir, 'to-10.9.9.9-7401.sock'));
  });
});

describe('relay socket names', () => {
  it('names a destination by host and port, IPv6 without brackets', () => {
    expect(relaySocketName({ host: 'kms.eu-west-1.amazonaws.com', port: 443 })).toBe(
      'to-kms.eu-west-1.amazonaws.com-443.sock',
    );
    expect(relaySocketName({ host: '[fd00::1]', port: 7400 })).toBe('to-fd00::1-7400.sock');
  });

  it('refuses hosts that could escape the directory, and paths too long for a socket', async () => {
    expect(() => relaySocketName({ host: '../etc', port: 1 })).toThrow(/no relay name/);
    expect(() => relaySocketName({ host: 'a/b', port: 1 })).toThrow(/no relay name/);
    const t = vsockTransport(`/tmp/${'d'.repeat(100)}`);
    expect(() => t.listenTarget('http', { host: '0.0.0.0', port: 1 })).toThrow(/longer than 107/);
    const s = t.connect({ host: 'example.org', port: 443 });
    const err = await new Promise<Error>((r) => s.once('error', r));
    expect(err.message).toMatch(/longer than 107/);
  });
});
