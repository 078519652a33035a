import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameTooLarge } from './framing.ts';

describe('frames', () => {
  it('reassembles frames from any split of the byte stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map(encodeFrame));
          const decoder = new FrameDecoder(1000);
          const out: Uint8Array[] = [];
          let offset = 0;
          let k = 0;
          while (offset < stream.length) {
            const size = cuts[k++ % cuts.length]!;
            decoder.push(stream.subarray(offset, offset + size));
            for (let f = decoder.next(); f; f = decoder.next()) out.push(f);
            offset += size;
          }
          expect(out.map((b) => Buffer.from(b))).toEqual(payloads.map((b) => Buffer.from(b)));
        },
      ),
    );
  });

  it('refuses an oversized frame from its header alone', () => {
    const decoder = new FrameDecoder(16);
    const header = new Uint8Array([0, 0, 0, 17]);
    decoder.push(header);
    expect(() => decoder.next()).toThrow(FrameTooLarge);
  });
});
