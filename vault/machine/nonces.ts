import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, canonical, canonicalHash, u64, utf8 } from '../protocol/index.ts';

/**
 * Vault-issued nonces for pings and claims, minted without a log entry:
 *   nonce = u64(issuedAt) ‖ r (8 random bytes) ‖ tag (16 bytes)
 *   tag   = HMAC-SHA256(H("vigil/v1/nonce-key", epochSecret),
 *                       canonical("vigil/v1/nonce", kind, subject, u64(issuedAt), r))[0..16]
 * Only the cluster (holder of the volatile epoch secret) can mint one, nobody can predict one,
 * and issuing keeps no state: so nobody can evict a provider's outstanding ping nonce by asking
 * for many (which would suppress pings and let a claim win). Single use is enforced when a
 * nonce is consumed: the state remembers consumed nonces until they expire.
 */
export type NonceKind = 'ping' | 'claim';
export const NONCE_TAG_BYTES = 16;

export function mintNonce(args: {
  kind: NonceKind;
  subject: Uint8Array;
  epochSecret: Uint8Array;
  issuedAt: number;
  random: Uint8Array;
}): Uint8Array {
  if (args.random.length < 8) throw new Error('nonce randomness: at least 8 bytes');
  const head = new Uint8Array(16);
  head.set(u64(args.issuedAt), 0);
  head.set(args.random.subarray(0, 8), 8);
  const out = new Uint8Array(32);
  out.set(head, 0);
  out.set(tag(args.kind, args.subject, args.epochSecret, head), 16);
  return out;
}

/** The nonce's expiry if it is authentic and fresh at `now`, else null. */
export function checkNonce(args: {
  kind: NonceKind;
  subject: Uint8Array;
  epochSecret: Uint8Array;
  nonce: Uint8Array;
  now: number;
  ttlMs: number;
}): number | null {
  if (args.nonce.length !== 32) return null;
  const head = args.nonce.subarray(0, 16);
  const expected = tag(args.kind, args.subject, args.epochSecret, head);
  if (!bytesEqual(expected, args.nonce.subarray(16, 32))) return null;
  const issuedAt = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, false));
  const expiresAt = issuedAt + args.ttlMs;
  // A nonce "from the future" beyond one TTL means a broken clock somewhere: refuse it.
  if (args.now >= expiresAt || issuedAt > args.now + args.ttlMs) return null;
  return expiresAt;
}

function tag(
  kind: NonceKind,
  subject: Uint8Array,
  epochSecret: Uint8Array,
  head: Uint8Array,
): Uint8Array {
  const key = canonicalHash('vigil/v1/nonce-key', [epochSecret]);
  const msg = canonical('vigil/v1/nonce', [
    utf8(kind),
    subject,
    head.subarray(0, 8),
    head.subarray(8, 16),
  ]);
  return hmac(sha256, key, msg).subarray(0, NONCE_TAG_BYTES);
}
