/** The wallet file on disk (Node): the sealed wallet (wallet.ts), written atomically. */
import { MAX_ENVELOPE_BYTES, type ScryptParams } from './envelope.ts';
import { ClientError } from './errors.ts';
import { readBoundedFile, writeFileAtomic } from './files.ts';
import type { RandomBytes } from './random.ts';
import { openWallet, sealWallet, type Wallet } from './wallet.ts';

export async function saveWallet(
  path: string,
  wallet: Wallet,
  password: string,
  opts: { random: RandomBytes; scrypt?: ScryptParams },
): Promise<void> {
  await writeFileAtomic(path, await sealWallet(wallet, password, opts));
}

export async function loadWallet(path: string, password: string): Promise<Wallet> {
  const text = await readBoundedFile(path, MAX_ENVELOPE_BYTES);
  if (text === undefined) throw new ClientError('WALLET_IO', `no wallet file at ${path}`);
  return openWallet(text, password);
}
