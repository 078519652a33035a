/** `vigil wallet …`: address, sign, refresh, backup-status; create is in wallet-create.ts. */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Command } from 'commander';
import {
  refreshWallet,
  saveWallet,
  signEcdsa,
  signSchnorr,
  systemRandom,
  verifierFor,
  verifyBackup,
  walletAddresses,
} from '../../client-lib/index.ts';
import { CliExit } from '../exit.ts';
import {
  addWalletOptions,
  EXIT,
  exitFor,
  openWallet,
  openWalletOnline,
  type WalletFlags,
} from './user-options.ts';
import { registerWalletCreateCommand } from './wallet-create.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerWalletCommands(program: Command): void {
  const wallet = program
    .command('wallet')
    .description('a 2-of-2 wallet: create with a cosigner, addresses, signing, backup check');
  registerWalletCreateCommand(wallet);

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
      const { wallet: w, vault, nodes } = await openWalletOnline('vigil wallet backup-status', o);
      try {
        const r = await verifyBackup({
          wallet: w,
          vault,
          random: systemRandom,
          verifier: verifierFor(w.attestation),
        });
        const live = r.status.liveClaim;
        const recorded = nodes.added;
        if (o.json) {
          out(
            JSON.stringify({
              ok: true,
              recordedVaultUrls: recorded,
              refusedVaultUrls: nodes.refused,
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
        if (recorded.length > 0) {
          out(`recorded in the wallet file (each verified on its own): ${recorded.join(', ')}`);
        }
        if (nodes.refused.length > 0) {
          out(`not recorded (failed the backup check on its own): ${nodes.refused.join(', ')}`);
        }
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

  addWalletOptions(
    wallet
      .command('refresh')
      .description(
        'refresh the two-party ECDSA shares with the cosigner (same Q); the vault backup moves ' +
          'to the new share and the wallet file is rewritten in place',
      ),
    false,
  ).action(async (o: WalletFlags) => {
    const { wallet: w, password, scrypt } = await openWallet('vigil wallet refresh', o);
    try {
      // A wallet made with a smaller (test-size) setup verifies the proofs at that size.
      const nHat = w.cosigner?.ecdsa?.ringPedersen?.nHat;
      const bits = nHat ? nHat.toString(2).length : 2048;
      const next = await refreshWallet({
        wallet: w,
        random: systemRandom,
        ...(bits < 2048 ? { securityPolicy: { paillierBits: 2048, ringPedersenBits: bits } } : {}),
      });
      // The old deposit is gone now: write the new shares before anything else.
      await saveWallet(o.wallet, next, password, { random: systemRandom, scrypt });
      out(`refreshed: same public key ${Buffer.from(next.q).toString('hex')}; backup verified`);
    } catch (err) {
      exitFor('vigil wallet refresh', err);
    }
  });

  addWalletOptions(
    wallet
      .command('sign')
      .description(
        'sign with the cosigner: two-party ECDSA for ecdsa-2p wallets, BIP-340 (MuSig2) for musig2',
      ),
    false,
  )
    .option('--hash <hex>', 'the 32-byte message hash (ECDSA) or message (BIP-340) to sign')
    .option('--message <text>', 'sign SHA-256 of this UTF-8 text instead')
    .option('--json', 'print one JSON object')
    .action(async (o: WalletFlags & { hash?: string; message?: string; json?: boolean }) => {
      if ((o.hash === undefined) === (o.message === undefined)) {
        throw new CliExit(EXIT.usage, 'vigil wallet sign: give exactly one of --hash or --message');
      }
      if (o.hash !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.hash)) {
        throw new CliExit(EXIT.usage, 'vigil wallet sign: --hash must be 32 bytes of hex');
      }
      const digest =
        o.hash !== undefined
          ? new Uint8Array(Buffer.from(o.hash, 'hex'))
          : sha256(new TextEncoder().encode(o.message));
      const { wallet: w } = await openWallet('vigil wallet sign', o);
      try {
        if (w.scheme === 'musig2') {
          const sig = await signSchnorr({ wallet: w, message: digest, random: systemRandom });
          const hex = Buffer.from(sig).toString('hex');
          out(
            o.json
              ? JSON.stringify({
                  type: 'bip340',
                  hash: Buffer.from(digest).toString('hex'),
                  signature: hex,
                })
              : `BIP-340 signature: ${hex}`,
          );
        } else {
          const r = await signEcdsa({ wallet: w, messageHash: digest, random: systemRandom });
          const hex = Buffer.from(r.signature).toString('hex');
          out(
            o.json
              ? JSON.stringify({
                  type: 'ecdsa',
                  hash: Buffer.from(digest).toString('hex'),
                  signature: hex,
                  recovery: r.recovery,
                })
              : `ECDSA signature (r‖s): ${hex}\nrecovery id: ${r.recovery}`,
          );
        }
      } catch (err) {
        exitFor('vigil wallet sign', err);
      }
    });
}
