import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
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

/**
 * Creates `path` with `bytes` and mode 0600, failing if it exists: write, fsync, close, fsync
 * the directory. O_EXCL makes two racing starts agree on one file.
 */
export async function createFileExclusive(path: string, bytes: Uint8Array): Promise<void> {
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
  await syncDirectory(path);
}

/** Replaces `path` atomically: a synced temporary file renamed over it, then the directory synced. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await unlink(temporary).catch(() => undefined);
  await createFileExclusive(temporary, bytes);
  await rename(temporary, path);
  await syncDirectory(path);
}
