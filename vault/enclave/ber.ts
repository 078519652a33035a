import { VaultError } from '../errors.ts';

/**
 * A small BER reader for CMS: KMS's CiphertextForRecipient uses indefinite lengths and
 * constructed strings, which DER readers refuse. Bounded in depth and node count so hostile input
 * costs little. Tag numbers above 30 (multi-byte form) are supported; lengths up to 2^32.
 */
export interface BerNode {
  readonly tagClass: number; // 0 universal, 1 application, 2 context, 3 private
  readonly constructed: boolean;
  readonly tag: number;
  /** Primitive content (empty for constructed nodes). */
  readonly content: Uint8Array;
  readonly children: readonly BerNode[];
  /** The whole element as encoded (tag, length, content): what a signature covers. */
  readonly raw: Uint8Array;
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;
export const TAG_INTEGER = 2;
export const TAG_OCTET_STRING = 4;
export const TAG_NULL = 5;
export const TAG_OID = 6;
export const TAG_SEQUENCE = 16;
export const TAG_SET = 17;

const MAX_DEPTH = 32;
const MAX_NODES = 4096;

function malformed(message: string): VaultError {
  return new VaultError('CMS_MALFORMED', message);
}

class Reader {
  readonly bytes: Uint8Array;
  /** DER (X.690 §10): definite, minimal lengths only. */
  readonly der: boolean;
  nodes = 0;
  constructor(bytes: Uint8Array, der: boolean) {
    this.bytes = bytes;
    this.der = der;
  }

  byteAt(pos: number): number {
    const b = this.bytes[pos];
    if (b === undefined) throw malformed('BER input ends early');
    return b;
  }

  /** Reads one TLV at `pos`; returns the node and the position after it. */
  read(pos: number, end: number, depth: number): [BerNode, number] {
    if (depth > MAX_DEPTH) throw malformed('BER nesting too deep');
    if (++this.nodes > MAX_NODES) throw malformed('BER input has too many elements');
    if (pos >= end) throw malformed('BER input ends early');
    const start = pos;
    const first = this.byteAt(pos++);
    const tagClass = first >> 6;
    const constructed = (first & 0x20) !== 0;
    let tag = first & 0x1f;
    if (tag === 0x1f) {
      tag = 0;
      for (let i = 0; ; i++) {
        if (i === 4) throw malformed('BER tag number too large');
        const b = this.byteAt(pos++);
        tag = tag * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
    }
    const lengthByte = this.byteAt(pos++);
    if (lengthByte === 0x80) {
      if (this.der) throw malformed('DER forbids indefinite lengths');
      if (!constructed) throw malformed('BER indefinite length on a primitive element');
      const children: BerNode[] = [];
      for (;;) {
        if (pos + 1 < end && this.bytes[pos] === 0 && this.bytes[pos + 1] === 0) {
          const raw = this.bytes.subarray(start, pos + 2);
          return [
            { tagClass, constructed, tag, content: new Uint8Array(0), children, raw },
            pos + 2,
          ];
        }
        const [child, next] = this.read(pos, end, depth + 1);
        children.push(child);
        pos = next;
      }
    }
    let length = lengthByte;
    if (lengthByte & 0x80) {
      const count = lengthByte & 0x7f;
      if (count > 4) throw malformed('BER length too large');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + this.byteAt(pos++);
      if (this.der && (length < 0x80 || length < 256 ** (count - 1))) {
        throw malformed('DER requires the shortest length encoding');
      }
    }
    const contentEnd = pos + length;
    if (contentEnd > end) throw malformed('BER element runs past its container');
    if (!constructed) {
      if (tagClass === UNIVERSAL && tag === 0) throw malformed('unexpected BER end-of-contents');
      const content = this.bytes.subarray(pos, contentEnd);
      const raw = this.bytes.subarray(start, contentEnd);
      return [{ tagClass, constructed, tag, content, children: [], raw }, contentEnd];
    }
    const children: BerNode[] = [];
    while (pos < contentEnd) {
      const [child, next] = this.read(pos, contentEnd, depth + 1);
      children.push(child);
      pos = next;
    }
    const raw = this.bytes.subarray(start, contentEnd);
    return [{ tagClass, constructed, tag, content: new Uint8Array(0), children, raw }, contentEnd];
  }
}

/** Parses exactly one BER element covering all of `bytes`. */
export function parseBer(bytes: Uint8Array): BerNode {
  return parseWhole(new Reader(bytes, false));
}

/** Parses exactly one DER element covering all of `bytes`: BER without its freedoms of length. */
export function parseDer(bytes: Uint8Array): BerNode {
  return parseWhole(new Reader(bytes, true));
}

function parseWhole(reader: Reader): BerNode {
  const [node, end] = reader.read(0, reader.bytes.length, 0);
  if (end !== reader.bytes.length) throw malformed('trailing bytes after the BER element');
  return node;
}

export function isUniversal(node: BerNode | undefined, tag: number): node is BerNode {
  return node !== undefined && node.tagClass === UNIVERSAL && node.tag === tag;
}

export function isContext(node: BerNode | undefined, tag: number): node is BerNode {
  return node !== undefined && node.tagClass === CONTEXT && node.tag === tag;
}

/** Children of a constructed universal SEQUENCE/SET, or an error naming `what`. */
export function expectConstructed(
  node: BerNode | undefined,
  tag: number,
  what: string,
): readonly BerNode[] {
  if (!isUniversal(node, tag) || !node.constructed)
    throw malformed(`${what}: expected a constructed element`);
  return node.children;
}

/**
 * The bytes of a string-typed element, concatenating BER constructed segments (which may nest).
 * The segments must be OCTET STRINGs whatever the outer tag, as X.690 §8.7 requires.
 */
export function stringContent(node: BerNode): Uint8Array {
  if (!node.constructed) return node.content;
  const parts = node.children.map((child) => {
    if (!isUniversal(child, TAG_OCTET_STRING))
      throw malformed('constructed string holds a non-OCTET STRING segment');
    return stringContent(child);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function expectOctetString(node: BerNode | undefined, what: string): Uint8Array {
  if (!isUniversal(node, TAG_OCTET_STRING)) throw malformed(`${what}: expected an OCTET STRING`);
  return stringContent(node);
}

/** Dotted form of an OBJECT IDENTIFIER (X.690 §8.19), refusing non-minimal arcs. */
export function expectOid(node: BerNode | undefined, what: string): string {
  if (!isUniversal(node, TAG_OID) || node.constructed || node.content.length === 0) {
    throw malformed(`${what}: expected an OBJECT IDENTIFIER`);
  }
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (const b of node.content) {
    if (fresh && b === 0x80) throw malformed(`${what}: non-minimal OID encoding`);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw malformed(`${what}: OID arc too large`);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) throw malformed(`${what}: truncated OID`);
  const head = arcs.shift()!;
  const firstArc = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [firstArc, head - 40 * firstArc, ...arcs].join('.');
}

/** A small non-negative INTEGER such as a CMS version. */
export function expectSmallInteger(node: BerNode | undefined, what: string): number {
  if (
    !isUniversal(node, TAG_INTEGER) ||
    node.constructed ||
    node.content.length === 0 ||
    node.content.length > 4
  ) {
    throw malformed(`${what}: expected a small INTEGER`);
  }
  if ((node.content[0]! & 0x80) !== 0) throw malformed(`${what}: negative INTEGER`);
  return node.content.reduce((n, b) => n * 256 + b, 0);
}
