/**
 * Turning the two shares into one ordinary private key, and exporting it in standard forms.
 * Pure: no I/O, no randomness. Every reconstruction is checked against the wallet's Q.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { NETWORK, TEST_NETWORK, WIF } from '@scure/btc-signer';
import {
  bytesEqual,
  bytesToBigInt,
  CURVE_ORDER,
  concatBytes,
  decodePoint,
  decodeScalar,
  encodePoint,
  Point,
  type Scheme,
  scalarToBytes,
  toHex,
  utf8,
} from '../vault/portable.ts';
import { ClientError } from './errors.ts';

const mod = (a: bigint) => ((a % CURVE_ORDER) + CURVE_ORDER) % CURVE_ORDER;

function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const t = sha256(utf8(tag));
  return sha256(concatBytes(t, t, ...parts));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * BIP-327 KeyAgg coefficients for plain keys in the given order: L = H_agg_list(pk_1 ‖ … ‖ pk_u);
 * the first key different from pk_1 gets 1 (if any); every other key gets H_agg_coef(L ‖ pk_i) mod n.
 */
export function keyAggCoefficients(publicKeys: readonly Uint8Array[]): bigint[] {
  const first = publicKeys[0];
  if (!first) throw new ClientError('KEY_MISMATCH', 'no public keys to aggregate');
  const second = publicKeys.find((k) => !bytesEqual(k, first));
  const L = taggedHash('KeyAgg list', ...publicKeys);
  return publicKeys.map((pk) =>
    second && bytesEqual(pk, second)
      ? 1n
      : mod(bytesToBigInt(taggedHash('KeyAgg coefficient', L, pk))),
  );
}

/** The coefficients of Q1 and Q2 after KeySort, as the vault's musig2 scheme aggregates them. */
export function musig2Coefficients(q1: Uint8Array, q2: Uint8Array): [bigint, bigint] {
  const swap = compareBytes(q1, q2) > 0;
  const [a, b] = keyAggCoefficients(swap ? [q2, q1] : [q1, q2]) as [bigint, bigint];
  return swap ? [b, a] : [a, b];
}

/**
 * The wallet's private key x from the two shares under `scheme`, checked so that x·G == Q:
 * - additive: x = x1 + x2;
 * - ecdsa-2p-mult: x = x1·x2;
 * - musig2: x = a1·x1 + a2·x2 with the BIP-327 KeyAgg coefficients, so x·G is the aggregate point
 *   Q with its own parity. A BIP-340 signer negates x when Q has an odd y (see bip340SecretKey).
 * Throws KEY_MISMATCH (naming no secret) when the shares do not give Q.
 */
export function reconstructPrivateKey(args: {
  scheme: Scheme;
  x1: Uint8Array;
  x2: Uint8Array;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
}): Uint8Array {
  const x1 = decodeScalar('x1', args.x1);
  const x2 = decodeScalar('x2', args.x2);
  const Q = decodePoint('q', args.q);
  if (!Point.BASE.multiply(x1).equals(decodePoint('q1', args.q1))) {
    throw new ClientError('KEY_MISMATCH', 'the client share does not match Q1');
  }
  if (!Point.BASE.multiply(x2).equals(decodePoint('q2', args.q2))) {
    throw new ClientError('KEY_MISMATCH', 'the released share does not match Q2');
  }
  let x: bigint;
  switch (args.scheme) {
    case 'additive':
      x = mod(x1 + x2);
      break;
    case 'ecdsa-2p-mult':
      x = mod(x1 * x2);
      break;
    case 'musig2': {
      const [a1, a2] = musig2Coefficients(args.q1, args.q2);
      x = mod(a1 * x1 + a2 * x2);
      break;
    }
  }
  if (x === 0n || !Point.BASE.multiply(x).equals(Q)) {
    throw new ClientError('KEY_MISMATCH', `the shares do not combine to Q under ${args.scheme}`);
  }
  return scalarToBytes(x);
}

/** The BIP-340 secret for x: x itself when x·G has an even y, n − x otherwise. */
export function bip340SecretKey(secretKey: Uint8Array): Uint8Array {
  const x = decodeScalar('secretKey', secretKey);
  const P = Point.BASE.multiply(x);
  return P.toAffine().y % 2n === 0n ? scalarToBytes(x) : scalarToBytes(CURVE_ORDER - x);
}

/** EIP-55 mixed-case checksummed address of a secp256k1 public key. */
export function ethereumAddress(publicKey: Uint8Array): string {
  const uncompressed = decodePoint('publicKey', publicKey).toBytes(false);
  const addr = toHex(keccak_256(uncompressed.subarray(1)).subarray(12));
  const h = toHex(keccak_256(utf8(addr)));
  let out = '0x';
  for (let i = 0; i < addr.length; i++) {
    const c = addr[i] as string;
    out += parseInt(h[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

export interface ExportedKey {
  /** 32-byte private key, lowercase hex. */
  hex: string;
  /** Compressed-key WIF (Bitcoin mainnet, prefix K/L). */
  wif: string;
  /** Compressed-key WIF (testnet, prefix c). */
  wifTestnet: string;
  /** 33-byte compressed public key, hex. */
  publicKey: string;
  /** BIP-340 x-only public key, hex (the Taproot key for musig2 wallets). */
  xOnlyPublicKey: string;
  ethereumAddress: string;
}

export function exportPrivateKey(secretKey: Uint8Array): ExportedKey {
  const x = decodeScalar('secretKey', secretKey);
  const pub = encodePoint(Point.BASE.multiply(x));
  return {
    hex: toHex(secretKey),
    wif: WIF(NETWORK).encode(secretKey),
    wifTestnet: WIF(TEST_NETWORK).encode(secretKey),
    publicKey: toHex(pub),
    xOnlyPublicKey: toHex(pub.subarray(1)),
    ethereumAddress: ethereumAddress(pub),
  };
}

/** Reads a WIF (either network) back into the 32-byte key; throws on a bad checksum. */
export function decodeWif(wif: string): Uint8Array {
  for (const net of [NETWORK, TEST_NETWORK]) {
    try {
      return WIF(net).decode(wif);
    } catch {}
  }
  throw new ClientError('KEY_MISMATCH', 'not a compressed WIF for Bitcoin mainnet or testnet');
}

/** The wallet's public key for ECDSA signatures and its secp256k1 compressed encoding check. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(secretKey, true);
}
