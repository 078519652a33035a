import { describe, expect, it } from 'vitest';
import { derivePublic } from './derive.ts';
import { Point } from './wire.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('BIP-32 public derivation', () => {
  it('matches BIP-32 test vector 2: M → M/0', () => {
    // Decoded from the published xpubs of vector 2 (chain m and m/0).
    const master = Point.fromHex(
      '03cbcaa9c98c877a26977d00825c956a238e8dddfbd322cce4f74b0b5bd6ace4a7',
    );
    const cc = hex('60499f801b896d83179a4374aeb7822aaeaceaa0db1f85ee3e904c4defbd9689');
    const child = derivePublic(master, cc, [0]);
    expect(child.publicKey.toHex(true)).toBe(
      '02fc9e5af0ac8d9b3cecfe2a888e2117ba3d089d8585886c9c826b6b22a98d12ea',
    );
    expect(Buffer.from(child.chainCode).toString('hex')).toBe(
      'f0909affaa7ee7abe5dd4e100598d4dc53cd709d5a5c2cac40e7412f232f7c9c',
    );
  });

  it('refuses hardened and out-of-range indices', () => {
    const master = Point.BASE;
    expect(() => derivePublic(master, new Uint8Array(32), [2 ** 31])).toThrow(/hardened/);
    expect(() => derivePublic(master, new Uint8Array(32), [-1])).toThrow(/out of range/);
  });
});
