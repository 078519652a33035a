/** A claim sent "in an earlier run": its state saved beside a wallet file, as `vigil recover` keeps it. */
import {
  beginClaim,
  type ClaimState,
  systemRandom,
  VaultClient,
  type Wallet,
} from '../../client-lib/index.ts';

export function claimBeside(
  walletPath: string,
  wallet: Wallet,
  vaultUrl: string,
  password: string,
): Promise<ClaimState> {
  return beginClaim({
    wallet,
    vault: new VaultClient([vaultUrl]),
    files: {
      claimStatePath: `${walletPath}.claim`,
      checkpointDir: `${walletPath}.vdf`,
      password,
      scrypt: { n: 2 ** 10, r: 8, p: 1 },
    },
    random: systemRandom,
  });
}
