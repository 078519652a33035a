import { randomBytes } from 'node:crypto';
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import {
  AEAD_NONCE_BYTES,
  openAead as open,
  sealAeadInto as sealInto,
} from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import { STORAGE_KEY_BYTES } from './sealer.ts';

/**
 * Authenticated encryption for values at rest under the node storage key:
 *   box = version (1 byte) ‖ nonce (24 bytes) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16 bytes)
 * The associated data binds the domain, the version and the record's name (its LevelDB key,
 * length-prefixed), so a value moved to another key, or downgraded, fails to open.
 * 24-byte random nonces make collisions negligible for any realistic number of writes.
 */
export const STORAGE_BOX_VERSION = 1;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const DOMAIN = utf8ToBytes('vigil/vault/storage-box/v1');

export type RandomBytes = (length: number) => Uint8Array;

// Nonces come from a pool of CSPRNG output, each byte handed out once: one randomBytes call per
// ~170 nonces instead of one per sealed value (~3-7 µs each on this hot path).
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

function defaultRandom(length: number): Uint8Array {
  if (length > POOL_BYTES) return randomBytes(length);
  if (poolOffset + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + length);
  poolOffset += length;
  return out;
}

/*
 * XChaCha20-Poly1305 is HChaCha20(key, nonce[0..16]) as the key of RFC 8439 ChaCha20-Poly1305
 * with nonce 0⁴ ‖ nonce[16..24], so the cluster's AEAD (native where built, see cluster/net/aead.ts)
 * gives the same bytes as noble's XChaCha20-Poly1305 (checked in the tests). Every Raft write
 * seals a few values, so the subkey, nonce and associated data are built without temporaries.
 * HChaCha20 is noble's; its word order is the host's, so big-endian hosts keep noble's whole
 * construction.
 */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const SIGMA = new Uint32Array(Uint8Array.from(utf8ToBytes('expand 32-byte k')).buffer);

function words(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

// Scratch for one seal or open, consumed before it returns (the AEAD copies key and nonce into
// its context): a sealed value costs its box and nothing else on the heap.
const nonceWords = new Uint32Array(4);
const nonceWordBytes = new Uint8Array(nonceWords.buffer);
const subkeyWords = new Uint32Array(8);
const subkey = { key: new Uint8Array(subkeyWords.buffer), iv: new Uint8Array(AEAD_NONCE_BYTES) };
let aadScratch = new Uint8Array(256);
let aadView = new DataView(aadScratch.buffer);
const textEncoder = new TextEncoder();

/** The RFC 8439 key and nonce that XChaCha20-Poly1305 under `key32` and `nonce` reduces to. */
function xchachaSubkey(key32: Uint32Array, nonce: Uint8Array): { key: Uint8Array; iv: Uint8Array } {
  nonceWordBytes.set(nonce.subarray(0, 16));
  hchacha(SIGMA, key32, nonceWords, subkeyWords);
  subkey.iv.set(nonce.subarray(16, NONCE_BYTES), 4);
  return subkey;
}

/** u32be(|DOMAIN|) ‖ DOMAIN ‖ version ‖ u32be(|name|) ‖ name, in the scratch buffer. */
function associatedData(version: number, name: string | Uint8Array): Uint8Array {
  const head = 4 + DOMAIN.length + 1 + 4;
  const room = head + (typeof name === 'string' ? 3 * name.length : name.length);
  if (aadScratch.length < room) {
    aadScratch = new Uint8Array(room);
    aadView = new DataView(aadScratch.buffer);
  }
  const out = aadScratch;
  const view = aadView;
  view.setUint32(0, DOMAIN.length);
  out.set(DOMAIN, 4);
  out[4 + DOMAIN.length] = version;
  let nameLength = name.length;
  if (typeof name === 'string')
    nameLength = textEncoder.encodeInto(name, out.subarray(head)).written;
  else out.set(name, head);
  view.setUint32(head - 4, nameLength);
  return out.subarray(0, head + nameLength);
}

export class StorageBox {
  readonly #key: Uint8Array;
  readonly #key32: Uint32Array;
  readonly #random: RandomBytes;

  constructor(storageKey: Uint8Array, random: RandomBytes = defaultRandom) {
    if (storageKey.length !== STORAGE_KEY_BYTES) {
      throw new VaultError(
        'STORAGE_KEY_INVALID',
        `storage key must be ${STORAGE_KEY_BYTES} bytes`,
        500,
      );
    }
    this.#key = Uint8Array.from(storageKey);
    this.#key32 = words(this.#key);
    this.#random = random;
  }

  /** Encrypts `plaintext` for the record called `name` (e.g. its LevelDB key). */
  seal(name: string | Uint8Array, plaintext: Uint8Array): Uint8Array {
    const nonce = this.#random(NONCE_BYTES);
    if (nonce.length !== NONCE_BYTES) {
      throw new VaultError(
        'STORAGE_KEY_INVALID',
        `nonce source must return ${NONCE_BYTES} bytes`,
        500,
      );
    }
    const aad = associatedData(STORAGE_BOX_VERSION, name);
    const box = new Uint8Array(1 + NONCE_BYTES + plaintext.length + TAG_BYTES);
    box[0] = STORAGE_BOX_VERSION;
    box.set(nonce, 1);
    if (!LITTLE_ENDIAN) {
      box.set(xchacha20poly1305(this.#key, nonce, aad).encrypt(plaintext), 1 + NONCE_BYTES);
      return box;
    }
    const { key, iv } = xchachaSubkey(this.#key32, nonce);
    try {
      sealInto(key, iv, aad, plaintext, box, 1 + NONCE_BYTES);
    } finally {
      subkeyWords.fill(0); // a derived key does not outlive its use
    }
    return box;
  }

  /** Decrypts a box written by `seal` for the same `name`; throws STORAGE_* on any mismatch. */
  open(name: string | Uint8Array, box: Uint8Array): Uint8Array {
    if (box.length < 1 + NONCE_BYTES + TAG_BYTES) {
      throw new VaultError(
        'STORAGE_MALFORMED',
        'stored value is too short to be a storage box',
        500,
      );
    }
    if (box[0] !== STORAGE_BOX_VERSION) {
      throw new VaultError(
        'STORAGE_MALFORMED',
        `stored value has unknown box version ${box[0]}`,
        500,
      );
    }
    const nonce = box.subarray(1, 1 + NONCE_BYTES);
    const aad = associatedData(STORAGE_BOX_VERSION, name);
    let plain: Uint8Array | null = null;
    try {
      if (!LITTLE_ENDIAN) {
        plain = xchacha20poly1305(this.#key, nonce, aad).decrypt(box.subarray(1 + NONCE_BYTES));
      } else {
        const { key, iv } = xchachaSubkey(this.#key32, nonce);
        try {
          plain = open(key, iv, aad, box.subarray(1 + NONCE_BYTES));
        } finally {
          subkeyWords.fill(0);
        }
      }
    } catch {
      plain = null; // noble throws where the cluster's AEAD answers null
    }
    if (plain === null) {
      throw new VaultError(
        'STORAGE_TAMPERED',
        'stored value failed authentication (tampered, moved to another key, or another storage key)',
        500,
      );
    }
    return plain;
  }
}
