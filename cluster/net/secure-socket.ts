/**
 * A Noise XX channel over one TCP socket. The handshake runs first, bounded in time and size; the
 * caller's `authorize` decides from the peer's proven static key whether to keep the connection.
 */

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from './framing.ts';
import { type CipherState, type StaticKeyPair, XXHandshake } from './noise.ts';

const HANDSHAKE_FRAME_MAX = 128;
const TAG_BYTES = 16;
/** Noise's message limit (65,535 bytes) less the third message's key and two tags. */
export const MAX_INTRODUCTION_BYTES = 65_535 - 32 - 2 * TAG_BYTES;

export interface SecureSocketOptions {
  socket: Socket;
  initiator: boolean;
  staticKey: StaticKeyPair;
  prologue: Uint8Array;
  /**
   * Returns the peer id for an acceptable static key, or undefined to refuse the peer. On the
   * responder's side `introduction` is what the initiator said about itself in the handshake
   * (empty if nothing), authenticated by the initiator's static key.
   */
  authorize: (remoteStatic: Uint8Array, introduction: Uint8Array) => string | undefined;
  /** The initiator's introduction, sent in the third handshake message (at most MAX_INTRODUCTION_BYTES). */
  introduction?: Uint8Array;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
}

export class SecureSocket {
  readonly peerId: string;
  readonly socket: Socket;
  readonly #send: CipherState;
  #corked = false;

  constructor(peerId: string, socket: Socket, send: CipherState) {
    this.peerId = peerId;
    this.socket = socket;
    this.#send = send;
  }

  /** Returns false when the socket's buffer is full (the caller should hold back). */
  write(message: Uint8Array): boolean {
    // Everything written in one go (a Ready's messages) leaves in one syscall: corked here,
    // uncorked by `flush` or else once the current work is done.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => this.flush());
    }
    return this.socket.write(encodeFrame(this.#send.encrypt(new Uint8Array(0), message)));
  }

  /** Send what is corked now instead of at the end of the current work. */
  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Runs the handshake, then calls `onMessage` for each decrypted message. Rejects (and destroys the
 * socket) on timeout, a refused peer, a bad frame or a failed authentication tag.
 */
export function establish(
  opts: SecureSocketOptions,
  onMessage: (peerId: string, message: Uint8Array) => void,
): Promise<SecureSocket> {
  const { socket } = opts;
  const hs = new XXHandshake({
    initiator: opts.initiator,
    staticKey: opts.staticKey,
    ephemeralPrivateKey: randomBytes(32),
    prologue: opts.prologue,
  });
  const decoder = new FrameDecoder(HANDSHAKE_FRAME_MAX);
  const introduction = opts.initiator ? opts.introduction : undefined;
  if ((introduction?.length ?? 0) > MAX_INTRODUCTION_BYTES) {
    socket.destroy();
    return Promise.reject(new Error('introduction exceeds the handshake limit'));
  }
  let receive: CipherState | undefined;
  let channel: SecureSocket | undefined;

  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('handshake timed out')), opts.handshakeTimeoutMs);
    const finish = () => {
      const result = hs.result();
      const peerId = opts.authorize(result.remoteStatic, hs.remotePayload);
      if (peerId === undefined) return fail(new Error('peer is not a cluster member'));
      clearTimeout(timer);
      receive = result.receive;
      decoder.maxFrameBytes = opts.maxFrameBytes + TAG_BYTES;
      channel = new SecureSocket(peerId, socket, result.send);
      resolve(channel);
    };
    const onFrame = (frame: Uint8Array) => {
      if (receive && channel) {
        onMessage(channel.peerId, receive.decrypt(new Uint8Array(0), frame));
        return;
      }
      hs.readMessage(frame);
      if (!hs.complete) socket.write(encodeFrame(hs.writeMessage(introduction)));
      // the responder's last handshake frame may carry the initiator's introduction
      if (!opts.initiator && !hs.complete)
        decoder.maxFrameBytes = HANDSHAKE_FRAME_MAX + MAX_INTRODUCTION_BYTES;
      if (hs.complete) finish();
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        for (let frame = decoder.next(); frame; frame = decoder.next()) onFrame(frame);
      } catch (err) {
        if (channel) socket.destroy(err as Error);
        else fail(err as Error);
      }
    });
    socket.on('error', (err) => {
      if (!channel) fail(err);
    });
    socket.on('close', () => {
      if (!channel) fail(new Error('connection closed during handshake'));
    });
    if (opts.initiator) socket.write(encodeFrame(hs.writeMessage()));
  });
}
