/**
 * node:http(s) agents whose sockets come from the transport seam, for clients that take an
 * agent rather than a fetch (the AWS SDK's KMS client). TLS runs end to end from the node to
 * the server, with the usual CA and host-name checks: the seam only carries the bytes (in an
 * enclave, through vsock to AWS's vsock-proxy on the parent).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SocketTransport } from '../../cluster/index.ts';

interface AgentConnectOptions {
  host?: string | null;
  port?: number | string | null;
  servername?: string;
}

function endpoint(o: AgentConnectOptions, defaultPort: number) {
  return { host: o.host ?? 'localhost', port: Number(o.port) || defaultPort };
}

export function agentsThrough(sockets: SocketTransport): {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
} {
  class SeamHttpAgent extends HttpAgent {
    override createConnection(o: AgentConnectOptions): Socket {
      return sockets.connect(endpoint(o, 80));
    }
  }
  class SeamHttpsAgent extends HttpsAgent {
    override createConnection(o: AgentConnectOptions & object): Socket {
      const to = endpoint(o, 443);
      return tlsConnect({
        ...(o as object),
        socket: sockets.connect(to),
        ...(isIP(to.host) ? {} : { servername: o.servername ?? to.host }),
      });
    }
  }
  return {
    httpAgent: new SeamHttpAgent({ keepAlive: true }),
    httpsAgent: new SeamHttpsAgent({ keepAlive: true }),
  };
}
