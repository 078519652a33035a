/**
 * Each user command that talks to the vault first refreshes the wallet's list of nodes from the
 * cluster's membership (client-lib/cluster-nodes.ts: a URL is recorded only once it passes the
 * whole backup check on its own, and none is ever removed) and rewrites the wallet file when the
 * list changed. A failure here never stops the command: it goes on with the nodes it has.
 */
import {
  type LearnedNodes,
  learnClusterNodes,
  type ScryptParams,
  saveWallet,
  systemRandom,
  VaultClient,
  type Wallet,
} from '../../client-lib/index.ts';

/** How long one node may take to say who the members are. */
const MEMBERSHIP_TIMEOUT_MS = 5_000;

export async function recordClusterNodes(args: {
  walletPath: string;
  wallet: Wallet;
  password: string;
  scrypt: ScryptParams;
  vault: VaultClient;
  /** URLs the user named (--vault, --stack). */
  given: string[];
}): Promise<LearnedNodes & { wallet: Wallet; saveError: string | null }> {
  const learned = await learnClusterNodes({
    wallet: args.wallet,
    // one quick pass over the nodes: a vault that is away is the command's to report, not this
    // step's, and an offline `recover` of a stored release must not wait on dead hosts
    vault: new VaultClient(args.vault.urls, {
      retryDelaysMs: [],
      requestTimeoutMs: MEMBERSHIP_TIMEOUT_MS,
    }),
    random: systemRandom,
    given: args.given,
  });
  if (learned.vaultUrls.join(' ') === args.wallet.vaultUrls.join(' ')) {
    return { ...learned, wallet: args.wallet, saveError: null };
  }
  const wallet = { ...args.wallet, vaultUrls: learned.vaultUrls };
  try {
    await saveWallet(args.walletPath, wallet, args.password, {
      random: systemRandom,
      scrypt: args.scrypt,
    });
    return { ...learned, wallet, saveError: null };
  } catch (err) {
    return { ...learned, wallet, saveError: err instanceof Error ? err.message : String(err) };
  }
}
