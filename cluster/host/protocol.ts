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
import { Reader, Writer } from '../bytes.ts';
import { ClusterError } from '../errors.ts';

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
  | 'HOST_UNAVAILABLE'; // the connection is gone (client side)

export class HostError extends Error {
  readonly code: HostErrorCode;
  constructor(code: HostErrorCode, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

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

/**
 * Cuts a byte stream into frame bodies. A declared length above the cap is refused at once,
 * before anything of it is buffered; the stream cannot be resynchronised after that.
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  readonly #max: number;

  constructor(max = MAX_FRAME) {
    this.#max = max;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.#buffered < 4) return out;
      const head = this.#peek(4);
      const length = new DataView(head.buffer, head.byteOffset).getUint32(0);
      if (length > this.#max) {
        throw new HostError('HOST_TOO_LARGE', `frame of ${length} bytes above cap ${this.#max}`);
      }
      if (this.#buffered < 4 + length) return out;
      out.push(this.#take(4 + length).subarray(4));
    }
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.#join().subarray(0, n);
  }

  #join(): Uint8Array {
    const all = new Uint8Array(this.#buffered);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.#chunks = [all];
    return all;
  }

  #take(n: number): Uint8Array {
    const all = this.#chunks[0]!.length >= n ? this.#chunks[0]! : this.#join();
    const out = all.slice(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest, ...this.#chunks.slice(1)] : this.#chunks.slice(1);
    this.#buffered -= n;
    return out;
  }
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
