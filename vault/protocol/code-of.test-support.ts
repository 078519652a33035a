import { VaultError } from '../errors.ts';

/** The VaultError code `f` throws, or NO_ERROR; any other throw fails the test. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof VaultError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}
