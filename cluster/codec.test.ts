import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader, Writer } from './bytes.ts';
import { decodeMessage, encodeMessage, MAX_ENTRY_BYTES } from './codec.ts';
import { ClusterError } from './errors.ts';
import type { Entry, Message } from './types.ts';

const h = { term: 7, from: 'node-a', to: 'node-b' };
const entry = (index: number, data: number[]): Entry => ({
  index,
  term: 3,
  type: 'normal',
  clientId: 'c1',
  seq: index,
  data: Uint8Array.from(data),
});
const samples: Message[] = [
  { type: 'preVote', ...h, lastIndex: 10, lastTerm: 6, transfer: false },
  { type: 'vote', ...h, lastIndex: 2 ** 40, lastTerm: 6, transfer: true },
  { type: 'preVoteResp', ...h, reject: true },
  { type: 'voteResp', ...h, reject: false },
  {
    type: 'append',
    ...h,
    prevIndex: 4,
    prevTerm: 3,
    commit: 4,
    entries: [entry(5, [1, 2]), entry(6, [])],
  },
  { type: 'appendResp', ...h, reject: true, index: 9, hint: 3, clock: 12_345 },
  { type: 'heartbeat', ...h, commit: 12 },
  { type: 'heartbeatResp', ...h, clock: 7 },
  {
    type: 'snapshot',
    ...h,
    meta: { index: 50, term: 4, conf: { voters: ['a', 'b'], learners: ['c'] } },
    seq: 3,
    last: true,
    chunk: Uint8Array.of(9, 8, 7),
  },
  { type: 'snapshotResp', ...h, snapshotIndex: 50, nextSeq: 6 },
  { type: 'timeoutNow', ...h },
];

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof ClusterError ? e.code : `other: ${String(e)}`;
  }
  return 'no error';
}

describe('message codec', () => {
  it('round-trips every message type', () => {
    for (const m of samples) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('is versioned and strict', () => {
    const bytes = encodeMessage(samples[0]!);
    expect(bytes[0]).toBe(2);
    expect(code(() => decodeMessage(Uint8Array.of(...bytes, 0)))).toBe('CLUSTER_MALFORMED'); // trailing
    expect(code(() => decodeMessage(bytes.subarray(0, bytes.length - 1)))).toBe(
      'CLUSTER_MALFORMED',
    );
    const v1 = bytes.slice();
    v1[0] = 1; // before the responses carried the clock
    expect(code(() => decodeMessage(v1))).toBe('CLUSTER_MALFORMED');
    const badType = bytes.slice();
    badType[1] = 200;
    expect(code(() => decodeMessage(badType))).toBe('CLUSTER_MALFORMED');
    const badBool = encodeMessage(samples[2]!);
    badBool[badBool.length - 1] = 2;
    expect(code(() => decodeMessage(badBool))).toBe('CLUSTER_MALFORMED');
  });

  it('rejects entries that do not follow prevIndex and oversized fields', () => {
    const gap: Message = {
      type: 'append',
      ...h,
      prevIndex: 4,
      prevTerm: 3,
      commit: 0,
      entries: [entry(6, [])],
    };
    expect(code(() => decodeMessage(encodeMessage(gap)))).toBe('CLUSTER_MALFORMED');
    const big: Message = {
      type: 'append',
      ...h,
      prevIndex: 0,
      prevTerm: 0,
      commit: 0,
      entries: [{ ...entry(1, []), data: new Uint8Array(MAX_ENTRY_BYTES + 1) }],
    };
    expect(code(() => decodeMessage(encodeMessage(big)))).toBe('CLUSTER_TOO_LARGE');
  });

  it('never throws anything but ClusterError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const c = code(() => decodeMessage(bytes));
        expect(c === 'no error' || c.startsWith('CLUSTER_')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips arbitrary appends', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        (prev, datas) => {
          const m: Message = {
            type: 'append',
            ...h,
            prevIndex: prev,
            prevTerm: 2,
            commit: prev,
            entries: datas.map((d, i) => ({ ...entry(prev + 1 + i, []), data: d })),
          };
          expect(decodeMessage(encodeMessage(m))).toEqual(m);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Writer scratch buffers', () => {
  it('keeps nested and successive encodings apart, and refuses a write after finish', () => {
    const outer = new Writer().u32(7);
    const inner = new Writer().bytes(new Uint8Array(3000).fill(9)); // grows past its scratch
    outer.bytes(inner.finish());
    const again = new Writer().u8(1).u8(2); // may reuse inner's scratch while outer is open
    outer.u8(0xaa);
    const o = outer.finish();
    expect(o).toHaveLength(4 + 4 + 4 + 3000 + 1); // u32, then inner's bytes: its own prefix too
    expect(new Reader(o).u32()).toBe(7);
    expect(o.subarray(12, 3012).every((b) => b === 9)).toBe(true);
    expect(o[3012]).toBe(0xaa);
    expect(again.finish()).toEqual(Uint8Array.of(1, 2));
    // a finished writer's bytes are its own: later encodings do not change them
    for (let i = 0; i < 20; i++) new Writer().bytes(new Uint8Array(900).fill(i)).finish();
    expect(o.subarray(12, 3012).every((b) => b === 9)).toBe(true);
    expect(outer.finish()).toEqual(o);
    expect(() => outer.u8(1)).toThrow(/after finish/);
  });

  it('writes strings as TextEncoder would, length first', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const utf8 = new TextEncoder().encode(text);
        const out = new Writer().str(text).u8(0x5a).finish();
        expect(new Reader(out).u32()).toBe(utf8.length);
        expect(out.subarray(4, 4 + utf8.length)).toEqual(utf8);
        expect(out[4 + utf8.length]).toBe(0x5a);
      }),
      { numRuns: 300 },
    );
  });
});
