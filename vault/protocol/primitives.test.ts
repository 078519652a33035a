/**
 * noble's primitives (what the client SDK runs in browsers and React Native) give the same answers
 * as the Node primitives (libsecp256k1 as WebAssembly and, where its addon is built, native;
 * OpenSSL) on the same bytes, valid or not, and boxes sealed with one open with the other: a
 * client on either talks to a vault on the other.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from './hex.ts';
import { open, seal } from './hpke.ts';
import { loadNativeSecp256k1 } from './native-secp256k1.ts';
import { nodePrimitives, wasmPrimitives } from './node-primitives.ts';
import { noblePrimitives, type Primitives, primitives, usePrimitives } from './primitives.ts';
import { signMessage, verifyMessage } from './signatures.ts';

const RUNS = { numRuns: 48 };
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const scalarBytes = fc
  .bigInt({ min: 1n, max: N - 1n })
  .map((v) => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex')));
const point = scalarBytes.map((s) => noblePrimitives.mulBase(s) as Uint8Array);
/** A 33-byte string that is often not a point: a random x with a valid prefix. */
const maybePoint = fc
  .tuple(fc.constantFrom(2, 3, 4), bytes32)
  .map(([p, x]) => Uint8Array.of(p, ...x));

const outcome = (f: () => Uint8Array | boolean | null): string => {
  try {
    const r = f();
    return r instanceof Uint8Array ? toHex(r) : String(r);
  } catch {
    return 'throws';
  }
};
const same = (f: (p: Primitives) => Uint8Array | boolean | null) => {
  expect(outcome(() => f(noblePrimitives))).toBe(outcome(() => f(nodePrimitives)));
  expect(outcome(() => f(noblePrimitives))).toBe(outcome(() => f(wasmPrimitives)));
};
const native = loadNativeSecp256k1();

afterEach(() => usePrimitives(noblePrimitives));

describe('noble primitives equal the Node primitives', () => {
  it('point checks, on points and on random 33- and 32-byte strings', () => {
    fc.assert(
      fc.property(point, maybePoint, bytes32, (p, q, x) => {
        same((ec) => ec.isPointCompressed(p));
        same((ec) => ec.isPointCompressed(q));
        same((ec) => ec.isXOnlyPoint(x));
        same((ec) => ec.isXOnlyPoint(p.subarray(1)));
      }),
      RUNS,
    );
  });

  it('x·G, k·P, A + B and P + t·G, and the refusals of 0 and n', () => {
    fc.assert(
      fc.property(scalarBytes, point, point, (k, p, q) => {
        same((ec) => ec.mulBase(k));
        same((ec) => ec.pointMultiply(p, k));
        same((ec) => ec.pointAdd(p, q));
        same((ec) => ec.pointAddScalar(p, k));
      }),
      RUNS,
    );
    const zero = new Uint8Array(32);
    const n = Uint8Array.from(Buffer.from(N.toString(16), 'hex'));
    same((ec) => ec.mulBase(zero));
    same((ec) => ec.mulBase(n));
    // P + (−P) is the point at infinity: null for both
    const one = Uint8Array.of(...new Uint8Array(31), 1);
    const g = noblePrimitives.mulBase(one) as Uint8Array;
    const minusG = Uint8Array.of(g[0] === 2 ? 3 : 2, ...g.subarray(1));
    same((ec) => ec.pointAdd(g, minusG));
    expect(noblePrimitives.pointAdd(g, minusG)).toBeNull();
    // G + (n−1)·G is infinity too, and k·P with k = n is refused
    const nMinus1 = Uint8Array.from(Buffer.from((N - 1n).toString(16), 'hex'));
    same((ec) => ec.pointAddScalar(g, nMinus1));
    same((ec) => ec.pointAddScalar(g, n));
    same((ec) => ec.pointMultiply(g, n));
  });

  it('k·P, A + B and P + t·G on strings that are often not points', () => {
    fc.assert(
      fc.property(maybePoint, point, scalarBytes, (q, p, k) => {
        same((ec) => ec.pointMultiply(q, k));
        same((ec) => ec.pointAdd(q, p));
        same((ec) => ec.pointAdd(p, q));
        same((ec) => ec.pointAddScalar(q, k));
        same((ec) => ec.pointMultiply(p.subarray(1), k)); // 32 bytes: not a compressed point
      }),
      RUNS,
    );
  });

  it.skipIf(native.addon === null)(
    "the share proof's point operations run in the native libsecp256k1 where it is built",
    () => {
      expect(nodePrimitives.pointMultiply).not.toBe(wasmPrimitives.pointMultiply);
      expect(nodePrimitives.mulBase).toBe(wasmPrimitives.mulBase); // secrets stay in the WASM build
    },
  );
  if (native.addon === null)
    console.log(
      `[primitives] native libsecp256k1 SKIPPED: ${native.reason} (apt-get install libsecp256k1-dev, then npm ci)`,
    );

  it('X25519 public keys and shared secrets', () => {
    fc.assert(
      fc.property(bytes32, bytes32, (a, b) => {
        const peer = noblePrimitives.x25519KeyPair(b).publicKey;
        same((ec) => ec.x25519KeyPair(a).publicKey);
        same((ec) => ec.x25519KeyPair(a).sharedSecret(peer));
      }),
      RUNS,
    );
    same((ec) => ec.x25519KeyPair(new Uint8Array(32).fill(7)).sharedSecret(new Uint8Array(32)));
  });
});

describe('a box or a signature made with one set opens or verifies with the other', () => {
  const cases: [string, Primitives, Primitives][] = [
    ['noble → node', noblePrimitives, nodePrimitives],
    ['node → noble', nodePrimitives, noblePrimitives],
  ];
  for (const [name, from, to] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(
          bytes32,
          bytes32,
          scalarBytes,
          fc.uint8Array({ maxLength: 100 }),
          (r, e, k, m) => {
            usePrimitives(from);
            const recipientPublicKey = from.x25519KeyPair(r).publicKey;
            const aad = Uint8Array.of(1, 2, 3);
            const box = seal({
              purpose: 'release',
              recipientPublicKey,
              senderSecret: e,
              aad,
              plaintext: m,
            });
            const sig = signMessage(m, k, e);
            usePrimitives(to);
            const opened = open({ purpose: 'release', recipientSecretKey: r, aad, ...box });
            expect(toHex(opened)).toBe(toHex(m));
            const xOnly = (to.mulBase(k) as Uint8Array).subarray(1);
            expect(verifyMessage(sig, m, xOnly)).toBe(true);
            expect(verifyMessage(sig, Uint8Array.of(...m, 0), xOnly)).toBe(false);
          },
        ),
        { numRuns: 16 },
      );
    });
  }
});

describe('which primitives a process runs', () => {
  it("the Node ones once the protocol's full face (what every Node shell loads) is loaded", async () => {
    expect(primitives()).toBe(noblePrimitives);
    await import('./index.ts');
    expect(primitives()).toBe(nodePrimitives);
  });
});
