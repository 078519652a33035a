/**
 * Stable addresses for the local stack's vault nodes. The cluster supervisor gives every node a
 * new port each time it starts one (after `npm start` again, or when it replaces a node that
 * died), and a wallet that recorded those URLs could no longer reach its vault. So the stack
 * listens on one loopback port per slot, remembered in `<data>/ports.json`, and forwards each
 * connection to wherever that slot's node is now (its `hello.json`). Wallets record these URLs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { readHello } from '../vault/index.ts';

export const PORTS_FILE = 'ports.json';

export interface StackFronts {
  /** Stable URL per slot, in the order of `slots`. */
  urls: string[];
  close(): Promise<void>;
}

async function rememberedPorts(dataDir: string): Promise<Record<string, number>> {
  try {
    const v = JSON.parse(await readFile(join(dataDir, PORTS_FILE), 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(
      Object.entries(v).filter(
        ([, p]) => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65_536,
      ),
    ) as Record<string, number>;
  } catch {
    return {};
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function openStackFronts(opts: {
  dataDir: string;
  clusterDir: string;
  slots: string[];
}): Promise<StackFronts> {
  const ports = await rememberedPorts(opts.dataDir);
  const servers: Server[] = [];
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  };
  const close = async () => {
    for (const s of open) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
  try {
    for (const slot of opts.slots) {
      const server = createServer((client) => {
        track(client);
        client.on('error', () => client.destroy());
        client.pause();
        readHello(opts.clusterDir, slot).then(
          (hello) => {
            if (!hello || client.destroyed) return client.destroy();
            const { hostname, port } = new URL(hello.url);
            const upstream = createConnection({ host: hostname, port: Number(port) });
            track(upstream);
            upstream.on('error', () => client.destroy());
            client.on('close', () => upstream.destroy());
            upstream.on('close', () => client.destroy());
            client.pipe(upstream).pipe(client);
            client.resume();
          },
          () => client.destroy(),
        );
      });
      servers.push(server);
      const wanted = ports[slot] ?? 0;
      try {
        ports[slot] = await listen(server, wanted);
      } catch (err) {
        throw new Error(
          `port ${wanted} of vault ${slot} (remembered in ${join(opts.dataDir, PORTS_FILE)} so ` +
            `wallets keep working) is taken: ${(err as Error).message}; free it, or delete ` +
            `${PORTS_FILE} to get new ports (wallets made before then need --vault)`,
        );
      }
    }
    await writeFile(join(opts.dataDir, PORTS_FILE), `${JSON.stringify(ports, null, 2)}\n`);
  } catch (err) {
    await close();
    throw err;
  }
  return { urls: opts.slots.map((s) => `http://127.0.0.1:${ports[s]}`), close };
}
