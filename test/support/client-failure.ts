/** The ClientError a client-lib call must fail with (anything else fails the test). */
import { ClientError } from '../../client-lib/index.ts';

export async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('expected a ClientError');
}
