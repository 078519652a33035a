/**
 * A TCP proxy on loopback that a test can cut and restore, to make a server unreachable without
 * stopping it (stopping a vault would void its claims; a network outage must not). Cut, it stops
 * listening, so connecting is refused as it is for a host that is down; restored, it listens on
 * the same port again.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface PausableProxy {
  url: string;
  /** Drops every open connection and stops listening until `up()`. */
  down(): Promise<void>;
  /** Sends new connections to another target, dropping the open ones. */
  retarget(target: string): void;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** `at`: where the proxy listens (default: any port on 127.0.0.1). */
export async function startPausableProxy(
  target: string,
  at: { host: string; port: number } = { host: '127.0.0.1', port: 0 },
): Promise<PausableProxy> {
  let { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, at.host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stop = () => {
    for (const s of open) s.destroy();
    return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
  };
  const own = await listen(at.port);
  return {
    url: `http://${at.host}:${own}`,
    down: stop,
    retarget(next) {
      ({ hostname, port } = new URL(next));
      for (const s of open) s.destroy();
    },
    async up() {
      await listen(own);
    },
    close: stop,
  };
}
