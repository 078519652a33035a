import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { VaultError } from '../errors.ts';
import { canonical, utf8 } from './canonical.ts';

/**
 * HPKE-style single-shot encryption (docs/protocol.md "Encryption"): X25519 with a fresh sender
 * key, HKDF-SHA256 with a purpose-separated salt and an info binding both public keys, then
 * ChaCha20-Poly1305 with the transcript as associated data. Every sender key is fresh, so each
 * derived (key, nonce) pair is used exactly once.
 */
export type SealPurpose = 'deposit' | 'release';

export interface Sealed {
  /** The sender's ephemeral X25519 public key (32 bytes). */
  enc: Uint8Array;
  /** AEAD output: ciphertext ‖ 16-byte tag. */
  ciphertext: Uint8Array;
}

export const X25519_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;

export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/** Rejects X25519 public keys of low order: a shared secret with them would be all zeros. */
export function checkX25519PublicKey(field: string, key: Uint8Array): Uint8Array {
  try {
    if (key.length !== X25519_KEY_BYTES) throw new Error('length');
    x25519.getSharedSecret(LOW_ORDER_PROBE, key);
  } catch {
    throw new VaultError('BAD_POINT', `${field}: not a usable X25519 public key`);
  }
  return key;
}

// Any fixed non-zero scalar works: clamping makes it a multiple of the cofactor, so the product
// is zero exactly for low-order inputs.
const LOW_ORDER_PROBE = new Uint8Array(32).fill(0x5a);

export function seal(args: {
  purpose: SealPurpose;
  recipientPublicKey: Uint8Array;
  /** 32 fresh random bytes from the caller: the sender's ephemeral X25519 secret. */
  senderSecret: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
}): Sealed {
  if (args.senderSecret.length !== X25519_KEY_BYTES) throw new Error('senderSecret: 32 bytes');
  const enc = x25519.getPublicKey(args.senderSecret);
  let derived: { key: Uint8Array; nonce: Uint8Array };
  try {
    derived = schedule(args.purpose, args.senderSecret, args.recipientPublicKey, enc);
  } catch {
    throw new VaultError('BAD_POINT', 'recipient key: not a usable X25519 public key');
  }
  const { key, nonce } = derived;
  const ciphertext = chacha20poly1305(key, nonce, args.aad).encrypt(args.plaintext);
  key.fill(0);
  return { enc, ciphertext };
}

/** Opens a sealed box; any failure is one 400 `DECRYPT_FAILED` that says nothing more. */
export function open(args: {
  purpose: SealPurpose;
  recipientSecretKey: Uint8Array;
  enc: Uint8Array;
  aad: Uint8Array;
  ciphertext: Uint8Array;
}): Uint8Array {
  const recipientPublicKey = x25519.getPublicKey(args.recipientSecretKey);
  let key: Uint8Array | undefined;
  try {
    const s = schedule(
      args.purpose,
      args.recipientSecretKey,
      args.enc,
      args.enc,
      recipientPublicKey,
    );
    key = s.key;
    return chacha20poly1305(s.key, s.nonce, args.aad).decrypt(args.ciphertext);
  } catch {
    throw new VaultError('DECRYPT_FAILED', 'ciphertext does not open under this transcript');
  } finally {
    key?.fill(0);
  }
}

function schedule(
  purpose: SealPurpose,
  ownSecret: Uint8Array,
  peerPublic: Uint8Array,
  enc: Uint8Array,
  recipientPublic: Uint8Array = peerPublic,
): { key: Uint8Array; nonce: Uint8Array } {
  // Throws on a low-order peer key (all-zero shared secret): such a key yields no secrecy.
  const dh = x25519.getSharedSecret(ownSecret, peerPublic);
  const salt = canonical('vigil/v1/hpke/salt', [utf8(purpose)]);
  const info = canonical('vigil/v1/hpke/info', [utf8(purpose), enc, recipientPublic]);
  const okm = hkdf(sha256, dh, salt, info, 44);
  dh.fill(0);
  return { key: okm.slice(0, 32), nonce: okm.slice(32, 44) };
}
