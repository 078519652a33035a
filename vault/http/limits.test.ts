/**
 * Issue 11 item 6 on real sockets: a request whose body trickles in is cut after the request
 * timeout, and one address cannot hold more than its share of connections (before, 50 slow-body
 * connections stayed open for 75 s).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DevAttestationProvider } from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { buildVaultApp, type VaultBackend } from './app.ts';

const notHere = () => {
  throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);
};
const backend: VaultBackend = {
  submit: async () => notHere(),
  mintPingNonce: notHere,
  mintClaimNonce: notHere,
  machine: { wallet: () => null, claim: () => null, lastIndex: 0 },
  receipt: async () => null,
  publicKeys: {
    clusterId: new Uint8Array(32),
    clusterEncryptionKey: new Uint8Array(32),
    receiptKey: new Uint8Array(32),
  },
};

const sockets: Socket[] = [];
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await close?.();
});

async function serve(): Promise<number> {
  const app = await buildVaultApp({
    backend,
    attestation: new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: new Uint8Array(32).fill(7),
      warn: () => {},
    }),
    limits: { requestTimeoutMs: 400, idleTimeoutMs: 5_000, maxConnectionsPerAddress: 3 },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  close = () => app.close();
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

function open(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const t0 = Date.now();
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - t0)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('connection limits of the vault API', () => {
  it('cuts a request whose body never finishes', async () => {
    const port = await serve();
    const { socket, closed } = await open(port);
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
    });
    socket.write(
      'POST /v1/deposits HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 100\r\n\r\n{"tenant":',
    );
    // a byte every 200 ms: never idle long enough for the idle timeout
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    closed.finally(() => clearInterval(trickle));
    const ms = await closed;
    // a 400 ms request deadline, well before the 5 s idle timeout (generous for a busy box)
    expect(ms).toBeLessThan(4_000);
    // cut before the handler ever ran: no answer, or the server's 408
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 20_000);

  it('refuses connections beyond the per-address cap, and serves the ones it kept', async () => {
    const port = await serve();
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(await open(port));
    const outcome = await Promise.all(
      conns.map(
        (c) =>
          new Promise<'closed' | 'served'>((resolve) => {
            c.closed.then(() => resolve('closed'));
            c.socket.once('data', () => resolve('served'));
            c.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
          }),
      ),
    );
    expect(outcome.filter((o) => o === 'served').length).toBe(3);
    expect(outcome.filter((o) => o === 'closed').length).toBe(2);
  }, 20_000);
});
