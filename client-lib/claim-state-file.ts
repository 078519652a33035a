/** The claim state on disk (Node): sealed (claim-state.ts) and written atomically. */
import { type ClaimState, openClaimState, sealClaimState } from './claim-state.ts';
import { MAX_ENVELOPE_BYTES, type ScryptParams } from './envelope.ts';
import { readBoundedFile, writeFileAtomic } from './files.ts';
import type { RandomBytes } from './random.ts';

export async function saveClaimState(
  path: string,
  state: ClaimState,
  password: string,
  opts: { random: RandomBytes; scrypt?: ScryptParams },
): Promise<void> {
  await writeFileAtomic(path, await sealClaimState(state, password, opts));
}

/** The saved claim state, or undefined when there is none. */
export async function loadClaimState(
  path: string,
  password: string,
): Promise<ClaimState | undefined> {
  const text = await readBoundedFile(path, MAX_ENVELOPE_BYTES);
  if (text === undefined) return undefined;
  return openClaimState(text, password);
}
