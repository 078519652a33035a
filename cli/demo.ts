/**
 * `vigil demo`: DESIGN.md §1 played against the local stack, step by step. Create a wallet with the
 * cosigner (the provider deposits its share in the vault), check the backup, sign, watch a ping
 * cancel a claim, stop the cosigner (the provider vanishes), recover the key through the time
 * lock, and sign a transaction with it that OpenSSL verifies. Every step must succeed.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import {
  beginClaim,
  checkKeyIndependently,
  createWallet,
  makeEcdsaSetup,
  recoverWallet,
  signEcdsa,
  systemRandom,
  VaultClient,
  verifyBackup,
  type Wallet,
  walletAddresses,
} from '../client-lib/index.ts';
import { formatDuration, progressBar } from './progress.ts';
import { isProcessAlive } from './signals.ts';
import type { StackInfo } from './stack.ts';

export interface DemoOptions {
  stack: StackInfo;
  /** The demo's own cosigner: step 5 stops it. */
  provider: { url: string; pid: number };
  iterations: number;
  say: (line: string) => void;
}

/** An SPKI DER for a compressed secp256k1 point, so OpenSSL can check signatures against Q. */
function spkiOf(q: Uint8Array): Buffer {
  const point = secp256k1.Point.fromBytes(q).toBytes(false);
  const prefix = Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex');
  return Buffer.concat([prefix, point]);
}

function opensslVerifies(q: Uint8Array, message: Buffer, derSignature: Uint8Array): boolean {
  const key = createPublicKey({ key: spkiOf(q), format: 'der', type: 'spki' });
  return verify('sha256', message, key, derSignature);
}

async function waitFor<T>(
  what: string,
  seconds: number,
  poll: () => Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await poll();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const { stack, say } = o;
  const work = await mkdtemp(join(tmpdir(), 'vigil-demo-'));
  const password = 'demo password: never use for real funds';
  const vault = new VaultClient(stack.vaultUrls);
  const step = (n: number, text: string) => say(`\n[${n}/7] ${text}`);
  try {
    step(1, 'Create a 2-of-2 wallet with the cosigner (two-party ECDSA keygen)');
    say(`      time lock: rsa2048, ${o.iterations.toLocaleString('en-US')} squarings`);
    const setup = makeEcdsaSetup(2048, systemRandom);
    const newWallet = () =>
      createWallet({
        cosignerUrl: o.provider.url,
        kind: 'ecdsa-2p',
        policy: { group: 'rsa2048', iterations: o.iterations },
        attestation: {
          kind: 'insecure-dev',
          devKeys: [Buffer.from(stack.devAttestationKey, 'hex')],
        },
        random: systemRandom,
        setup,
        vaultUrls: stack.vaultUrls,
      });
    const wallet: Wallet = await newWallet();
    const addresses = walletAddresses(wallet.scheme, wallet.q);
    say(`      joint public key Q  ${hex(wallet.q)}`);
    say(`      Ethereum address    ${addresses.ethereum}`);

    step(2, 'Check the backup: the vault holds x2 for this Q2 under this policy (P6)');
    const backup = await verifyBackup({ wallet, vault, random: systemRandom });
    say(
      `      receipt signed by the cluster at log index ${backup.receipt.logIndex}; attestation ${backup.attestationKind} (INSECURE dev mode)`,
    );

    step(3, 'Sign with the cosigner; OpenSSL verifies the signature against Q');
    const message = Buffer.from('pay 1 coin to bob');
    const digest = createHash('sha256').update(message).digest();
    const sig = await signEcdsa({ wallet, messageHash: digest, random: systemRandom });
    const der = secp256k1.Signature.fromBytes(sig.signature, 'compact').toBytes('der');
    if (!opensslVerifies(wallet.q, message, der))
      throw new Error('OpenSSL rejected the 2P-ECDSA signature');
    say('      two-party signature verified by OpenSSL');

    step(4, 'Proof of life: while the provider pings, a claim is cancelled by its next ping (P2)');
    // The vault rate-limits claims per wallet, so this one is tried on a second wallet.
    const files = (name: string) => ({
      claimStatePath: join(work, `${name}.claim`),
      checkpointDir: join(work, `${name}.vdf`),
      password,
      scrypt: { n: 2 ** 12, r: 8, p: 1 },
    });
    const second = await newWallet();
    say(`      a second wallet of the same user: Q ${hex(second.q).slice(0, 16)}…`);
    const early = (
      await beginClaim({ wallet: second, vault, files: files('second'), random: systemRandom })
    ).claim;
    if (!early) throw new Error('the vault did not commit the claim');
    say(`      claim ${hex(early.claimId).slice(0, 16)}… is live`);
    await waitFor('the ping cancelling the claim', 30, async () => {
      const c = await vault.getClaim(early.claimId);
      return c.status === 'cancelled' ? c : undefined;
    });
    say('      the cosigner pinged: the claim is cancelled');

    const { pid } = o.provider;
    step(5, `The provider vanishes: stopping the demo's cosigner (pid ${pid})`);
    if (isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
    await waitFor('the cosigner to stop', 30, async () => (isProcessAlive(pid) ? undefined : true));
    say('      the cosigner is gone; no more pings');

    step(6, 'Recover: claim, solve the time lock, submit, open x2, rebuild the key');
    const bar = progressBar(process.stderr, '      solving ');
    const recovered = await recoverWallet({
      wallet,
      vault,
      files: files('wallet'),
      random: systemRandom,
      watchIntervalMs: 2_000,
      onEvent: (e) => {
        if (e.type === 'claim-committed')
          say(`      claim ${hex(e.claim.claimId).slice(0, 16)}… committed`);
        if (e.type === 'solve-progress') {
          const p = e.progress;
          bar.update(
            p.done,
            p.total,
            `${p.phase} ${Math.round(p.rate)}/s eta ${formatDuration(p.etaSeconds)}`,
          );
        }
        if (e.type === 'solved') bar.finish('      solved; submitting');
        if (e.type === 'released')
          say('      x2 released, sealed to this claim; x2·G == Q2 checked');
      },
    });
    say(`      private key (WIF)   ${recovered.exported.wif}   (a throwaway demo key)`);
    say(`      Ethereum address    ${recovered.exported.ethereumAddress}`);

    step(7, 'Sign a transaction with the recovered key alone; independent code verifies it');
    checkKeyIndependently(recovered.secretKey, wallet.q);
    const tx = Buffer.from(JSON.stringify({ to: 'bob', amount: '1.0', nonce: 1 }));
    const txSig = secp256k1.sign(createHash('sha256').update(tx).digest(), recovered.secretKey, {
      prehash: false,
      format: 'der',
    });
    if (!opensslVerifies(wallet.q, tx, txSig))
      throw new Error('OpenSSL rejected the recovered key');
    say('      OpenSSL verifies the transaction signature against the original Q');
    say('\nThe whole story worked: the provider vanished and the user walked away with the key.');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
