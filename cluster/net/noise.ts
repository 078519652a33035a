/**
 * Noise_XX_25519_ChaChaPoly_SHA256 (noiseprotocol.org, rev 34) for peer channels. Both sides prove
 * their static X25519 key (the node key bound in each node's attestation document); the caller then
 * checks the peer's static key against the cluster membership. Pure: ephemeral keys come in as bytes.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { open, seal } from './aead.ts';

const PROTOCOL_NAME = utf8ToBytes('Noise_XX_25519_ChaChaPoly_SHA256');
const DH_LEN = 32;
const TAG_LEN = 16;
const MAX_NONCE = 2n ** 64n - 1n;

export class NoiseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoiseError';
  }
}

export interface StaticKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function keyPairFromPrivate(privateKey: Uint8Array): StaticKeyPair {
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

function nonceBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, n, true);
  return out;
}

/** One direction of transport encryption after the handshake. */
export class CipherState {
  #key: Uint8Array | undefined;
  #nonce = 0n;

  constructor(key?: Uint8Array) {
    this.#key = key;
  }

  get hasKey(): boolean {
    return this.#key !== undefined;
  }

  // ChaChaPoly is RFC 8439's AEAD (aead.ts): every Raft message is sealed once and opened once,
  // on the write's critical path.
  encrypt(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.#key) return plaintext;
    return seal(this.#key, this.#next(), ad, plaintext);
  }

  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.#key) return ciphertext;
    const plain = open(this.#key, this.#next(), ad, ciphertext);
    if (plain === null) throw new NoiseError('authentication failed');
    return plain;
  }

  #next(): Uint8Array {
    if (this.#nonce >= MAX_NONCE) throw new NoiseError('nonce exhausted');
    const n = nonceBytes(this.#nonce);
    this.#nonce += 1n;
    return n;
  }
}

class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  cipher = new CipherState();

  constructor(prologue: Uint8Array) {
    this.h = new Uint8Array(32);
    this.h.set(PROTOCOL_NAME);
    this.ck = this.h.slice();
    this.mixHash(prologue);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(concatBytes(this.h, data));
  }

  mixKey(ikm: Uint8Array): void {
    const out = hkdf(sha256, ikm, this.ck, new Uint8Array(0), 64);
    this.ck = out.slice(0, 32);
    this.cipher = new CipherState(out.slice(32, 64));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encrypt(this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.cipher.decrypt(this.h, ciphertext);
    this.mixHash(ciphertext);
    return p;
  }

  split(): [CipherState, CipherState] {
    const out = hkdf(sha256, new Uint8Array(0), this.ck, new Uint8Array(0), 64);
    return [new CipherState(out.slice(0, 32)), new CipherState(out.slice(32, 64))];
  }
}

export interface HandshakeResult {
  send: CipherState;
  receive: CipherState;
  remoteStatic: Uint8Array;
  /** The handshake hash: a unique, transcript-bound channel id. */
  handshakeHash: Uint8Array;
}

function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new NoiseError('invalid peer public key');
  }
}

/**
 * The XX pattern, driven message by message:
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se, payload
 * The first two payloads are empty. The third may carry the initiator's introduction (what it
 * says about itself, e.g. its attested directory record): it is encrypted and authenticated by
 * the keys that prove the initiator's static key, so only the holder of that key could have
 * sent it.
 */
export class XXHandshake {
  readonly initiator: boolean;
  #ss: SymmetricState;
  #s: StaticKeyPair;
  #e: StaticKeyPair;
  #re: Uint8Array | undefined;
  #rs: Uint8Array | undefined;
  #remotePayload: Uint8Array = new Uint8Array(0);
  #step = 0;

  constructor(opts: {
    initiator: boolean;
    staticKey: StaticKeyPair;
    ephemeralPrivateKey: Uint8Array;
    prologue: Uint8Array;
  }) {
    this.initiator = opts.initiator;
    this.#ss = new SymmetricState(opts.prologue);
    this.#s = opts.staticKey;
    this.#e = keyPairFromPrivate(opts.ephemeralPrivateKey);
  }

  /**
   * Length of the next message this side must read (the least length for the third, whose
   * payload may follow), or undefined when it must write.
   */
  expectedLength(): number | undefined {
    const reading = this.initiator ? this.#step === 1 : this.#step === 0 || this.#step === 2;
    if (!reading) return undefined;
    if (this.#step === 0) return DH_LEN;
    if (this.#step === 1) return DH_LEN + DH_LEN + TAG_LEN + TAG_LEN;
    return DH_LEN + TAG_LEN + TAG_LEN;
  }

  get complete(): boolean {
    return this.#step === 3;
  }

  /** `payload` goes in the third message only (the initiator's introduction). */
  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (payload.length > 0 && !(this.initiator && this.#step === 2)) {
      throw new NoiseError('handshake: only the third message carries a payload');
    }
    const ss = this.#ss;
    if (this.initiator && this.#step === 0) {
      ss.mixHash(this.#e.publicKey);
      const payload = ss.encryptAndHash(new Uint8Array(0));
      this.#step = 1;
      return concatBytes(this.#e.publicKey, payload);
    }
    if (!this.initiator && this.#step === 1) {
      ss.mixHash(this.#e.publicKey);
      ss.mixKey(dh(this.#e.privateKey, this.#re!));
      const s = ss.encryptAndHash(this.#s.publicKey);
      ss.mixKey(dh(this.#s.privateKey, this.#re!));
      const payload = ss.encryptAndHash(new Uint8Array(0));
      this.#step = 2;
      return concatBytes(this.#e.publicKey, s, payload);
    }
    if (this.initiator && this.#step === 2) {
      const s = ss.encryptAndHash(this.#s.publicKey);
      ss.mixKey(dh(this.#s.privateKey, this.#re!));
      const sealed = ss.encryptAndHash(payload);
      this.#step = 3;
      return concatBytes(s, sealed);
    }
    throw new NoiseError('handshake: not this side’s turn to write');
  }

  readMessage(message: Uint8Array): void {
    const expected = this.expectedLength();
    if (expected === undefined) throw new NoiseError('handshake: not this side’s turn to read');
    const third = !this.initiator && this.#step === 2;
    if (third ? message.length < expected : message.length !== expected) {
      throw new NoiseError('handshake: wrong message length');
    }
    const ss = this.#ss;
    if (!this.initiator && this.#step === 0) {
      this.#re = message.slice(0, DH_LEN);
      ss.mixHash(this.#re);
      ss.decryptAndHash(message.subarray(DH_LEN));
      this.#step = 1;
      return;
    }
    if (this.initiator && this.#step === 1) {
      this.#re = message.slice(0, DH_LEN);
      ss.mixHash(this.#re);
      ss.mixKey(dh(this.#e.privateKey, this.#re));
      this.#rs = ss.decryptAndHash(message.subarray(DH_LEN, DH_LEN * 2 + TAG_LEN));
      ss.mixKey(dh(this.#e.privateKey, this.#rs));
      ss.decryptAndHash(message.subarray(DH_LEN * 2 + TAG_LEN));
      this.#step = 2;
      return;
    }
    this.#rs = ss.decryptAndHash(message.subarray(0, DH_LEN + TAG_LEN));
    ss.mixKey(dh(this.#e.privateKey, this.#rs));
    this.#remotePayload = ss.decryptAndHash(message.subarray(DH_LEN + TAG_LEN));
    this.#step = 3;
  }

  /** What the initiator sent in the third message (empty on the initiator's side). */
  get remotePayload(): Uint8Array {
    return this.#remotePayload;
  }

  result(): HandshakeResult {
    if (!this.complete) throw new NoiseError('handshake incomplete');
    const [i2r, r2i] = this.#ss.split();
    return {
      send: this.initiator ? i2r : r2i,
      receive: this.initiator ? r2i : i2r,
      remoteStatic: this.#rs!,
      handshakeHash: this.#ss.h,
    };
  }
}
