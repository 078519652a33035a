import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { VaultError } from '../errors.ts';
import { canonical, utf8 } from './canonical.ts';
import { primitives, type X25519KeyPair } from './primitives.ts';

/**
 * HPKE-style single-shot encryption (docs/protocol.md "Encryption"): X25519 with a fresh sender
 * key, HKDF-SHA256 with a purpose-separated salt and an info binding both public keys, then
 * ChaCha20-Poly1305 with the transcript as associated data. Every sender key is fresh, so each
 * derived (key, nonce) pair is used exactly once.
 *
 * X25519 runs in the process's primitives (primitives.ts): OpenSSL in the Node shells, noble in
 * the client SDK; the tests keep noble as the reference.
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

export type { X25519KeyPair };

/**
 * A recipient's X25519 key, parsed and with its public key derived once: a long-lived key (the
 * cluster's) should pay for that once, not on every `open`.
 */
export function x25519KeyPair(secretKey: Uint8Array): X25519KeyPair {
  if (secretKey.length !== X25519_KEY_BYTES) throw new Error('X25519 secret key: 32 bytes');
  return primitives().x25519KeyPair(secretKey);
}

export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519KeyPair(secretKey).publicKey;
}

/**
 * X25519(own secret, peer public key). Throws on a low-order peer key: the all-zero shared
 * secret such a key yields is refused (RFC 7748 §6.1).
 */
export function x25519SharedSecret(own: X25519KeyPair, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== X25519_KEY_BYTES) throw new Error('X25519 public key: 32 bytes');
  return own.sharedSecret(peerPublicKey);
}

/** Rejects X25519 public keys of low order: a shared secret with them would be all zeros. */
export function checkX25519PublicKey(field: string, key: Uint8Array): Uint8Array {
  try {
    x25519SharedSecret(lowOrderProbe(), key).fill(0);
  } catch {
    throw new VaultError('BAD_POINT', `${field}: not a usable X25519 public key`);
  }
  return key;
}

// Any fixed non-zero scalar works: clamping makes it a multiple of the cofactor, so the product
// is zero exactly for low-order inputs. Prepared on first use (per set of primitives), not at
// import.
const probes = new WeakMap<object, X25519KeyPair>();
const lowOrderProbe = () => {
  const ec = primitives();
  let probe = probes.get(ec);
  if (!probe) {
    probe = x25519KeyPair(new Uint8Array(32).fill(0x5a));
    probes.set(ec, probe);
  }
  return probe;
};

export function seal(args: {
  purpose: SealPurpose;
  recipientPublicKey: Uint8Array;
  /** 32 fresh random bytes from the caller: the sender's ephemeral X25519 secret. */
  senderSecret: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
}): Sealed {
  if (args.senderSecret.length !== X25519_KEY_BYTES) throw new Error('senderSecret: 32 bytes');
  const sender = x25519KeyPair(args.senderSecret);
  let dh: Uint8Array;
  try {
    dh = x25519SharedSecret(sender, args.recipientPublicKey);
  } catch {
    throw new VaultError('BAD_POINT', 'recipient key: not a usable X25519 public key');
  }
  const { key, nonce } = schedule(args.purpose, dh, sender.publicKey, args.recipientPublicKey);
  const ciphertext = chacha20poly1305(key, nonce, args.aad).encrypt(args.plaintext);
  key.fill(0);
  return { enc: sender.publicKey, ciphertext };
}

/**
 * Opens a sealed box; any failure is one 400 `DECRYPT_FAILED` that says nothing more. A caller
 * that opens many boxes with one key passes `recipient` (from `x25519KeyPair`) instead of
 * `recipientSecretKey`.
 */
export function open(
  args: {
    purpose: SealPurpose;
    enc: Uint8Array;
    aad: Uint8Array;
    ciphertext: Uint8Array;
  } & ({ recipientSecretKey: Uint8Array } | { recipient: X25519KeyPair }),
): Uint8Array {
  const recipient = 'recipient' in args ? args.recipient : x25519KeyPair(args.recipientSecretKey);
  let key: Uint8Array | undefined;
  try {
    const s = schedule(
      args.purpose,
      x25519SharedSecret(recipient, args.enc),
      args.enc,
      recipient.publicKey,
    );
    key = s.key;
    return chacha20poly1305(s.key, s.nonce, args.aad).decrypt(args.ciphertext);
  } catch {
    throw new VaultError('DECRYPT_FAILED', 'ciphertext does not open under this transcript');
  } finally {
    key?.fill(0);
  }
}

/** HKDF over the shared secret, which it zeroes. */
function schedule(
  purpose: SealPurpose,
  dh: Uint8Array,
  enc: Uint8Array,
  recipientPublic: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const salt = canonical('vigil/v1/hpke/salt', [utf8(purpose)]);
  const info = canonical('vigil/v1/hpke/info', [utf8(purpose), enc, recipientPublic]);
  const okm = hkdf(sha256, dh, salt, info, 44);
  dh.fill(0);
  return { key: okm.slice(0, 32), nonce: okm.slice(32, 44) };
}
