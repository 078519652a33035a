import { keyAggregate } from '@scure/btc-signer/musig2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bip340SecretKey,
  ClientError,
  checkKeyIndependently,
  decodeWif,
  ethereumAddress,
  exportPrivateKey,
  keyAggCoefficients,
  musig2Coefficients,
  reconstructPrivateKey,
  walletAddresses,
} from '../client-lib/index.ts';
import {
  CURVE_ORDER,
  combinePublic,
  encodePoint,
  Point,
  type Scheme,
  scalarToBytes,
} from '../vault/index.ts';
import { describeWithVectors, readVectorText } from './support/vectors.ts';

const pub = (s: bigint) => encodePoint(Point.BASE.multiply(s));
const scalar = fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n });

function wallet(scheme: Scheme, x1: bigint, x2: bigint) {
  const q1 = pub(x1);
  const q2 = pub(x2);
  const q =
    scheme === 'ecdsa-2p-mult' ? pub((x1 * x2) % CURVE_ORDER) : combinePublic(scheme, q1, q2);
  return { scheme, x1: scalarToBytes(x1), x2: scalarToBytes(x2), q, q1, q2 };
}

describe('exports match well-known values', () => {
  it('private key 1: WIF (mainnet, testnet) and Ethereum address', () => {
    const e = exportPrivateKey(scalarToBytes(1n));
    expect(e.wif).toBe('KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn');
    expect(e.wifTestnet).toBe('cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA');
    expect(e.ethereumAddress).toBe('0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
    expect(ethereumAddress(pub(2n))).toBe('0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF');
    expect(decodeWif(e.wif)).toEqual(scalarToBytes(1n));
    expect(() => decodeWif(`${e.wif.slice(0, -1)}x`)).toThrow(ClientError);
  });

  it('addresses: P2WPKH of key 1, and P2TR for musig2', () => {
    const a = walletAddresses('additive', pub(1n));
    expect(a.bitcoin).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    const t = walletAddresses('musig2', pub(1n));
    expect(t.bitcoin).toMatch(/^bc1p/);
    expect(t.ethereum).toBeNull();
  });
});

describeWithVectors('bip327', 'BIP-327 KeyAgg vectors', () => {
  it('Σ a_i·P_i gives every valid vector aggregate key', () => {
    const v = JSON.parse(readVectorText('bip327', 'key_agg_vectors.json')) as {
      pubkeys: string[];
      valid_test_cases: { key_indices: number[]; expected: string }[];
    };
    expect(v.valid_test_cases.length).toBeGreaterThan(0);
    for (const c of v.valid_test_cases) {
      const keys = c.key_indices.map(
        (i) => new Uint8Array(Buffer.from(v.pubkeys[i] as string, 'hex')),
      );
      const coefs = keyAggCoefficients(keys);
      let Q = Point.ZERO;
      keys.forEach((k, i) => {
        Q = Q.add(Point.fromBytes(k).multiply(coefs[i] as bigint));
      });
      expect(Buffer.from(Q.toBytes(true).subarray(1)).toString('hex').toUpperCase()).toBe(
        c.expected,
      );
    }
  });
});

describe('reconstruction', () => {
  it('BIP-327 KeyAgg coefficients reproduce @scure/btc-signer aggregation', () => {
    fc.assert(
      fc.property(scalar, scalar, (x1, x2) => {
        const q1 = pub(x1);
        const q2 = pub(x2);
        const [a1, a2] = musig2Coefficients(q1, q2);
        const sorted = Buffer.compare(Buffer.from(q1), Buffer.from(q2)) <= 0 ? [q1, q2] : [q2, q1];
        const agg = keyAggregate(sorted).aggPublicKey;
        expect(
          Point.BASE.multiply(x1)
            .multiply(a1)
            .add(Point.BASE.multiply(x2).multiply(a2))
            .equals(agg),
        ).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('gives x with x·G == Q for every scheme; the key signs for Q through OpenSSL', () => {
    for (const scheme of ['additive', 'ecdsa-2p-mult', 'musig2'] as const) {
      fc.assert(
        fc.property(scalar, scalar, (x1, x2) => {
          // shares that sum to n make an additive Q the point at infinity: no wallet has them
          // (fast-check's big integers favour values near the bounds, so this pair does occur)
          fc.pre(scheme !== 'additive' || (x1 + x2) % CURVE_ORDER !== 0n);
          const w = wallet(scheme, x1, x2);
          const x = reconstructPrivateKey(w);
          expect(pub(BigInt(`0x${Buffer.from(x).toString('hex')}`))).toEqual(w.q);
          expect(checkKeyIndependently(x, w.q).opensslEcdsa).toBe(true);
          const b = bip340SecretKey(x);
          expect(
            Point.BASE.multiply(BigInt(`0x${Buffer.from(b).toString('hex')}`)).toAffine().y % 2n,
          ).toBe(0n);
        }),
        { numRuns: 8 },
      );
    }
  });

  it('refuses shares that do not give Q, naming no secret', () => {
    const w = wallet('additive', 5n, 7n);
    const attempts = [
      { ...w, x2: scalarToBytes(8n) },
      { ...w, x1: scalarToBytes(6n) },
      { ...w, q: pub(13n) },
      { ...w, scheme: 'ecdsa-2p-mult' as const },
    ];
    for (const a of attempts) {
      try {
        reconstructPrivateKey(a);
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(ClientError);
        expect((err as ClientError).code).toBe('KEY_MISMATCH');
        expect((err as Error).message).not.toMatch(/\b(5|6|7|8|12)\b/);
      }
    }
    expect(() => checkKeyIndependently(scalarToBytes(3n), pub(4n))).toThrow(ClientError);
  });
});
