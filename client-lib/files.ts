/** Atomic file writes (temp file, fsync, rename, fsync of the directory) and bounded reads. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ClientError } from './errors.ts';

export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ClientError('WALLET_IO', `cannot write ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await d.close();
  }
}

/** Reads a text file of at most `maxBytes`; undefined when it does not exist. */
export async function readBoundedFile(path: string, maxBytes: number): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (s.size > maxBytes) {
      throw new ClientError('WALLET_CORRUPT', `${path} is larger than ${maxBytes} bytes`);
    }
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ClientError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientError('WALLET_IO', `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
