/** Length-prefixed frames (u32 big-endian length ‖ bytes) with a hard size cap checked first. */
export class FrameTooLarge extends Error {
  constructor(length: number, max: number) {
    super(`frame of ${length} bytes exceeds the ${max}-byte limit`);
    this.name = 'FrameTooLarge';
  }
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, 4);
  return out;
}

/**
 * Accumulates stream chunks and yields whole frames one at a time, so the limit can change between
 * frames (a handshake allows only small frames). Throws FrameTooLarge from a header alone.
 */
export class FrameDecoder {
  maxFrameBytes: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next whole frame, or undefined until more bytes arrive. */
  next(): Uint8Array | undefined {
    if (this.#buffered < 4) return undefined;
    const head = this.#peek(4);
    const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false);
    if (length > this.maxFrameBytes) throw new FrameTooLarge(length, this.maxFrameBytes);
    if (this.#buffered < 4 + length) return undefined;
    this.#take(4);
    return this.#take(length);
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.#flatten().subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const first = this.#flatten(n);
    const out = first.slice(0, n);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return out;
  }

  /** Merges leading chunks until the first holds at least `atLeast` bytes (or everything). */
  #flatten(atLeast = this.#buffered): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= atLeast) return first;
    const merged = new Uint8Array(this.#buffered);
    let offset = 0;
    for (const c of this.#chunks) {
      merged.set(c, offset);
      offset += c.length;
    }
    this.#chunks = [merged];
    return merged;
  }
}
