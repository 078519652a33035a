/**
 * HashPrime in the native addon (native/hash_prime.cc: OpenSSL's SHA-256 and BN), where it is
 * built: a class1024 verification runs it for every GetB, and the TypeScript search (BigInt BPSW,
 * a SHA-256 in JavaScript) cost milliseconds there. Node's accelerators install it.
 */
import { bytesToBigint } from '../bytes.ts';
import { nativeAddon } from '../rsa2048/native.ts';

export function nativeHashPrime(
  seed: Uint8Array,
  bits: number,
  setBits: readonly number[],
): bigint | null | undefined {
  const prime = nativeAddon()?.hashPrime(seed, bits, setBits);
  return prime === undefined || prime === null ? prime : bytesToBigint(prime);
}
