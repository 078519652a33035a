import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import {
  isPointCompressed,
  isPrivate,
  isXOnlyPoint,
  pointAdd,
  pointAddScalar,
  pointFromScalar,
  pointMultiply,
  signSchnorr,
  verifySchnorr,
} from 'tiny-secp256k1';
import { concatBytes } from './hex.ts';
import { loadNativeSecp256k1 } from './native-secp256k1.ts';
import type { Primitives, X25519KeyPair } from './primitives.ts';

/**
 * The WebAssembly set of the Node primitives (primitives.ts): secp256k1 in libsecp256k1 (tiny-secp256k1's
 * WebAssembly build), whose constant-time ecmult_gen is five times faster here than noble's
 * `Point.BASE.multiply` and whose point parsing takes a third of noble's time; X25519 in
 * node:crypto (OpenSSL), about nine times faster than noble's. Node-only: the client SDK never
 * loads this file.
 */
export const wasmPrimitives: Primitives = {
  isPointCompressed: (bytes) => bytes.length === 33 && isPointCompressed(bytes),
  isXOnlyPoint: (bytes) => bytes.length === 32 && isXOnlyPoint(bytes),
  mulBase: (x) => (isPrivate(x) ? pointFromScalar(x, true) : null),
  pointMultiply: (p, k) => pointMultiply(p, k, true),
  pointAdd: (a, b) => pointAdd(a, b, true),
  pointAddScalar: (p, t) => pointAddScalar(p, t, true),
  schnorrSign: (digest, secretKey, auxRand) => signSchnorr(digest, secretKey, auxRand),
  schnorrVerify(signature, digest, xOnlyKey) {
    if (signature.length !== 64 || digest.length !== 32 || !isXOnlyPoint(xOnlyKey)) return false;
    try {
      return verifySchnorr(digest, xOnlyKey, signature);
    } catch {
      return false;
    }
  },
  x25519KeyPair,
};

const native = loadNativeSecp256k1().addon;

/**
 * The Node processes' primitives: `wasmPrimitives`, with the three operations on public points
 * (a deposit's share-proof check) in the system's libsecp256k1 where its addon is built. The
 * secret-key operations (x·G, signing) stay in the WebAssembly build, constant time either way.
 */
export const nodePrimitives: Primitives =
  native === null
    ? wasmPrimitives
    : {
        ...wasmPrimitives,
        pointMultiply: (p, k) => native.pointMultiply(p, k),
        pointAdd: (a, b) => native.pointAdd(a, b),
        pointAddScalar: (p, t) => native.pointAddScalar(p, t),
      };

// RFC 8410's DER header: a raw 32-byte secret appended to it is a PKCS#8 X25519 private key.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

function x25519KeyPair(secretKey: Uint8Array): X25519KeyPair {
  const der = concatBytes(PKCS8_PREFIX, secretKey);
  try {
    const privateKey = createPrivateKey({
      key: Buffer.from(der.buffer),
      format: 'der',
      type: 'pkcs8',
    });
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    return {
      publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')),
      sharedSecret(peerPublicKey) {
        // A JWK imports in a tenth of the time of the same key as DER (no OpenSSL decoder lookup).
        const publicKey = createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerPublicKey).toString('base64url') },
          format: 'jwk',
        });
        // OpenSSL refuses the all-zero shared secret of a low-order key, as noble does.
        return new Uint8Array(diffieHellman({ privateKey, publicKey }));
      },
    };
  } finally {
    der.fill(0);
  }
}
