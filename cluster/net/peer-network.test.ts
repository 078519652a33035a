import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { keyPairFromPrivate, type StaticKeyPair } from './noise.ts';
import { type PeerAddress, PeerNetwork } from './peer-network.ts';

interface TestNode {
  id: string;
  key: StaticKeyPair;
  port: number;
  net: PeerNetwork;
  inbox: Array<[string, string]>;
}

const open: PeerNetwork[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function cluster(count: number, clusterId = 'c1') {
  const specs = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      id: `n${i + 1}`,
      key: keyPairFromPrivate(randomBytes(32)),
      port: await freePort(),
    })),
  );
  const peers = new Map<string, PeerAddress>(
    specs.map((s) => [s.id, { publicKey: s.key.publicKey, host: '127.0.0.1', port: s.port }]),
  );
  const nodes: TestNode[] = [];
  for (const s of specs) {
    const inbox: Array<[string, string]> = [];
    const net = new PeerNetwork({
      clusterId,
      selfId: s.id,
      staticKey: s.key,
      listen: { host: '127.0.0.1', port: s.port },
      peers,
      onMessage: (from, m) => inbox.push([from, Buffer.from(m).toString()]),
    });
    open.push(net);
    nodes.push({ ...s, net, inbox });
  }
  await Promise.all(nodes.map((n) => n.net.start()));
  return { nodes, peers };
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PeerNetwork over loopback TCP', () => {
  it('delivers messages in order between members, labelled with the authenticated sender', async () => {
    const { nodes } = await cluster(3);
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    for (let i = 0; i < 50; i++) a.net.send('n2', Buffer.from(`m${i}`));
    c.net.send('n2', Buffer.from('from c'));
    await until(() => b.inbox.length === 51);
    const fromA = b.inbox.filter(([f]) => f === 'n1').map(([, m]) => m);
    expect(fromA).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(b.inbox).toContainEqual(['n3', 'from c']);
  });

  it('drops a stranger: a node with an unknown key is never heard', async () => {
    const { nodes, peers } = await cluster(2);
    const [a] = nodes as [TestNode];
    const stranger = new PeerNetwork({
      clusterId: 'c1',
      selfId: 'n2',
      staticKey: keyPairFromPrivate(randomBytes(32)),
      listen: { host: '127.0.0.1', port: await freePort() },
      peers,
      onMessage: () => {},
    });
    open.push(stranger);
    await stranger.start();
    stranger.send('n1', Buffer.from('let me in'));
    // n1 cuts the stranger off after each handshake, so it keeps having to reconnect.
    await until(() => (stranger.stats().get('n1')?.reconnects ?? 0) >= 2);
    stranger.send('n1', Buffer.from('let me in, again'));
    await new Promise((r) => setTimeout(r, 100));
    expect(a.inbox).toEqual([]);
  });

  it('hears a stranger only when its handshake introduction is vouched for', async () => {
    const { nodes, peers } = await cluster(1);
    const [a] = nodes as [TestNode];
    const vouched: string[] = [];
    const key = keyPairFromPrivate(randomBytes(32));
    const port = await freePort();
    // n1 again, now willing to vouch for an introduction that says "n9 ok"
    await a.net.close();
    const inbox: Array<[string, string]> = [];
    const n1 = new PeerNetwork({
      clusterId: 'c1',
      selfId: 'n1',
      staticKey: a.key,
      listen: { host: '127.0.0.1', port: a.port },
      peers: new Map(),
      onMessage: (from, m) => inbox.push([from, Buffer.from(m).toString()]),
      vouch: (remote, intro) => {
        const said = Buffer.from(intro).toString();
        vouched.push(said);
        if (said !== 'n9 ok' || Buffer.compare(remote, key.publicKey) !== 0) return undefined;
        n1.setPeers(new Map([['n9', { publicKey: remote, host: '127.0.0.1', port }]]));
        return 'n9';
      },
    });
    open.push(n1);
    await n1.start();
    const dialer = (introduction: string, staticKey = key) => {
      const net = new PeerNetwork({
        clusterId: 'c1',
        selfId: 'n9',
        staticKey,
        listen: { host: '127.0.0.1', port: 0 },
        peers: new Map([['n1', peers.get('n1')!]]),
        onMessage: () => {},
        introduction: () => Buffer.from(introduction),
      });
      open.push(net);
      return net;
    };
    // refused by the vouch, or no introduction at all: never heard
    const refused = dialer('n9 not ok');
    await refused.start();
    refused.send('n1', Buffer.from('refused'));
    await until(() => (refused.stats().get('n1')?.reconnects ?? 0) >= 2);
    const silent = dialer('', keyPairFromPrivate(randomBytes(32)));
    await silent.start();
    silent.send('n1', Buffer.from('silent'));
    await until(() => (silent.stats().get('n1')?.reconnects ?? 0) >= 2);
    expect(vouched.every((v) => v === 'n9 not ok')).toBe(true);
    expect(inbox).toEqual([]);
    await refused.close();
    const accepted = dialer('n9 ok');
    await accepted.start();
    accepted.send('n1', Buffer.from('hello'));
    await until(() => inbox.length === 1);
    expect(inbox).toEqual([['n9', 'hello']]);
  });

  it('refuses a peer of another cluster (prologue binds the cluster id)', async () => {
    const { nodes, peers } = await cluster(2, 'c1');
    const [a, b] = nodes as [TestNode, TestNode];
    const impostor = new PeerNetwork({
      clusterId: 'c2',
      selfId: 'n2',
      staticKey: b.key,
      listen: { host: '127.0.0.1', port: await freePort() },
      peers,
      onMessage: () => {},
    });
    open.push(impostor);
    await impostor.start();
    impostor.send('n1', Buffer.from('wrong cluster'));
    await new Promise((r) => setTimeout(r, 300));
    expect(a.inbox.map(([, m]) => m)).not.toContain('wrong cluster');
  });

  it('reconnects after a peer restarts and keeps queued messages', async () => {
    const { nodes, peers } = await cluster(2);
    const [a, b] = nodes as [TestNode, TestNode];
    a.net.send('n2', Buffer.from('before'));
    await until(() => b.inbox.length === 1);
    await b.net.close();
    // Messages written before the sender notices a dead link may be lost (Raft retransmits);
    // once it has noticed, they wait in the bounded queue for the next connection.
    await until(() => a.net.stats().get('n2')?.connected === false);
    a.net.send('n2', Buffer.from('while down'));
    const inbox: Array<[string, string]> = [];
    const revived = new PeerNetwork({
      clusterId: 'c1',
      selfId: 'n2',
      staticKey: b.key,
      listen: { host: '127.0.0.1', port: b.port },
      peers,
      onMessage: (from, m) => inbox.push([from, Buffer.from(m).toString()]),
    });
    open.push(revived);
    await revived.start();
    a.net.send('n2', Buffer.from('after'));
    await until(() => inbox.some(([, m]) => m === 'after'));
    expect(inbox.map(([, m]) => m)).toEqual(['while down', 'after']);
    expect(a.net.stats().get('n2')?.reconnects).toBeGreaterThan(0);
  });

  it('bounds each peer queue and counts what it drops', async () => {
    const key = keyPairFromPrivate(randomBytes(32));
    const net = new PeerNetwork({
      clusterId: 'c1',
      selfId: 'n1',
      staticKey: key,
      listen: { host: '127.0.0.1', port: await freePort() },
      peers: new Map([['n2', { publicKey: randomBytes(32), host: '127.0.0.1', port: 1 }]]),
      onMessage: () => {},
      maxQueueBytes: 1000,
    });
    open.push(net);
    let accepted = 0;
    for (let i = 0; i < 20; i++) if (net.send('n2', new Uint8Array(100))) accepted++;
    expect(accepted).toBe(10);
    expect(net.stats().get('n2')?.dropped).toBe(10);
    expect(net.send('nobody', new Uint8Array(1))).toBe(false);
  });
});
