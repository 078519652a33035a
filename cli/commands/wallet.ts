/** `vigil wallet …`: create (with a cosigner), address, sign, backup-status. */
import { existsSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Command } from 'commander';
import {
  type AttestationTrust,
  createWallet,
  makeEcdsaSetup,
  readPassword,
  refreshWallet,
  saveWallet,
  signEcdsa,
  signSchnorr,
  systemRandom,
  verifyBackup,
  walletAddresses,
} from '../../client-lib/index.ts';
import {
  calibrateIterations,
  DEFAULT_ATTACKER_RATE,
  isGroupName,
  parseDelaySeconds,
} from '../../vdf/index.ts';
import { CliExit } from '../exit.ts';
import { addWalletOptions, EXIT, exitFor, openWallet, type WalletFlags } from './recover.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface CreateFlags {
  cosigner: string;
  out: string;
  scheme: string;
  group: string;
  iterations?: string;
  delay?: string;
  vault?: string[];
  devAttestationKey?: string[];
  pcr?: string[];
  ringPedersenBits: string;
  scryptLogN: string;
  passwordFile?: string;
  json?: boolean;
}

function trustFrom(o: CreateFlags, usage: (m: string) => CliExit): AttestationTrust {
  const dev = o.devAttestationKey ?? [];
  const pcrs = o.pcr ?? [];
  if (dev.length > 0 && pcrs.length > 0)
    throw usage('give --dev-attestation-key or --pcr, not both');
  if (dev.length > 0) {
    if (dev.some((k) => !/^[0-9a-f]{64}$/.test(k)))
      throw usage('--dev-attestation-key is 32 bytes of lowercase hex');
    process.stderr.write(
      'WARNING: trusting INSECURE development attestation; never use with real funds\n',
    );
    return { kind: 'insecure-dev', devKeys: dev.map((k) => new Uint8Array(Buffer.from(k, 'hex'))) };
  }
  if (pcrs.length === 0)
    throw usage('say which vault to trust: --pcr index=hex (Nitro) or --dev-attestation-key');
  const out: Record<number, Uint8Array> = {};
  for (const p of pcrs) {
    const m = /^(\d{1,2})=([0-9a-f]{96})$/.exec(p);
    if (!m) throw usage('--pcr must be index=<96 lowercase hex digits>');
    out[Number(m[1])] = new Uint8Array(Buffer.from(m[2] as string, 'hex'));
  }
  return { kind: 'aws-nitro', pcrs: out };
}

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
    .description(
      'create a wallet with a cosigner: two-party keygen, the cosigner deposits its share in the ' +
        'vault, and this device checks the backup against its own attestation pin',
    )
    .requiredOption('--cosigner <url>', "the wallet provider's cosigner URL")
    .requiredOption('--out <file>', 'where to write the encrypted wallet file (must not exist)')
    .option(
      '--scheme <scheme>',
      'ecdsa-2p (two-party ECDSA) or musig2 (BIP-340/Taproot)',
      'ecdsa-2p',
    )
    .option('--group <group>', 'VDF group of the time lock: rsa2048 or class1024', 'rsa2048')
    .option('--iterations <T>', 'time lock in squarings')
    .option('--delay <d>', 'time lock as a delay for the fastest known attacker, e.g. 30d')
    .option(
      '--vault <url>',
      'vault URL to record and verify against (repeatable; default: the one the cosigner uses)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--dev-attestation-key <hex>',
      'INSECURE: trust vault dev attestations signed by this Ed25519 key (local runs; repeatable)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--pcr <index=hex>',
      'trust AWS Nitro attestations with this PCR value (repeatable, e.g. 0=<96 hex>)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--ring-pedersen-bits <n>',
      'ECDSA setup modulus size (the cosigner sets the minimum)',
      '2048',
    )
    .option(
      '--password-file <file>',
      'read the new password from this file (else VIGIL_WALLET_PASSWORD or a prompt)',
    )
    .option(
      '--scrypt-log-n <n>',
      'password hardening: scrypt memory 2^n·1 KiB (10..20; default 17 = 128 MiB)',
      '17',
    )
    .option('--json', 'print one JSON object')
    .action(async (o: CreateFlags) => {
      const usage = (m: string) => new CliExit(EXIT.usage, `vigil wallet create: ${m}`);
      if (o.scheme !== 'ecdsa-2p' && o.scheme !== 'musig2')
        throw usage('--scheme is ecdsa-2p or musig2');
      if (!isGroupName(o.group)) throw usage('--group is rsa2048 or class1024');
      let iterations: number;
      if (o.iterations !== undefined) {
        if (!/^\d+$/.test(o.iterations) || Number(o.iterations) < 1)
          throw usage('--iterations must be a positive integer');
        iterations = Number(o.iterations);
      } else if (o.delay !== undefined) {
        const seconds = parseDelaySeconds(o.delay);
        if (seconds === undefined) throw usage('--delay must look like 90s, 12h, 30d or 2w');
        iterations = calibrateIterations(seconds, DEFAULT_ATTACKER_RATE[o.group], 2);
      } else throw usage('give --iterations or --delay');
      const attestation = trustFrom(o, usage);
      const bits = Number(o.ringPedersenBits);
      if (!Number.isInteger(bits) || bits < 512 || bits % 2 !== 0)
        throw usage('--ring-pedersen-bits');
      const logN = Number(o.scryptLogN);
      if (!Number.isInteger(logN) || logN < 10 || logN > 20)
        throw usage('--scrypt-log-n is 10..20');
      if (existsSync(o.out)) throw usage(`${o.out} exists; refusing to overwrite a wallet`);
      try {
        const password = await readPassword({
          ...(o.passwordFile ? { passwordFile: o.passwordFile } : {}),
          confirm: true,
          prompt: 'New wallet password: ',
        });
        const w = await createWallet({
          cosignerUrl: o.cosigner,
          kind: o.scheme,
          policy: { group: o.group, iterations },
          attestation,
          random: systemRandom,
          // Made only after the cosigner accepted the registration and the policy: a cosigner
          // that is down or refuses the policy is known before the safe primes.
          ...(o.scheme === 'ecdsa-2p'
            ? {
                setup: () => {
                  process.stderr.write(
                    `the cosigner accepted the policy; generating this device's ${bits}-bit ` +
                      'ECDSA setup (safe primes, up to a minute)…\n',
                  );
                  return makeEcdsaSetup(bits, systemRandom);
                },
              }
            : {}),
          ...(bits < 2048
            ? { securityPolicy: { paillierBits: 2048, ringPedersenBits: bits } }
            : {}),
          ...(o.vault?.length ? { vaultUrls: o.vault } : {}),
        });
        await saveWallet(o.out, w, password, {
          random: systemRandom,
          scrypt: { n: 2 ** logN, r: 8, p: 1 },
        });
        const a = walletAddresses(w.scheme, w.q);
        if (o.json) {
          out(JSON.stringify({ wallet: o.out, scheme: w.scheme, iterations, ...a }));
          return;
        }
        out(`wallet written to ${o.out} (encrypted; keep a copy and the password)`);
        out(`backup verified at ${w.vaultUrls.join(', ')}: ${iterations} squarings (${o.group})`);
        out(`public key: ${a.publicKey}`);
        out(`bitcoin:    ${a.bitcoin}`);
        if (a.ethereum) out(`ethereum:   ${a.ethereum}`);
      } catch (err) {
        exitFor('vigil wallet create', err);
      }
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
