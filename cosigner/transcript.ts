/**
 * The one Fiat–Shamir transcript. Every item is appended as label-length ‖ label ‖ value-length ‖
 * value, so no two different sequences of items hash alike (TSSHOCK's α-shuffle came from
 * delimiter-joined hashes). Challenges are drawn from SHA-256 in counter mode over the state, so any
 * number of bits can be taken without bias (rejection sampling for ranges).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bigIntToBytes, bitLength, bytesToBigInt } from './bigint.ts';

const encoder = new TextEncoder();

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export class Transcript {
  #chunks: Uint8Array[] = [];
  #challengeCounter = 0;

  constructor(domain: string) {
    this.appendBytes('vigil/transcript/domain', encoder.encode(domain));
  }

  appendBytes(label: string, value: Uint8Array): this {
    const l = encoder.encode(label);
    this.#chunks.push(u32(l.length), l, u32(value.length), value);
    return this;
  }

  appendString(label: string, value: string): this {
    return this.appendBytes(label, encoder.encode(value));
  }

  /** Signed integers: a sign byte then the magnitude, so −x and x differ. */
  appendInt(label: string, value: bigint): this {
    const sign = value < 0n ? 1 : 0;
    const mag = bigIntToBytes(value < 0n ? -value : value);
    const out = new Uint8Array(1 + mag.length);
    out[0] = sign;
    out.set(mag, 1);
    return this.appendBytes(label, out);
  }

  appendInts(label: string, values: readonly bigint[]): this {
    this.appendBytes(label, u32(values.length));
    values.forEach((v, i) => {
      this.appendInt(`${label}[${i}]`, v);
    });
    return this;
  }

  /** Output bytes bound to everything appended so far and to this challenge's label and index. */
  challengeBytes(label: string, length: number): Uint8Array {
    const index = this.#challengeCounter++;
    const base = this.#state(label, index);
    const out = new Uint8Array(length);
    for (let block = 0, off = 0; off < length; block++, off += 32) {
      const h = sha256(concat([base, u32(block)]));
      out.set(h.subarray(0, Math.min(32, length - off)), off);
    }
    // Later items see that a challenge was drawn.
    this.appendBytes('vigil/transcript/challenge', concat([encoder.encode(label), u32(index)]));
    return out;
  }

  /** Uniform in [0, bound). */
  challengeBelow(label: string, bound: bigint): bigint {
    const bits = bitLength(bound - 1n);
    const bytes = Math.ceil(bits / 8) + 16;
    // 128 extra bits make the modular reduction's bias negligible.
    return bytesToBigInt(this.challengeBytes(label, bytes)) % bound;
  }

  #state(label: string, index: number): Uint8Array {
    const l = encoder.encode(label);
    return sha256(concat([...this.#chunks, u32(l.length), l, u32(index)]));
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
