import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared/vectors beside the repository, or VIGIL_VECTORS when set. */
export const vectorsDir = process.env.VIGIL_VECTORS ?? join(repoRoot, '..', 'shared', 'vectors');

/**
 * Whether a vectors subfolder exists. When it does not (a user's clone without shared/), the
 * caller skips its tests and this prints why, so a skip is never silent.
 */
export function haveVectors(sub: string): boolean {
  const present = existsSync(join(vectorsDir, sub));
  if (!present) {
    console.warn(
      `[vectors] skipping: ${join(vectorsDir, sub)} is absent (shared/vectors not beside this clone)`,
    );
  }
  return present;
}

export function vectorPath(...parts: string[]): string {
  return join(vectorsDir, ...parts);
}

export function readVector(...parts: string[]): Buffer {
  return readFileSync(vectorPath(...parts));
}

export function readVectorText(...parts: string[]): string {
  return readFileSync(vectorPath(...parts), 'utf8');
}

/**
 * `describe` for a suite that needs shared/vectors/<sub>. When the folder is absent the suite's
 * body is never run (it may read vectors while it is being collected) and one skipped test says
 * why, so the skip shows in the report instead of an ENOENT.
 */
export function describeWithVectors(sub: string, name: string, body: () => void): void {
  if (haveVectors(sub)) {
    describe(name, body);
    return;
  }
  describe.skip(name, () => {
    it(`needs ${join(vectorsDir, sub)} (absent in this clone)`, () => {});
  });
}
