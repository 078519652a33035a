/**
 * A TCP proxy on loopback that a test can cut and restore, to make a server unreachable without
 * stopping it (stopping a vault would void its claims; a network outage must not).
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface PausableProxy {
  url: string;
  /** Drops every open connection and refuses new ones until `up()`. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startPausableProxy(target: string): Promise<PausableProxy> {
  const { hostname, port } = new URL(target);
  let cut = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (cut) return client.destroy();
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    down() {
      cut = true;
      for (const s of open) s.destroy();
    },
    up() {
      cut = false;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
