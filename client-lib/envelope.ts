/**
 * Password-encrypted JSON files (the wallet and the claim state): scrypt derives a key from the
 * password, XChaCha20-Poly1305 encrypts the payload, and the whole header (format, kind, KDF
 * parameters, salt, nonce) is the associated data, so changing any byte of it fails to open.
 * KDF parameters are read from the file but bounded first: a hostile file cannot make us spend
 * minutes or gigabytes.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { canonical, parseHex, toHex, u32, u64, utf8 } from '../vault/portable.ts';
import { ClientError } from './errors.ts';
import type { RandomBytes } from './random.ts';

export const ENVELOPE_FORMAT = 'vigil-encrypted';
export const ENVELOPE_VERSION = 1;
export type EnvelopeKind = 'wallet' | 'claim';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  n: number;
  r: number;
  p: number;
}

/** 128 MiB of memory, about a second on a laptop: the default for new files. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 17, r: 8, p: 1 };

/** What a file may ask of us, whatever it says. */
export const SCRYPT_LIMITS = {
  minLogN: 10,
  maxLogN: 20,
  maxR: 32,
  maxP: 16,
  /** 128·n·r bytes of scrypt memory. */
  maxMemoryBytes: 256 * 1024 * 1024,
  /** n·r·p block mixes, ~4× the default's work. */
  maxWork: 2 ** 22,
} as const;

export const MAX_ENVELOPE_BYTES = 1024 * 1024;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;

interface Header {
  kind: EnvelopeKind;
  kdf: ScryptParams & { salt: Uint8Array };
  nonce: Uint8Array;
}

export function checkScryptParams(p: ScryptParams): void {
  const bad = (why: string) => new ClientError('WALLET_KDF_PARAMS', `scrypt parameters: ${why}`);
  for (const [name, v] of Object.entries(p)) {
    if (!Number.isSafeInteger(v) || v < 1) throw bad(`${name} must be a positive integer`);
  }
  const logN = Math.log2(p.n);
  if (!Number.isInteger(logN)) throw bad('n must be a power of two');
  if (logN < SCRYPT_LIMITS.minLogN || logN > SCRYPT_LIMITS.maxLogN) {
    throw bad(`n must be in 2^${SCRYPT_LIMITS.minLogN}..2^${SCRYPT_LIMITS.maxLogN}`);
  }
  if (p.r > SCRYPT_LIMITS.maxR) throw bad(`r must be at most ${SCRYPT_LIMITS.maxR}`);
  if (p.p > SCRYPT_LIMITS.maxP) throw bad(`p must be at most ${SCRYPT_LIMITS.maxP}`);
  if (128 * p.n * p.r > SCRYPT_LIMITS.maxMemoryBytes) {
    throw bad(`128·n·r exceeds ${SCRYPT_LIMITS.maxMemoryBytes} bytes of memory`);
  }
  if (p.n * p.r * p.p > SCRYPT_LIMITS.maxWork) throw bad('n·r·p exceeds the work limit');
}

function headerBytes(h: Header): Uint8Array {
  return canonical('vigil/v1/client/envelope-header', [
    utf8(ENVELOPE_FORMAT),
    u32(ENVELOPE_VERSION),
    utf8(h.kind),
    utf8('scrypt'),
    u64(h.kdf.n),
    u32(h.kdf.r),
    u32(h.kdf.p),
    h.kdf.salt,
    utf8('xchacha20-poly1305'),
    h.nonce,
  ]);
}

async function deriveKey(password: string, kdf: Header['kdf']): Promise<Uint8Array> {
  if (password.length === 0) throw new ClientError('WALLET_PASSWORD', 'the password is empty');
  return scryptAsync(password.normalize('NFKC'), kdf.salt, {
    N: kdf.n,
    r: kdf.r,
    p: kdf.p,
    dkLen: KEY_BYTES,
    maxmem: SCRYPT_LIMITS.maxMemoryBytes + 1024 * 1024,
  });
}

/** Encrypts `payload` (JSON-serialisable) under `password`; returns the file's text. */
export async function sealEnvelope(args: {
  kind: EnvelopeKind;
  payload: unknown;
  password: string;
  random: RandomBytes;
  scrypt?: ScryptParams;
}): Promise<string> {
  const params = args.scrypt ?? DEFAULT_SCRYPT;
  checkScryptParams(params);
  const header: Header = {
    kind: args.kind,
    kdf: { ...params, salt: args.random(SALT_BYTES) },
    nonce: args.random(NONCE_BYTES),
  };
  const key = await deriveKey(args.password, header.kdf);
  const plaintext = utf8(JSON.stringify(args.payload));
  const ciphertext = xchacha20poly1305(key, header.nonce, headerBytes(header)).encrypt(plaintext);
  key.fill(0);
  plaintext.fill(0);
  return `${JSON.stringify(
    {
      format: ENVELOPE_FORMAT,
      version: ENVELOPE_VERSION,
      kind: header.kind,
      kdf: {
        name: 'scrypt',
        n: params.n,
        r: params.r,
        p: params.p,
        salt: toHex(header.kdf.salt),
      },
      cipher: { name: 'xchacha20-poly1305', nonce: toHex(header.nonce) },
      ciphertext: toHex(ciphertext),
    },
    null,
    2,
  )}\n`;
}

function corrupt(why: string): ClientError {
  return new ClientError('WALLET_CORRUPT', `encrypted file is malformed: ${why}`);
}

function exactObject(v: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw corrupt(`${what} is not an object`);
  const o = v as Record<string, unknown>;
  const have = Object.keys(o).sort();
  const want = [...keys].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    throw corrupt(`${what} must have exactly the fields ${want.join(', ')}`);
  }
  return o;
}

function hexField(v: unknown, what: string, bytes?: number): Uint8Array {
  try {
    if (bytes !== undefined) return parseHex(what, v, bytes);
    if (typeof v !== 'string' || v.length % 2 !== 0) throw new Error();
    return parseHex(what, v, v.length / 2);
  } catch {
    throw corrupt(`${what} is not lowercase hex of the right length`);
  }
}

/** Parses and bounds the header without any expensive work. */
export function parseEnvelope(
  text: string,
  expectedKind: EnvelopeKind,
): { header: Header; ciphertext: Uint8Array } {
  if (text.length > MAX_ENVELOPE_BYTES) throw corrupt(`larger than ${MAX_ENVELOPE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  const o = exactObject(json, 'file', ['format', 'version', 'kind', 'kdf', 'cipher', 'ciphertext']);
  if (o.format !== ENVELOPE_FORMAT) {
    throw new ClientError(
      'WALLET_FORMAT',
      `not a Vigil encrypted file (format ${String(o.format)})`,
    );
  }
  if (o.version !== ENVELOPE_VERSION) {
    throw new ClientError('WALLET_FORMAT', `unsupported file version ${String(o.version)}`);
  }
  if (o.kind !== expectedKind) {
    throw new ClientError(
      'WALLET_FORMAT',
      `this file holds a ${String(o.kind)}, not a ${expectedKind}`,
    );
  }
  const kdf = exactObject(o.kdf, 'kdf', ['name', 'n', 'r', 'p', 'salt']);
  if (kdf.name !== 'scrypt') throw corrupt('kdf.name must be scrypt');
  const params = { n: kdf.n, r: kdf.r, p: kdf.p } as ScryptParams;
  checkScryptParams(params);
  const salt = hexField(kdf.salt, 'kdf.salt', SALT_BYTES);
  const cipher = exactObject(o.cipher, 'cipher', ['name', 'nonce']);
  if (cipher.name !== 'xchacha20-poly1305') throw corrupt('cipher.name must be xchacha20-poly1305');
  const nonce = hexField(cipher.nonce, 'cipher.nonce', NONCE_BYTES);
  const ciphertext = hexField(o.ciphertext, 'ciphertext');
  if (ciphertext.length < 16) throw corrupt('ciphertext is too short');
  return { header: { kind: expectedKind, kdf: { ...params, salt }, nonce }, ciphertext };
}

/** Opens a file made by sealEnvelope; a wrong password or any modified byte is WALLET_PASSWORD. */
export async function openEnvelope(
  text: string,
  kind: EnvelopeKind,
  password: string,
): Promise<unknown> {
  const { header, ciphertext } = parseEnvelope(text, kind);
  const key = await deriveKey(password, header.kdf);
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(key, header.nonce, headerBytes(header)).decrypt(ciphertext);
  } catch {
    throw new ClientError(
      'WALLET_PASSWORD',
      `wrong password for this ${kind} file, or the file was modified`,
    );
  } finally {
    key.fill(0);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw corrupt('the decrypted payload is not JSON');
  } finally {
    plaintext.fill(0);
  }
}
