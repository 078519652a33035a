/** `vigil wallet …`: create (with a cosigner), address, sign, backup-status. */
import type { Command } from 'commander';
import { systemRandom, verifyBackup, walletAddresses } from '../../client-lib/index.ts';
import { CliExit } from '../exit.ts';
import { addWalletOptions, EXIT, exitFor, openWallet, type WalletFlags } from './recover.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerWalletCommands(program: Command): void {
  const wallet = program
    .command('wallet')
    .description('a 2-of-2 wallet: create with a cosigner, addresses, signing, backup check');

  addWalletOptions(
    wallet
      .command('backup-status')
      .description(
        "check the vault backup: the vault's attestation binds its cluster keys, the receipt is " +
          'signed by them for this wallet (Q, Q1, Q2, policy), and the vault status agrees',
      ),
  )
    .option('--json', 'print one JSON object')
    .action(async (o: WalletFlags & { json?: boolean }) => {
      const { wallet: w, vault } = await openWallet('vigil wallet backup-status', o);
      try {
        const r = await verifyBackup({ wallet: w, vault, random: systemRandom });
        const live = r.status.liveClaim;
        if (o.json) {
          out(
            JSON.stringify({
              ok: true,
              attestation: r.attestationKind,
              insecure: r.insecure,
              tenant: r.receipt.tenant,
              policy: r.receipt.policy,
              released: r.status.released,
              liveClaim: live ? Buffer.from(live.claimId).toString('hex') : null,
            }),
          );
          return;
        }
        out(
          `backup verified: the vault holds the share for Q2 ${Buffer.from(w.q2).toString('hex')}`,
        );
        out(
          `policy: ${r.receipt.policy.iterations} squarings (${r.receipt.policy.group}), tenant ${r.receipt.tenant}`,
        );
        out(
          r.insecure
            ? 'attestation: INSECURE development attestation (proves nothing about the node)'
            : `attestation: ${r.attestationKind}, measurements as pinned in the wallet`,
        );
        if (r.status.released) out('WARNING: the vault has already released this share');
        if (live)
          out(
            `WARNING: a claim is live on this wallet: ${Buffer.from(live.claimId).toString('hex')}`,
          );
      } catch (err) {
        exitFor('vigil wallet backup-status', err);
      }
    });

  addWalletOptions(
    wallet.command('address').description("the wallet's public key and addresses (offline)"),
    false,
  )
    .option('--json', 'print one JSON object')
    .action(async (o: WalletFlags & { json?: boolean }) => {
      const { wallet: w } = await openWallet('vigil wallet address', o);
      const a = walletAddresses(w.scheme, w.q);
      if (o.json) {
        out(JSON.stringify({ scheme: w.scheme, ...a }));
        return;
      }
      out(`scheme:            ${w.scheme}`);
      out(`public key (Q):    ${a.publicKey}`);
      out(`bitcoin:           ${a.bitcoin}`);
      out(`bitcoin testnet:   ${a.bitcoinTestnet}`);
      if (a.ethereum) out(`ethereum:          ${a.ethereum}`);
    });

  wallet
    .command('create')
    .description('create a wallet with a cosigner (two-party keygen, vault deposit, backup check)')
    .action(() => {
      throw new CliExit(EXIT.failed, 'vigil wallet create: not implemented yet');
    });

  wallet
    .command('sign')
    .description('sign a 32-byte message hash with the cosigner (ECDSA or Schnorr/MuSig2)')
    .action(() => {
      throw new CliExit(EXIT.failed, 'vigil wallet sign: not implemented yet');
    });
}
