/**
 * Cosigner failures as ClientErrors that name the cosigner's URL and the cause, and — for a wallet
 * that already exists — remind the user that a cosigner that is gone is what `vigil recover` is
 * for: the vault holds a copy of the provider's share.
 */
import { CosignerHttpError } from '../cosigner/index.ts';
import { ClientError } from './errors.ts';
import { isNetworkFailure, networkCause } from './network-error.ts';

const RECOVER_HINT =
  'if the wallet provider is gone for good, `vigil recover --wallet <file>` gets the key back ' +
  'through the vault, without the cosigner';

/** Answers that mean this cosigner cannot serve the wallet: down behind a proxy, or forgot it. */
function meansGone(err: CosignerHttpError): boolean {
  return err.status >= 500 || err.code === 'COSIGNER_WALLET_NOT_FOUND';
}

export function cosignerFailure(
  err: unknown,
  what: string,
  url: string,
  opts: { walletExists: boolean },
): never {
  if (err instanceof ClientError) throw err;
  const hint = (gone: boolean) => (gone && opts.walletExists ? `; ${RECOVER_HINT}` : '');
  if (err instanceof CosignerHttpError) {
    throw new ClientError(
      'COSIGNER_ERROR',
      `cosigner at ${url}: ${what} failed: ${err.code}: ${err.message}${hint(meansGone(err))}`,
      { status: err.status, vaultCode: err.code, cause: err },
    );
  }
  if (isNetworkFailure(err)) {
    throw new ClientError(
      'COSIGNER_UNREACHABLE',
      `cannot reach the cosigner at ${url} (${networkCause(err)}) for ${what}${hint(true)}`,
      { cause: err },
    );
  }
  // The protocol itself failed (a proof that does not verify, a malformed answer): not a network
  // matter, so no hint; the message is the protocol's own.
  throw new ClientError(
    'COSIGNER_ERROR',
    `cosigner at ${url}: ${what} failed: ${(err as Error).message}`,
    { cause: err },
  );
}
