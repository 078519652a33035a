/**
 * The fast paths (node:crypto's X25519, libsecp256k1's x·G and BIP-340) against noble, the reference, on the same bytes; and the deposit share check.
 * The Node primitives are installed here as `index.ts` installs them in every Node shell;
 * primitives.test.ts holds noble's own primitives (the client SDK's) to the same answers.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';
import { canonicalHash } from './canonical.ts';
import { codeOf } from './code-of.test-support.ts';
import {
  bytesToBigInt,
  CURVE_ORDER,
  checkPoint,
  checkXOnlyKey,
  decodePoint,
  encodePoint,
  mulBase,
  Point,
  scalarToBytes,
} from './curve.ts';
import { parseHex, toHex } from './hex.ts';
import {
  checkX25519PublicKey,
  open,
  seal,
  x25519KeyPair,
  x25519PublicKey,
  x25519SharedSecret,
} from './hpke.ts';
import { nodePrimitives } from './node-primitives.ts';
import { noblePrimitives, usePrimitives } from './primitives.ts';
import { checkDepositShare } from './schemes.ts';
import { proveShareProduct, verifyShareProduct } from './share-proof.ts';
import { SigningKey, signMessage, verifyMessage, xOnlyPublicKey } from './signatures.ts';

/** The 32-byte digest the protocol signs (docs/protocol.md §1), computed with noble alone. */
const digest = (m: Uint8Array) => schnorr.utils.taggedHash('vigil/v1/signed-message', m);

beforeAll(() => usePrimitives(nodePrimitives));

const RUNS = { numRuns: 64 };
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const scalar = fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n });
const message = fc.uint8Array({ maxLength: 300 });
const outcome = (f: () => Uint8Array): string => {
  try {
    return toHex(f());
  } catch {
    return 'throws';
  }
};
const pub = (s: bigint) => encodePoint(Point.BASE.multiply(s));
/** noble's verify, which throws on wrong lengths where ours says false. */
const nobleVerify = (sig: Uint8Array, m: Uint8Array, key: Uint8Array): boolean => {
  try {
    return schnorr.verify(sig, m, key);
  } catch {
    return false;
  }
};

// The curve25519 points of order 1, 2, 4 and 8, and the same u values plus p (non-canonical).
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => parseHex('u', h, 32));

describe('X25519 in node:crypto equals noble', () => {
  it('public keys and shared secrets, including high-bit and non-canonical u', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.boolean(), (secret, peer, highBit) => {
        const u = Uint8Array.from(peer);
        if (highBit) u[31] = (u[31] as number) | 0x80;
        expect(x25519PublicKey(secret)).toEqual(x25519.getPublicKey(secret));
        expect(outcome(() => x25519SharedSecret(x25519KeyPair(secret), u))).toBe(
          outcome(() => x25519.getSharedSecret(secret, u)),
        );
      }),
      RUNS,
    );
  });

  it('rejects every low-order point, as noble does', () => {
    for (const u of LOW_ORDER) {
      expect(() => x25519.getSharedSecret(new Uint8Array(32).fill(7), u)).toThrow();
      expect(codeOf(() => checkX25519PublicKey('k', u))).toBe('BAD_POINT');
      expect(
        codeOf(() =>
          seal({
            purpose: 'deposit',
            recipientPublicKey: u,
            senderSecret: new Uint8Array(32).fill(7),
            aad: new Uint8Array(0),
            plaintext: new Uint8Array(32),
          }),
        ),
      ).toBe('BAD_POINT');
      expect(
        codeOf(() =>
          open({
            purpose: 'deposit',
            recipientSecretKey: new Uint8Array(32).fill(7),
            enc: u,
            aad: new Uint8Array(0),
            ciphertext: new Uint8Array(48),
          }),
        ),
      ).toBe('DECRYPT_FAILED');
    }
  });

  it('seal sends noble’s public key; open with a secret or a prepared key pair', () => {
    fc.assert(
      fc.property(bytes32, bytes32, message, (recipient, sender, plaintext) => {
        const aad = new Uint8Array([1, 2, 3]);
        const s = seal({
          purpose: 'release',
          recipientPublicKey: x25519.getPublicKey(recipient),
          senderSecret: sender,
          aad,
          plaintext,
        });
        expect(s.enc).toEqual(x25519.getPublicKey(sender));
        const box = { purpose: 'release' as const, enc: s.enc, aad, ciphertext: s.ciphertext };
        expect(open({ ...box, recipientSecretKey: recipient })).toEqual(plaintext);
        expect(open({ ...box, recipient: x25519KeyPair(recipient) })).toEqual(plaintext);
        const other = Uint8Array.from(recipient, (b) => b ^ 1);
        expect(codeOf(() => open({ ...box, recipient: x25519KeyPair(other) }))).toBe(
          'DECRYPT_FAILED',
        );
      }),
      { numRuns: 16 },
    );
  });
});

describe('secp256k1 x·G in libsecp256k1 equals noble', () => {
  it('for random scalars and the ends of the range', () => {
    fc.assert(
      fc.property(scalar, (x) => {
        expect(mulBase(scalarToBytes(x))).toEqual(pub(x));
      }),
      RUNS,
    );
    for (const x of [1n, 2n, CURVE_ORDER - 1n]) expect(mulBase(scalarToBytes(x))).toEqual(pub(x));
  });
  it('refuses 0, n and a short scalar', () => {
    for (const b of [scalarToBytes(0n), scalarToBytes(CURVE_ORDER), new Uint8Array(31).fill(1)]) {
      expect(codeOf(() => mulBase(b))).toBe('BAD_SCALAR');
    }
  });
});

describe('point checks in libsecp256k1 agree with noble', () => {
  // Half the random x values lie on the curve; x >= p is covered by the high bytes of 0xff.
  const x = fc.oneof(bytes32, fc.constant(new Uint8Array(32).fill(0xff)));
  it('compressed points', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 3), x, (prefix, xBytes) => {
        const bytes = Uint8Array.of(prefix, ...xBytes);
        expect(codeOf(() => checkPoint('p', bytes))).toBe(codeOf(() => decodePoint('p', bytes)));
      }),
      { numRuns: 200 },
    );
  });
  it('x-only keys', () => {
    fc.assert(
      fc.property(x, (xBytes) => {
        expect(codeOf(() => checkXOnlyKey('k', xBytes))).toBe(
          outcome(() => schnorr.utils.lift_x(bytesToBigInt(xBytes)).toBytes(true)) === 'throws'
            ? 'BAD_POINT'
            : 'NO_ERROR',
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('BIP-340 over libsecp256k1 equals noble', () => {
  it("signs the same bytes as noble signs over the message's digest, with a prepared key or not", () => {
    fc.assert(
      fc.property(scalar, bytes32, message, (d, aux, m) => {
        const secret = scalarToBytes(d);
        const expected = schnorr.sign(digest(m), secret, aux);
        expect(signMessage(m, secret, aux)).toEqual(expected);
        const key = new SigningKey(secret);
        expect(key.publicKey).toEqual(schnorr.getPublicKey(secret));
        expect(key.sign(m, aux)).toEqual(expected);
        expect(xOnlyPublicKey(secret)).toEqual(key.publicKey);
      }),
      RUNS,
    );
  });

  it('verifies as noble does, on good signatures and on each kind of corruption', () => {
    fc.assert(
      fc.property(
        scalar,
        bytes32,
        message,
        fc.nat(64 * 8 - 1),
        fc.nat(),
        (d, aux, m, bit, junk) => {
          const secret = scalarToBytes(d);
          const pk = schnorr.getPublicKey(secret);
          const sig = schnorr.sign(digest(m), secret, aux);
          const flipped = Uint8Array.from(sig);
          flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
          const otherMessage = Uint8Array.of(...m, junk & 0xff);
          const otherKey = Uint8Array.from(pk);
          otherKey[junk % 32] = (otherKey[junk % 32] as number) ^ 1;
          const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
            [sig, m, pk],
            [flipped, m, pk],
            [sig, otherMessage, pk],
            [sig, m, otherKey],
          ];
          for (const [s, msg, key] of cases) {
            expect(verifyMessage(s, msg, key)).toBe(nobleVerify(s, digest(msg), key));
          }
          expect(verifyMessage(sig, m, pk)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('refuses r >= p, r = 0, s >= n, s = 0, wrong lengths and keys off the curve', () => {
    const secret = scalarToBytes(7n);
    const m = new Uint8Array([1, 2, 3]);
    const sig = signMessage(m, secret, new Uint8Array(32));
    const pk = xOnlyPublicKey(secret);
    const withR = (r: Uint8Array) => Uint8Array.of(...r, ...sig.subarray(32));
    const withS = (s: Uint8Array) => Uint8Array.of(...sig.subarray(0, 32), ...s);
    const p = scalarToBytes(2n ** 256n - 0x1000003d1n);
    const bad: [Uint8Array, Uint8Array][] = [
      [withR(p), pk],
      [withR(new Uint8Array(32)), pk],
      [withS(scalarToBytes(CURVE_ORDER)), pk],
      [withS(new Uint8Array(32)), pk],
      [sig.subarray(0, 63), pk],
      [sig, pk.subarray(0, 31)],
      [sig, p],
      // x = 5 is not the x of any point: 5³ + 7 = 132 is not a square mod p.
      [sig, scalarToBytes(5n)],
    ];
    for (const [s, key] of bad) {
      expect(verifyMessage(s, m, key)).toBe(false);
      expect(nobleVerify(s, digest(m), key)).toBe(false);
    }
  });
});

describeWithVectors('bip340', 'BIP-340 vectors through the libsecp256k1 path', () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  const rows = readVectorText('bip340', 'test-vectors.csv')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => {
      const [index, secret, publicKey, aux, msg, sig, result] = line.split(',') as string[];
      return { index, secret, publicKey, aux, msg, sig, valid: result === 'TRUE' };
    });
  // The protocol signs 32-byte digests, and libsecp256k1 as tiny-secp256k1 packages it takes
  // 32-byte messages only: the rows with other message lengths go to noble's primitives alone.
  const digestRows = rows.filter((r) => r.msg?.length === 64);

  it('verifies each vector as it says (libsecp256k1 on 32-byte messages, noble on all)', () => {
    expect(digestRows.length).toBeGreaterThan(10);
    for (const r of rows) {
      const args = [
        hex(r.sig as string),
        hex(r.msg as string),
        hex(r.publicKey as string),
      ] as const;
      expect(noblePrimitives.schnorrVerify(...args), `vector ${r.index}`).toBe(r.valid);
      if (r.msg?.length === 64) {
        expect(nodePrimitives.schnorrVerify(...args), `vector ${r.index}`).toBe(r.valid);
      }
    }
  });

  it('signs each vector that has a secret key to its signature, and SigningKey derives its key', () => {
    const signing = digestRows.filter((r) => r.secret !== '');
    expect(signing.length).toBeGreaterThan(3);
    for (const r of signing) {
      const secret = hex(r.secret as string);
      expect(toHex(new SigningKey(secret).publicKey), `vector ${r.index}`).toBe(
        r.publicKey?.toLowerCase(),
      );
      const made = nodePrimitives.schnorrSign(hex(r.msg as string), secret, hex(r.aux as string));
      expect(toHex(made), `vector ${r.index}`).toBe(r.sig?.toLowerCase());
    }
  });
});

describe('share check', () => {
  const walletId = new Uint8Array(32).fill(9);
  const clusterId = new Uint8Array(8).fill(3);
  const statement = (
    x1: bigint,
    x2: bigint,
    q = encodePoint(Point.BASE.multiply(x1).multiply(x2)),
  ) => ({
    clusterId,
    walletId,
    q,
    q1: pub(x1),
    q2: pub(x2),
  });
  const negate = (q: Uint8Array) => encodePoint(Point.fromBytes(q).negate());
  /** The same check written with noble alone: R1 = s·G − e·Q2, R2 = s·Q1 − e·Q, e == H(…). */
  const nobleVerify = (st: ReturnType<typeof statement>, proof: Uint8Array): boolean => {
    const e = bytesToBigInt(proof.subarray(0, 32));
    const s = bytesToBigInt(proof.subarray(32));
    if (e === 0n || e >= CURVE_ORDER || s === 0n || s >= CURVE_ORDER) return false;
    const r1 = Point.BASE.multiply(s).subtract(Point.fromBytes(st.q2).multiply(e));
    const r2 = Point.fromBytes(st.q1).multiply(s).subtract(Point.fromBytes(st.q).multiply(e));
    if (r1.is0() || r2.is0()) return false;
    const h = canonicalHash('vigil/v1/deposit/share-proof', [
      st.clusterId,
      st.walletId,
      st.q1,
      st.q2,
      st.q,
      encodePoint(r1),
      encodePoint(r2),
    ]);
    return bytesToBigInt(h) % CURVE_ORDER === e;
  };

  it('a share proof verifies for x2·Q1 only, as noble computes it', () => {
    fc.assert(
      fc.property(scalar, scalar, bytes32, (x1, x2, aux) => {
        const st = statement(x1, x2);
        const proof = proveShareProduct(st, scalarToBytes(x2), aux);
        expect(verifyShareProduct(st, proof)).toBe(true);
        expect(nobleVerify(st, proof)).toBe(true);
        for (const other of [
          statement(x1, x2, negate(st.q)),
          statement(x1, x2, pub(x1 + 1n)),
          { ...st, walletId: new Uint8Array(32) },
          { ...st, q1: st.q2, q2: st.q1 },
        ]) {
          const forged = proveShareProduct(other, scalarToBytes(x2), aux);
          expect(verifyShareProduct(other, proof)).toBe(false);
          expect(verifyShareProduct(other, forged)).toBe(nobleVerify(other, forged));
        }
      }),
      { numRuns: 16 },
    );
  });

  it('refuses malformed proofs: wrong length, zero or out-of-range scalars', () => {
    const st = statement(11n, 13n);
    const proof = proveShareProduct(st, scalarToBytes(13n), new Uint8Array(32));
    const n = scalarToBytes(CURVE_ORDER);
    for (const bad of [
      proof.subarray(0, 63),
      new Uint8Array(64),
      Uint8Array.of(...n, ...proof.subarray(32)),
      Uint8Array.of(...proof.subarray(0, 32), ...n),
    ]) {
      expect(verifyShareProduct(st, bad)).toBe(false);
    }
  });

  it('checks x2·G == Q2 and the range of x2', () => {
    const x2 = 13n;
    const check = (q2: Uint8Array, v: bigint) =>
      codeOf(() => checkDepositShare({ q2, x2: scalarToBytes(v) }));
    expect(check(pub(x2), x2)).toBe('NO_ERROR');
    expect(check(pub(x2), x2 + 1n)).toBe('SHARE_MISMATCH');
    expect(check(Uint8Array.of(2, ...scalarToBytes(5n)), x2)).toBe('BAD_POINT');
    for (const bad of [0n, CURVE_ORDER]) expect(check(pub(x2), bad)).toBe('BAD_SCALAR');
  });
});
