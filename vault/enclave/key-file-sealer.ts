import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { VaultError } from '../errors.ts';
import { createFileExclusive } from './durable-file.ts';
import { type Sealer, STORAGE_KEY_BYTES } from './sealer.ts';

export interface KeyFileSealerOptions {
  readonly path: string;
  /** Source of a new key; default crypto.getRandomValues. */
  readonly random?: (length: number) => Uint8Array;
}

function randomKey(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Development sealer: the storage key lives in a 32-byte file readable only by its owner. It
 * protects nothing against whoever controls the machine, which is why production uses KMS.
 * A file with the wrong size, looser permissions, another owner or a symlink is refused rather
 * than "fixed", since any of those means something else has touched the key.
 */
export class KeyFileSealer implements Sealer {
  readonly kind = 'key-file' as const;
  readonly insecure = true;
  readonly #path: string;
  readonly #random: (length: number) => Uint8Array;

  constructor(options: KeyFileSealerOptions) {
    this.#path = options.path;
    this.#random = options.random ?? randomKey;
  }

  async storageKey(): Promise<Uint8Array> {
    try {
      return await this.#read();
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    const key = this.#random(STORAGE_KEY_BYTES);
    if (key.length !== STORAGE_KEY_BYTES) {
      throw new VaultError(
        'SEALER_KEY_FILE_INVALID',
        'random source returned a key of the wrong size',
        500,
      );
    }
    try {
      await createFileExclusive(this.#path, key);
      return key;
    } catch (err) {
      // Another process created it first: use theirs.
      if (isErrno(err, 'EEXIST')) return this.#read();
      throw err;
    }
  }

  #check(stats: Stats): void {
    if (!stats.isFile()) {
      throw new VaultError('SEALER_KEY_FILE_INVALID', `${this.#path} is not a regular file`, 500);
    }
    if ((stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8);
      throw new VaultError(
        'SEALER_KEY_FILE_PERMISSIONS',
        `${this.#path} has mode ${mode}; it must be 600 or stricter`,
        500,
      );
    }
    const uid = process.getuid?.();
    if (uid !== undefined && stats.uid !== uid) {
      throw new VaultError(
        'SEALER_KEY_FILE_PERMISSIONS',
        `${this.#path} is owned by another user`,
        500,
      );
    }
    if (stats.size !== STORAGE_KEY_BYTES) {
      throw new VaultError(
        'SEALER_KEY_FILE_INVALID',
        `${this.#path} must hold exactly ${STORAGE_KEY_BYTES} bytes`,
        500,
      );
    }
  }

  async #read(): Promise<Uint8Array> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.#path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (isErrno(err, 'ELOOP')) {
        throw new VaultError('SEALER_KEY_FILE_INVALID', `${this.#path} is a symbolic link`, 500);
      }
      throw err;
    }
    try {
      this.#check(await handle.stat());
      const key = new Uint8Array(STORAGE_KEY_BYTES);
      const { bytesRead } = await handle.read(key, 0, STORAGE_KEY_BYTES, 0);
      if (bytesRead !== STORAGE_KEY_BYTES) {
        throw new VaultError(
          'SEALER_KEY_FILE_INVALID',
          `${this.#path} changed while being read`,
          500,
        );
      }
      return key;
    } finally {
      await handle.close();
    }
  }
}
