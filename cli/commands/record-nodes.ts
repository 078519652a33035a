/**
 * A wallet keeps every vault node it has seen serve its cluster, so that a node that moves or
 * goes away does not cut it off. URLs a user points a command at (--vault, --stack) are added to
 * the wallet file only once each one, asked on its own, passes the whole backup check: attested
 * cluster keys, this wallet's receipt and status. A URL that fails is simply not recorded.
 */
import {
  type ScryptParams,
  saveWallet,
  systemRandom,
  VaultClient,
  verifyBackup,
  type Wallet,
} from '../../client-lib/index.ts';

export async function recordVerifiedNodes(args: {
  walletPath: string;
  wallet: Wallet;
  password: string;
  scrypt: ScryptParams;
  urls: string[];
}): Promise<string[]> {
  const verified: string[] = [];
  for (const url of args.urls) {
    try {
      await verifyBackup({
        wallet: args.wallet,
        vault: new VaultClient([url], { retryDelaysMs: [], trust: args.wallet.attestation }),
        random: systemRandom,
      });
      verified.push(url);
    } catch {
      // Not this one (down, or not this wallet's cluster): the wallet stays as it was for it.
    }
  }
  if (verified.length > 0) {
    const next = { ...args.wallet, vaultUrls: [...args.wallet.vaultUrls, ...verified] };
    await saveWallet(args.walletPath, next, args.password, {
      random: systemRandom,
      scrypt: args.scrypt,
    });
  }
  return verified;
}
