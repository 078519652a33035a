import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VdfError } from '../errors.ts';
import { decodeForm, decompress, encodeForm, FORM_BYTES } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { opsFor } from './fast.ts';
import { type Form, generatorForm, identityForm, isReduced, reduce } from './form.ts';
import { multiExp } from './pow.ts';

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const D = discriminantFromSeed(
  fromHex('9104c5b5e45d48f374efa0488fe6a617790e9aecb3c9cddec06809b09f45ce9b'),
);

function malformed(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VdfError);
    expect((e as VdfError).code).toBe('VDF_MALFORMED');
    return;
  }
  throw new Error('expected VDF_MALFORMED');
}

function randomForm(e: bigint): Form {
  return multiExp(opsFor(D), [generatorForm(D)], [e]) ?? identityForm(D);
}

describe('discriminantFromSeed', () => {
  it('rejects empty, oversized and 1-byte seeds (whose counter cycle holds no prime)', () => {
    malformed(() => discriminantFromSeed(new Uint8Array(0)));
    malformed(() => discriminantFromSeed(new Uint8Array(1025)));
    malformed(() => discriminantFromSeed(Uint8Array.of(0x42)));
    const D2 = discriminantFromSeed(Uint8Array.of(0x42, 0x01));
    expect(D2 % 8n).toBe(-7n); // D ≡ 1 (mod 8)
    expect((-D2).toString(2).length).toBe(1024);
  });
});

describe('BQFC encoding', () => {
  it('identity and generator use the one-byte flag forms 0x04 and 0x08', () => {
    const id = encodeForm(identityForm(D));
    const gen = encodeForm(generatorForm(D));
    expect(id[0]).toBe(0x04);
    expect(gen[0]).toBe(0x08);
    expect(id.subarray(1).every((b) => b === 0)).toBe(true);
    expect(gen.subarray(1).every((b) => b === 0)).toBe(true);
    expect(decodeForm(D, id)).toEqual(identityForm(D));
    expect(decodeForm(D, gen)).toEqual(generatorForm(D));
  });

  it('flag forms must be exact: extra flags, flags with data and padding are rejected', () => {
    const both = new Uint8Array(FORM_BYTES);
    both[0] = 0x0c;
    malformed(() => decodeForm(D, both));
    const withData = encodeForm(generatorForm(D));
    withData[50] = 1;
    malformed(() => decodeForm(D, withData));
    const highBit = encodeForm(identityForm(D));
    highBit[0]! |= 0x80;
    malformed(() => decodeForm(D, highBit));
  });

  it('round-trips random reduced forms byte for byte', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 3n, max: (1n << 40n) - 1n }), (e) => {
        const f = randomForm(e);
        expect(isReduced(f)).toBe(true);
        const bytes = encodeForm(f);
        expect(bytes.length).toBe(FORM_BYTES);
        expect(decodeForm(D, bytes)).toEqual(f);
        // The inverse (a, −b) is also reduced unless |b| = a or a = c.
        if (f.b !== f.a && f.a !== f.c && f.b !== 0n) {
          const inv = { a: f.a, b: -f.b, c: f.c };
          expect(decodeForm(D, encodeForm(inv))).toEqual(inv);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rejects wrong lengths, impossible g_size and a flipped last byte', () => {
    const good = encodeForm(randomForm(123456789n));
    malformed(() => decodeForm(D, good.subarray(0, 99)));
    malformed(() => decodeForm(D, new Uint8Array(101)));
    const badG = new Uint8Array(FORM_BYTES);
    badG[1] = 0xff;
    malformed(() => decodeForm(D, badG));
    const g32 = Uint8Array.from(good);
    g32[1] = 32;
    malformed(() => decodeForm(D, g32));
    const last = Uint8Array.from(good);
    last[99]! ^= 0x01;
    malformed(() => decodeForm(D, last));
  });

  it('rejects a = 0, an encoding of all zeros and unknown sign flags', () => {
    malformed(() => decodeForm(D, new Uint8Array(FORM_BYTES)));
    const aZero = new Uint8Array(FORM_BYTES);
    aZero[66] = 1; // t = 1, a' = 0
    malformed(() => decodeForm(D, aZero));
  });
});

describe('chiavdf b0 malleability regression (tests/test_bqfc_deserialize.py)', () => {
  const D0 = BigInt(
    '-146212091130374364448271598629912687111631974722846603227183769906935970876483871782840562162445571052154480' +
      '975719448767769767557905129461524079902394315542354994269060181795718055043487735056120915916768273200138311' +
      '940357886024014124174476991145983171370265799623472241486347111977874193600694306566545523111',
  );
  const canonical = fromHex(
    '0300d8262c430e78e7c06cf60c9b2049968f604f3b506a85bfe4fff319f8176760' +
      'e06cab8ab45524458bf558101f9b4ce8c23cc1e053263272b808b76c6f26493a11' +
      '3b62ded5707b28d9eedc0503ac2efcd32be670726725be0fa7ea01f0ef3f602502' +
      '01',
  );

  it('accepts the canonical form and re-encodes it identically', () => {
    const f = decodeForm(D0, canonical);
    expect(encodeForm(f)).toEqual(canonical);
  });

  for (const mask of [0x04, 0x08]) {
    it(`rejects b0 inflated by byte 99 ^ 0x${mask.toString(16).padStart(2, '0')}`, () => {
      const mutated = Uint8Array.from(canonical);
      mutated[99]! ^= mask;
      // The mutation is a real malleability: lenient decompression yields an equivalent form.
      const gSize = mutated[1]!;
      const le = (off: number, n: number): bigint =>
        BigInt(
          `0x${Buffer.from(mutated.subarray(off, off + n))
            .reverse()
            .toString('hex')}`,
        );
      const aP = le(2, 64 - gSize);
      const t = le(66 - gSize, 32 - gSize);
      const g = le(98 - 2 * gSize, gSize + 1);
      const b0 = le(99 - gSize, gSize + 1);
      const [a, b] = decompress(D0, aP, mutated[0]! & 2 ? -t : t, g, b0, (mutated[0]! & 1) === 1);
      const c = (b * b - D0) / (4n * a);
      expect(reduce({ a, b, c })).toEqual(decodeForm(D0, canonical));
      malformed(() => decodeForm(D0, mutated));
    });
  }
});
