/**
 * The one seam every socket of a node passes through: its HTTP API and Raft listeners, its dials
 * to peers, to the host agent and to KMS. Two kinds:
 *
 * - `tcp`: listen on host:port and dial host:port (a laptop, a VM).
 * - `vsock`: an enclave has no network, only vsock. The node listens and dials on Unix sockets in
 *   one directory, and socat in the image bridges each of them to a vsock port (the parent
 *   instance bridges those on to TCP, or to KMS through AWS's vsock-proxy). The node never opens
 *   AF_VSOCK itself, so it needs no native addon, and the same node code runs in both places.
 *
 * Socket names in the relay directory (docs/operator-guide.md, "SocketTransport"):
 *   listen-<service>.sock   what the node serves (`http`, `raft`), bridged from vsock-listen ports
 *   to-<host>-<port>.sock   a destination the node may dial, bridged to a vsock-connect port
 * A destination without its socket cannot be reached: the enclave has no other route.
 */

import { rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';

export interface Endpoint {
  host: string;
  port: number;
}

/** What `net.Server.listen` takes: a TCP address or a Unix socket path. */
export type ListenTarget = { host: string; port: number } | { path: string };

export type ServiceName = 'http' | 'raft';

export interface SocketTransport {
  readonly kind: 'tcp' | 'vsock';
  /** Where to listen for `service`, which the world reaches at `wanted` (host and port). */
  listenTarget(service: ServiceName, wanted: Endpoint): ListenTarget;
  /** A connecting socket to `to` (errors arrive as the socket's 'error' event). */
  connect(to: Endpoint): Socket;
}

/** `[::1]` → `::1`: sockets take bare IPv6 hosts, URLs keep the brackets. */
export const bareHost = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

export function tcpTransport(): SocketTransport {
  return {
    kind: 'tcp',
    listenTarget: (_service, wanted) => ({ host: bareHost(wanted.host), port: wanted.port }),
    connect: (to) => connect({ host: bareHost(to.host), port: to.port }),
  };
}

/** Linux caps a Unix socket path at 107 bytes (sun_path is 108 with its NUL). */
const MAX_SOCKET_PATH = 107;

export function relaySocketName(to: Endpoint): string {
  const host = bareHost(to.host).toLowerCase();
  if (!/^[a-z0-9.:_-]{1,253}$/.test(host)) throw new Error(`no relay name for host ${to.host}`);
  return `to-${host}-${to.port}.sock`;
}

function checkedPath(dir: string, name: string): string {
  const path = join(dir, name);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`relay socket path longer than ${MAX_SOCKET_PATH} bytes: ${path}`);
  }
  return path;
}

/** The enclave's transport: Unix sockets in `dir`, bridged to vsock by socat (see above). */
export function vsockTransport(dir: string): SocketTransport {
  return {
    kind: 'vsock',
    listenTarget(service) {
      const path = checkedPath(dir, `listen-${service}.sock`);
      // a socket file left by the previous run of this node would make listen fail
      rmSync(path, { force: true });
      return { path };
    },
    connect(to) {
      let path: string;
      try {
        path = checkedPath(dir, relaySocketName(to));
      } catch (e) {
        // the same shape as a refused connection: an error event on a socket
        const s = new Socket();
        process.nextTick(() => s.destroy(e as Error));
        return s;
      }
      return connect({ path });
    },
  };
}
