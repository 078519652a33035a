/**
 * Encrypted, mutually authenticated links between cluster members. Each node dials every peer and
 * sends only on its own outbound link; inbound links only receive. A message from a key that is
 * not a current member never reaches the caller, unless the dialer's introduction (sent inside
 * the handshake, authenticated by its key) is accepted by the caller's `vouch`: so a member that
 * lags behind the addition of a newer one can still hear it. Sends never block: each peer has a
 * bounded queue, and what overflows is dropped and counted (Raft retransmits).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { StaticKeyPair } from './noise.ts';
import { establish, type SecureSocket } from './secure-socket.ts';
import { type SocketTransport, tcpTransport } from './transport.ts';

export interface PeerAddress {
  /** The peer's static X25519 key, as bound in its attestation document. */
  publicKey: Uint8Array;
  host: string;
  port: number;
}

export interface PeerLinkStats {
  connected: boolean;
  queuedMessages: number;
  queuedBytes: number;
  sent: number;
  received: number;
  dropped: number;
  reconnects: number;
}

export interface PeerNetworkOptions {
  clusterId: string;
  selfId: string;
  staticKey: StaticKeyPair;
  listen: { host: string; port: number };
  peers: Map<string, PeerAddress>;
  onMessage: (from: string, message: Uint8Array) => void;
  maxFrameBytes?: number;
  maxQueueBytes?: number;
  handshakeTimeoutMs?: number;
  onLinkChange?: (peerId: string, connected: boolean) => void;
  /** How links are listened for and dialled (default TCP; vsock in an enclave). */
  transport?: SocketTransport;
  /** What this node says about itself when it dials (empty: nothing); read on every dial. */
  introduction?: () => Uint8Array;
  /**
   * Asked when a key that is not a peer dials in with an introduction: the peer id to accept it
   * as (the caller makes it a peer first, see `setPeers`), or undefined to refuse it.
   */
  vouch?: (remoteStatic: Uint8Array, introduction: Uint8Array) => string | undefined;
}

interface OutboundLink {
  address: PeerAddress;
  channel: SecureSocket | undefined;
  connecting: boolean;
  queue: Uint8Array[];
  stats: PeerLinkStats;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 3_000;

export class PeerNetwork {
  readonly #opts: Required<Omit<PeerNetworkOptions, 'onLinkChange' | 'introduction' | 'vouch'>> &
    Pick<PeerNetworkOptions, 'onLinkChange' | 'introduction' | 'vouch'>;
  readonly #links = new Map<string, OutboundLink>();
  readonly #inbound = new Set<Socket>();
  readonly #received = new Map<string, number>();
  #server: Server | undefined;
  #closed = false;

  constructor(opts: PeerNetworkOptions) {
    this.#opts = {
      maxFrameBytes: 8 * 1024 * 1024,
      maxQueueBytes: 64 * 1024 * 1024,
      handshakeTimeoutMs: 5_000,
      transport: tcpTransport(),
      ...opts,
    };
    this.setPeers(opts.peers);
  }

  get #prologue(): Uint8Array {
    return utf8ToBytes(`vigil/v1/cluster-link/${this.#opts.clusterId}`);
  }

  /** Listens for inbound links; resolves with the bound port. */
  async start(): Promise<number> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.transport.listenTarget('raft', this.#opts.listen), () => resolve());
    });
    for (const id of this.#links.keys()) this.#dial(id);
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.#opts.listen.port;
  }

  /** Replaces the membership: links to removed peers close, new peers are dialled. */
  setPeers(peers: Map<string, PeerAddress>): void {
    for (const [id, link] of this.#links) {
      const next = peers.get(id);
      if (!next || bytesToHex(next.publicKey) !== bytesToHex(link.address.publicKey)) {
        this.#drop(id);
      }
    }
    for (const [id, address] of peers) {
      if (id === this.#opts.selfId || this.#links.has(id)) continue;
      this.#links.set(id, {
        address,
        channel: undefined,
        connecting: false,
        queue: [],
        stats: {
          connected: false,
          queuedMessages: 0,
          queuedBytes: 0,
          sent: 0,
          received: 0,
          dropped: 0,
          reconnects: 0,
        },
        backoffMs: MIN_BACKOFF_MS,
        timer: undefined,
      });
      if (this.#server) this.#dial(id);
    }
    this.#opts.peers = peers;
  }

  /** Queues a message for a peer; returns false if it was dropped (unknown peer or queue full). */
  send(to: string, message: Uint8Array): boolean {
    const link = this.#links.get(to);
    if (!link || this.#closed) return false;
    if (message.length > this.#opts.maxFrameBytes) throw new Error('message exceeds frame limit');
    if (link.stats.queuedBytes + message.length > this.#opts.maxQueueBytes) {
      link.stats.dropped += 1;
      return false;
    }
    link.queue.push(message);
    link.stats.queuedMessages += 1;
    link.stats.queuedBytes += message.length;
    this.#flush(link);
    return true;
  }

  /** Put every message queued so far on the wire now (sends are corked until then). */
  flush(): void {
    for (const link of this.#links.values()) link.channel?.flush();
  }

  stats(): Map<string, PeerLinkStats> {
    const out = new Map<string, PeerLinkStats>();
    for (const [id, link] of this.#links) {
      out.set(id, { ...link.stats, received: this.#received.get(id) ?? 0 });
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#links.keys()]) this.#drop(id);
    for (const socket of this.#inbound) socket.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #authorize = (remoteStatic: Uint8Array, introduction: Uint8Array): string | undefined => {
    const hex = bytesToHex(remoteStatic);
    for (const [id, peer] of this.#opts.peers) {
      if (id !== this.#opts.selfId && bytesToHex(peer.publicKey) === hex) return id;
    }
    if (introduction.length === 0 || this.#opts.vouch === undefined) return undefined;
    const id = this.#opts.vouch(remoteStatic, introduction);
    // accepted only as the peer the caller made of it, with that very key
    const peer = id === undefined ? undefined : this.#opts.peers.get(id);
    return peer && bytesToHex(peer.publicKey) === hex ? id : undefined;
  };

  #deliver = (from: string, message: Uint8Array): void => {
    this.#received.set(from, (this.#received.get(from) ?? 0) + 1);
    this.#opts.onMessage(from, message);
  };

  #accept(socket: Socket): void {
    if (this.#closed) return void socket.destroy();
    socket.setNoDelay(true);
    this.#inbound.add(socket);
    socket.on('close', () => this.#inbound.delete(socket));
    establish(
      {
        socket,
        initiator: false,
        staticKey: this.#opts.staticKey,
        prologue: this.#prologue,
        authorize: this.#authorize,
        maxFrameBytes: this.#opts.maxFrameBytes,
        handshakeTimeoutMs: this.#opts.handshakeTimeoutMs,
      },
      (from, message) => {
        // A peer removed after its handshake must not be heard from any more.
        if (this.#links.has(from)) this.#deliver(from, message);
        else socket.destroy();
      },
    ).catch(() => {
      /* refused or failed handshakes just close the socket */
    });
  }

  #dial(id: string): void {
    const link = this.#links.get(id);
    if (!link || link.connecting || link.channel || this.#closed) return;
    link.connecting = true;
    const expected = bytesToHex(link.address.publicKey);
    const socket = this.#opts.transport.connect(link.address);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    establish(
      {
        socket,
        initiator: true,
        staticKey: this.#opts.staticKey,
        prologue: this.#prologue,
        authorize: (remote) => (bytesToHex(remote) === expected ? id : undefined),
        introduction: this.#opts.introduction?.(),
        maxFrameBytes: this.#opts.maxFrameBytes,
        handshakeTimeoutMs: this.#opts.handshakeTimeoutMs,
      },
      // Outbound links are send-only; a peer talking back on one is ignored.
      () => {},
    ).then(
      (channel) => {
        link.connecting = false;
        if (this.#links.get(id) !== link || this.#closed) return channel.close();
        link.channel = channel;
        link.stats.connected = true;
        link.backoffMs = MIN_BACKOFF_MS;
        this.#opts.onLinkChange?.(id, true);
        socket.on('drain', () => this.#flush(link));
        socket.on('close', () => {
          link.channel = undefined;
          link.stats.connected = false;
          this.#opts.onLinkChange?.(id, false);
          this.#retry(id, link);
        });
        this.#flush(link);
      },
      () => {
        link.connecting = false;
        this.#retry(id, link);
      },
    );
  }

  #retry(id: string, link: OutboundLink): void {
    if (this.#closed || this.#links.get(id) !== link || link.timer) return;
    const delay = link.backoffMs * (0.5 + Math.random());
    link.backoffMs = Math.min(MAX_BACKOFF_MS, link.backoffMs * 2);
    link.stats.reconnects += 1;
    link.timer = setTimeout(() => {
      link.timer = undefined;
      this.#dial(id);
    }, delay);
  }

  #flush(link: OutboundLink): void {
    const channel = link.channel;
    if (!channel) return;
    while (link.queue.length > 0) {
      const message = link.queue.shift()!;
      link.stats.queuedMessages -= 1;
      link.stats.queuedBytes -= message.length;
      link.stats.sent += 1;
      if (!channel.write(message)) break;
    }
  }

  #drop(id: string): void {
    const link = this.#links.get(id);
    if (!link) return;
    this.#links.delete(id);
    if (link.timer) clearTimeout(link.timer);
    link.channel?.close();
  }
}
