/**
 * A minimal HTTP/1.1 keep-alive client for the cluster benchmark's hot loop: one connection per
 * benchmark client, one request at a time, the request head prebuilt, the reply parsed only as far
 * as the status and Content-Length. It exists because the load generator shares the machine's two
 * cores with the cluster it measures (as etcd's Go benchmark tool did): node:http's client costs
 * ~100-170 µs of CPU per request here, most of it generic machinery this loop does not need. It
 * speaks plain HTTP/1.1 to the real server; anything it does not understand (chunked bodies, a
 * closed connection) fails the request loudly instead of being guessed at. The same client drives
 * Vigil's binary bench route and etcd's JSON gateway, so both pay the same load generator.
 */
import { connect, type Socket } from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

export class RawHttpConnection {
  readonly #socket: Socket;
  readonly #head: string;
  #pending: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (status: number) => void; reject: (e: Error) => void } | null = null;

  private constructor(socket: Socket, head: string) {
    this.#socket = socket;
    this.#head = head;
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  /** Opens a connection that POSTs bodies of `contentType` to `url`. */
  static async open(
    url: string,
    contentType = 'application/octet-stream',
  ): Promise<RawHttpConnection> {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`raw HTTP client: http only, not ${u.protocol}`);
    const socket = connect({ host: u.hostname, port: Number(u.port || 80), noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const head = `POST ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: ${contentType}\r\ncontent-length: `;
    return new RawHttpConnection(socket, head);
  }

  /** Whether the connection is gone (closed by either side, or failed): open another. */
  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** Sends one request and resolves with the reply's status once its whole body has arrived. */
  post(body: Uint8Array): Promise<number> {
    if (this.#waiting) return Promise.reject(new Error('raw HTTP client: one request at a time'));
    // a destroyed socket drops writes without an error event: the reply would never come
    if (this.closed) return Promise.reject(new Error('raw HTTP client: connection closed'));
    const done = new Promise<number>((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
    this.#socket.cork();
    this.#socket.write(`${this.#head}${body.length}\r\n\r\n`);
    this.#socket.write(body);
    this.#socket.uncork();
    return done;
  }

  /** Closes the connection; a request in flight fails. */
  close(): void {
    this.#fail(new Error('connection closed'));
  }

  #onData(d: Buffer): void {
    this.#pending = this.#pending.length === 0 ? d : Buffer.concat([this.#pending, d]);
    const end = this.#pending.indexOf(CRLF2);
    if (end < 0) return;
    const head = this.#pending.toString('latin1', 0, end);
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    if (!status) {
      this.#fail(new Error(`raw HTTP client: bad status line: ${head.slice(0, 40)}`));
      return;
    }
    if (/\r\ntransfer-encoding:/i.test(head)) {
      this.#fail(new Error('raw HTTP client: chunked replies are not supported'));
      return;
    }
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.#pending.length < end + 4 + length) return; // the body is still arriving
    this.#pending = this.#pending.subarray(end + 4 + length);
    const w = this.#waiting;
    this.#waiting = null;
    w?.resolve(Number(status[1]));
  }

  #fail(e: Error): void {
    const w = this.#waiting;
    this.#waiting = null;
    this.#socket.destroy();
    w?.reject(e);
  }
}
