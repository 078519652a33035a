import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsyncs a directory so a newly created or renamed entry survives a power cut. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(dirname(path), constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a new file (mode 0600, O_EXCL, no symlinks) and fsyncs it. */
async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` with `bytes` and mode 0600, failing with EEXIST if it exists. The bytes go to a
 * synced temporary file that is then hard-linked into place: link() is atomic and exclusive, so
 * of two racing starts exactly one wins, and the other never sees a half-written file.
 */
export async function createFileExclusive(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.new-${process.pid}-${randomBytes(6).toString('hex')}`;
  await writeNewFile(temporary, bytes);
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(path);
}

/** Replaces `path` atomically: a synced temporary file renamed over it, then the directory synced. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await unlink(temporary).catch(() => undefined);
  await writeNewFile(temporary, bytes);
  await rename(temporary, path);
  await syncDirectory(path);
}
