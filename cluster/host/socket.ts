/**
 * Where the host agent listens and the node dials it: the only place either side creates a
 * socket, so an enclave build can route both through its transport (vsock) instead.
 *   unix:/path/to/socket      a Unix socket (same machine)
 *   host:port, [v6]:port      TCP
 */
import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HostError } from './protocol.ts';

export type HostAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export function parseHostAddress(text: string): HostAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (path.length === 0 || path.length > 100 || path.includes('\0')) {
      throw new HostError('HOST_MALFORMED', 'unix socket path: 1..100 characters');
    }
    return { kind: 'unix', path };
  }
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535) {
    throw new HostError('HOST_MALFORMED', `"${text}" is neither unix:<path> nor <host>:<port>`);
  }
  return { kind: 'tcp', host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export function formatHostAddress(a: HostAddress): string {
  return a.kind === 'unix'
    ? `unix:${a.path}`
    : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Dials the host agent; resolves once connected. */
export function dialHost(a: HostAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      a.kind === 'unix' ? connect({ path: a.path }) : connect({ host: a.host, port: a.port });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Listens for nodes; resolves with the server once bound (TCP port 0: any, see `address()`).
 * A Unix socket file left by a process that died is removed, one that answers is not.
 */
export async function listenHost(a: HostAddress, onSocket: (s: Socket) => void): Promise<Server> {
  try {
    return await bind(a, onSocket);
  } catch (e) {
    if (a.kind !== 'unix' || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const alive = await dialHost(a).then(
      (s) => {
        s.destroy();
        return true;
      },
      () => false,
    );
    if (alive) throw e;
    await unlink(a.path);
    return bind(a, onSocket);
  }
}

/** Loopback only for TCP: whoever connects gets the stores and the credentials. */
export function isLoopback(a: HostAddress): boolean {
  if (a.kind === 'unix') return true;
  return (
    a.host === 'localhost' || a.host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a.host)
  );
}

async function bind(a: HostAddress, onSocket: (s: Socket) => void): Promise<Server> {
  const server = await listen(a, onSocket);
  // only this user may connect to a Unix socket (the default would follow the umask)
  if (a.kind === 'unix') await chmod(a.path, 0o600);
  return server;
}

function listen(a: HostAddress, onSocket: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => {
      s.setNoDelay?.(true);
      onSocket(s);
    });
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve(server);
    };
    if (a.kind === 'unix') server.listen(a.path, ready);
    else server.listen(a.port, a.host, ready);
  });
}
