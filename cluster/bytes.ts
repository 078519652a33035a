import { ClusterError } from './errors.ts';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

interface Scratch {
  buf: Uint8Array;
  view: DataView;
}

/**
 * Scratch buffers of finished writers, reused by the next: every Raft message, entry, reply and
 * stored record is encoded through a Writer, and a fresh buffer (and its growth by doubling) per
 * encoding was a steady share of a busy leader's garbage. Small buffers only, a few of them.
 */
const scratchPool: Scratch[] = [];
const SCRATCH_POOL_SIZE = 8;
const SCRATCH_MAX_BYTES = 64 * 1024;

/** Big-endian binary writer for the cluster's compact encodings. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private finished: Uint8Array | null = null;
  length = 0;

  constructor() {
    const s = scratchPool.pop();
    this.buf = s?.buf ?? new Uint8Array(1024);
    this.view = s?.view ?? new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    // the scratch buffer went back to the pool: writing now would corrupt another encoding
    if (this.finished !== null) throw new Error('Writer: written after finish()');
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  /** Unsigned integer up to 2^53 - 1 as 8 bytes. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new ClusterError('CLUSTER_MALFORMED', 'bad integer');
    this.ensure(8);
    this.view.setUint32(this.length, Math.floor(v / 2 ** 32));
    this.view.setUint32(this.length + 4, v >>> 0);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** A length-prefixed UTF-8 string, encoded in place (at most 3 bytes per UTF-16 unit). */
  str(s: string): this {
    this.ensure(4 + 3 * s.length);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.length + 4));
    this.view.setUint32(this.length, written);
    this.length += 4 + written;
    return this;
  }

  /** The bytes written, in a buffer of their own; the scratch buffer goes back to the pool. */
  finish(): Uint8Array {
    if (this.finished !== null) return this.finished.slice();
    const out = this.buf.slice(0, this.length);
    if (this.buf.length <= SCRATCH_MAX_BYTES && scratchPool.length < SCRATCH_POOL_SIZE)
      scratchPool.push({ buf: this.buf, view: this.view });
    this.buf = new Uint8Array(0);
    this.finished = out;
    return out;
  }
}

/** Strict reader: every read is bounds-checked; `end()` rejects trailing bytes. */
export class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length)
      throw new ClusterError('CLUSTER_MALFORMED', 'truncated input');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (hi >= 2 ** 21) throw new ClusterError('CLUSTER_MALFORMED', 'integer above 2^53');
    return hi * 2 ** 32 + lo;
  }

  /** A length-prefixed field as a view into the input (no copy). */
  private field(max: number): Uint8Array {
    const n = this.u32();
    if (n > max)
      throw new ClusterError('CLUSTER_TOO_LARGE', `field of ${n} bytes above cap ${max}`);
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytes(max: number): Uint8Array {
    // always a plain Uint8Array copy (LevelDB may hand out Buffers over shared memory)
    return new Uint8Array(this.field(max));
  }

  str(max: number): string {
    const field = this.field(max);
    try {
      return strictUtf8.decode(field);
    } catch {
      throw new ClusterError('CLUSTER_MALFORMED', 'invalid UTF-8');
    }
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new ClusterError('CLUSTER_MALFORMED', 'bad boolean');
    return v === 1;
  }

  /** True once every byte has been read. */
  get done(): boolean {
    return this.pos === this.buf.length;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new ClusterError('CLUSTER_MALFORMED', 'trailing bytes');
  }
}
