/**
 * The host agent's wire protocol: length-prefixed binary frames over one stream socket.
 *
 *   frame    = u32 length ‖ body            (length ≤ MAX_FRAME, checked before buffering)
 *   request  = u32 id ‖ u8 op ‖ payload
 *   response = u32 id ‖ u8 status ‖ payload  (status 0: the op's answer; 1: str code ‖ str message)
 *
 * Requests on one connection are answered in order, each after the one before it finished, so a
 * read sent after a write sees it. Integers are big-endian; strings and byte fields carry a u32
 * length (cluster/bytes.ts). The host is untrusted: the node checks every answer (authenticated.ts).
 */
import type { Socket } from 'node:net';
import { Reader, Writer } from '../bytes.ts';
import { ClusterError } from '../errors.ts';
import { encodeFrame, FrameDecoder, FrameTooLarge } from '../net/framing.ts';

export const Op = {
  /** str namespace → (nothing). Binds the connection to one store. */
  open: 1,
  /** u32 view ‖ u32 n ‖ n × str key → u32 n ‖ n × (bool present ‖ [bytes value]) */
  get: 2,
  /** bool sync ‖ u32 n ‖ n × (str key ‖ bool put ‖ [bytes value]) → (nothing), after fsync if sync */
  write: 3,
  /** u32 view ‖ bool after ‖ str from ‖ str lt ‖ u32 maxRecords ‖ u32 maxBytes
   *  → u32 n ‖ n × (str key ‖ bytes value) ‖ bool done */
  iterate: 4,
  /** → u32 view: a point-in-time view of the store. */
  view: 5,
  /** u32 view → (nothing) */
  release: 6,
  /** → bytes: the parent's current cloud credentials (encoded by the layer that uses them). */
  credentials: 7,
  /** str parent → u32 n ‖ n × str name: the stores directly under namespace `parent`, sorted
   *  (no `open` needed; what a recovering node asks to find its earlier identities' stores). */
  list: 8,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** A frame's body: the largest Raft write (a batch of entries) plus room for framing. */
export const MAX_FRAME = 80 << 20;
export const MAX_KEY = 1024;
export const MAX_VALUE = 64 << 20;
export const MAX_KEYS_PER_GET = 4096;
export const MAX_NAMESPACE = 255;
export const MAX_VIEWS = 64;
export const MAX_PAGE_RECORDS = 10_000;
export const MAX_PAGE_BYTES = 16 << 20;
export const MAX_LISTED = 4096;

/** Stable codes the host answers with (and the client raises on a broken connection). */
export type HostErrorCode =
  | 'HOST_MALFORMED' // a frame or field that does not decode
  | 'HOST_TOO_LARGE' // a frame or field above its cap
  | 'HOST_UNKNOWN_OP'
  | 'HOST_NO_NAMESPACE' // a store operation before `open`, or a second `open`
  | 'HOST_BAD_NAMESPACE'
  | 'HOST_UNKNOWN_VIEW'
  | 'HOST_TOO_MANY_VIEWS'
  | 'HOST_NO_CREDENTIALS'
  | 'HOST_STORAGE' // LevelDB failed
  | 'HOST_BAD_ADDRESS' // an agent asked to listen beyond this machine
  | 'HOST_UNAVAILABLE'; // the connection is gone (client side)

export class HostError extends Error {
  readonly code: HostErrorCode;
  constructor(code: HostErrorCode, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

/** A frame: u32 length ‖ body (the peer links' framing, cluster/net/framing.ts). */
export const frame = encodeFrame;

export function request(id: number, op: OpCode, payload?: Writer): Uint8Array {
  const head = new Writer().u32(id).u8(op).finish();
  const body = payload?.finish() ?? new Uint8Array(0);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export function okResponse(id: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + (payload?.length ?? 0));
  new DataView(out.buffer).setUint32(0, id);
  if (payload) out.set(payload, 5);
  return out;
}

export function errorResponse(id: number, code: HostErrorCode, message: string): Uint8Array {
  return new Writer().u32(id).u8(1).str(code).str(message.slice(0, 500)).finish();
}

/** The id at the head of a body, or -1 when the body is too short to carry one. */
export function bodyId(body: Uint8Array): number {
  return body.length < 4 ? -1 : new DataView(body.buffer, body.byteOffset).getUint32(0);
}

/** A response's payload, or the host's error raised as a HostError. */
export function readResponse(body: Uint8Array): Reader {
  const r = new Reader(body);
  r.u32();
  const status = r.u8();
  if (status === 0) return r;
  if (status !== 1) throw new HostError('HOST_MALFORMED', 'bad response status');
  const code = r.str(64) as HostErrorCode;
  throw new HostError(code, r.str(1000));
}

/** Cuts a byte stream into frame bodies; a length above the cap is refused from the header alone. */
export class FrameReader {
  readonly #decoder: FrameDecoder;

  constructor(max = MAX_FRAME) {
    this.#decoder = new FrameDecoder(max);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    this.#decoder.push(chunk);
    const out: Uint8Array[] = [];
    try {
      for (let f = this.#decoder.next(); f !== undefined; f = this.#decoder.next()) out.push(f);
    } catch (e) {
      if (e instanceof FrameTooLarge) throw new HostError('HOST_TOO_LARGE', e.message);
      throw e;
    }
    return out;
  }
}

/**
 * Hands each frame body arriving on `socket` to `each`, in order. A stream that cannot be cut
 * into frames any more goes to `bad` once, and nothing after it is read.
 */
export function onFrames(
  socket: Socket,
  each: (body: Uint8Array) => void,
  bad: (e: HostError) => void,
): void {
  const frames = new FrameReader();
  let broken = false;
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    let bodies: Uint8Array[];
    try {
      bodies = frames.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (e) {
      broken = true;
      bad(asHostError(e));
      return;
    }
    for (const body of bodies) each(body);
  });
}

/** Decoding errors of the cluster codec, as the host reports them. */
export function asHostError(e: unknown): HostError {
  if (e instanceof HostError) return e;
  if (e instanceof ClusterError) {
    return new HostError(
      e.code === 'CLUSTER_TOO_LARGE' ? 'HOST_TOO_LARGE' : 'HOST_MALFORMED',
      e.message,
    );
  }
  return new HostError('HOST_STORAGE', e instanceof Error ? e.message : String(e));
}
