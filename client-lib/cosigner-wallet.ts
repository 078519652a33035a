/**
 * Living with the provider: create a wallet with its cosigner (two-party keygen; the cosigner
 * deposits x2 in the vault before answering), check the backup independently, and sign (two-party
 * ECDSA, or MuSig2 for BIP-340/Taproot). The wallet file keeps x1 and everything recovery needs.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import {
  type ClientKeyShare,
  type ClientSetup,
  CosignerClient,
  generateSafePrime,
  makeClientSetup,
  ringPedersenFromPrimes,
  type SecurityPolicy,
  signatureToCompact,
  type WalletPolicy,
} from '../cosigner/index.ts';
import {
  bytesToBigInt,
  decodeScalar,
  Point,
  parseDepositReceipt,
  parseHex,
  scalarToBytes,
} from '../vault/index.ts';
import { verifyBackup } from './backup.ts';
import { cosignerFailure } from './cosigner-errors.ts';
import { ClientError } from './errors.ts';
import { vaultFetchFor, verifierFor } from './nitro-trust.ts';
import type { RandomBytes } from './random.ts';
import { timedFetch } from './timed-fetch.ts';
import { VaultClient } from './vault-client.ts';
import type { AttestationTrust, EcdsaShareData, Wallet } from './wallet.ts';

/**
 * One cosigner request's deadline: generous, since a keygen may wait for the provider to make a
 * Paillier key, but finite, so a cosigner that hangs is reported (as unreachable, with the hint
 * to `vigil recover`) instead of leaving the user waiting forever.
 */
export const COSIGNER_TIMEOUT_MS = 120_000;

function shareData(share: ClientKeyShare, setup: ClientSetup): EcdsaShareData {
  const rp = setup.rp;
  return {
    chainCode: share.chainCode,
    paillierN: share.paillierN,
    ckey: share.ckey,
    ringPedersen: { nHat: rp.nHat, s: rp.s, t: rp.t, phi: rp.phi, lambda: rp.lambda },
  };
}

function clientShare(w: Wallet, ecdsa: EcdsaShareData): ClientKeyShare {
  return {
    xClient: bytesToBigInt(w.x1),
    qClient: Point.fromBytes(w.q1),
    qServer: Point.fromBytes(w.q2),
    q: Point.fromBytes(w.q),
    chainCode: ecdsa.chainCode,
    paillierN: ecdsa.paillierN,
    ckey: ecdsa.ckey,
  };
}

function secretScalar(random: RandomBytes): Uint8Array {
  for (;;) {
    const k = random(32);
    try {
      decodeScalar('key', k);
      return k;
    } catch {}
  }
}

/**
 * The client's ring-Pedersen parameters for two-party ECDSA keygen (two safe primes of
 * bits/2 each). At the default 2048 bits this takes a while: generate once per device.
 */
export function makeEcdsaSetup(bits: number, random: RandomBytes): ClientSetup {
  const p = generateSafePrime(bits / 2);
  let q = generateSafePrime(bits / 2);
  while (q === p) q = generateSafePrime(bits / 2);
  return makeClientSetup(ringPedersenFromPrimes(p, q, random), random);
}

export async function createWallet(args: {
  cosignerUrl: string;
  kind: 'ecdsa-2p' | 'musig2';
  policy: WalletPolicy;
  /** Which vault attestation to trust: pinned dev keys (local) or Nitro PCRs (production). */
  attestation: AttestationTrust;
  random: RandomBytes;
  /**
   * ECDSA only: the client's ring-Pedersen setup (makeEcdsaSetup), or a function that makes it:
   * called only once the cosigner has accepted the registration and the policy, so a cosigner
   * that is down or a policy it refuses is known before tens of seconds of safe primes.
   */
  setup?: ClientSetup | (() => ClientSetup);
  securityPolicy?: SecurityPolicy;
  /** Vault URLs to record and verify against (default: the one the cosigner reports). */
  vaultUrls?: string[];
  /** How long one cosigner request may take (default COSIGNER_TIMEOUT_MS). */
  cosignerTimeoutMs?: number;
}): Promise<Wallet> {
  const authKey = secretScalar(args.random);
  let client: CosignerClient;
  try {
    client = await CosignerClient.register({
      baseUrl: args.cosignerUrl,
      fetch: timedFetch(fetch, args.cosignerTimeoutMs ?? COSIGNER_TIMEOUT_MS),
      authSecretKey: authKey,
      scheme: args.kind,
      policy: args.policy,
      rng: args.random,
      ...(args.securityPolicy ? { securityPolicy: args.securityPolicy } : {}),
    });
  } catch (err) {
    cosignerFailure(err, 'registration', args.cosignerUrl, { walletExists: false });
  }
  let x1: Uint8Array;
  let key: Awaited<ReturnType<CosignerClient['keygenMusig']>>['key'];
  let ecdsa: EcdsaShareData | null = null;
  try {
    if (args.kind === 'ecdsa-2p') {
      if (!args.setup) throw new ClientError('NOT_IMPLEMENTED', 'ECDSA keygen needs a setup');
      const setup = typeof args.setup === 'function' ? args.setup() : args.setup;
      const kg = await client.keygen(setup);
      x1 = scalarToBytes(kg.share.xClient);
      key = kg.key;
      ecdsa = shareData(kg.share, setup);
    } else {
      const kg = await client.keygenMusig();
      x1 = kg.secretKey;
      key = kg.key;
    }
  } catch (err) {
    cosignerFailure(err, 'keygen', client.baseUrl, { walletExists: false });
  }
  let receipt: Wallet['receipt'];
  let wallet: Wallet;
  try {
    receipt = parseDepositReceipt(key.vault.receipt);
    const c = key.vault.cluster;
    wallet = {
      walletId: parseHex('vaultWalletId', key.vault.vaultWalletId, 32),
      scheme: args.kind === 'ecdsa-2p' ? 'additive' : 'musig2',
      x1,
      q: parseHex('q', key.q, 33),
      q1: parseHex('q1', key.q1, 33),
      q2: parseHex('q2', key.q2, 33),
      policy: { ...args.policy },
      vaultUrls: args.vaultUrls ?? [key.vault.vaultUrl],
      cluster: {
        clusterId: parseHex('clusterId', c.clusterId, 32),
        clusterEncryptionKey: parseHex('clusterEncryptionKey', c.clusterEncryptionKey, 32),
        receiptKey: parseHex('receiptKey', c.receiptKey, 32),
      },
      attestation: args.attestation,
      receipt,
      cosigner: {
        url: client.baseUrl,
        walletId: client.walletId,
        authKey,
        kind: args.kind,
        ecdsa,
      },
    };
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError('VAULT_RESPONSE', `cosigner key state: ${(err as Error).message}`);
  }
  if (!Point.BASE.multiply(bytesToBigInt(x1)).equals(Point.fromBytes(wallet.q1))) {
    throw new ClientError(
      'KEY_MISMATCH',
      'the cosigner recorded another Q1 than this device holds',
    );
  }
  // P6 with the client's own trust anchor: the cluster keys the cosigner reported must be the
  // ones the vault attests to, and the receipt must be theirs for exactly our Q, Q1, Q2, policy.
  await verifyBackup({
    wallet,
    vault: new VaultClient(wallet.vaultUrls, { fetch: vaultFetchFor(wallet.attestation) }),
    random: args.random,
    verifier: verifierFor(wallet.attestation),
  });
  return wallet;
}

function clientFor(w: Wallet, random: RandomBytes, securityPolicy?: SecurityPolicy) {
  if (!w.cosigner) {
    throw new ClientError('NOT_IMPLEMENTED', 'this wallet has no cosigner to sign with');
  }
  return new CosignerClient({
    baseUrl: w.cosigner.url,
    fetch: timedFetch(fetch, COSIGNER_TIMEOUT_MS),
    walletId: w.cosigner.walletId,
    authSecretKey: w.cosigner.authKey,
    rng: random,
    ...(securityPolicy ? { policy: securityPolicy } : {}),
  });
}

/** Two-party ECDSA over a 32-byte hash; the signature is verified against Q before returning. */
export async function signEcdsa(args: {
  wallet: Wallet;
  messageHash: Uint8Array;
  random: RandomBytes;
}): Promise<{ signature: Uint8Array; recovery: 0 | 1 }> {
  const w = args.wallet;
  if (w.cosigner?.kind !== 'ecdsa-2p' || !w.cosigner.ecdsa) {
    throw new ClientError('NOT_IMPLEMENTED', 'ECDSA signing needs a two-party ECDSA wallet');
  }
  if (args.messageHash.length !== 32) {
    throw new ClientError('KEY_MISMATCH', 'the message hash must be 32 bytes');
  }
  const share = clientShare(w, w.cosigner.ecdsa);
  let sig: Awaited<ReturnType<CosignerClient['signEcdsa']>>;
  try {
    sig = await clientFor(w, args.random).signEcdsa({ share, messageHash: args.messageHash });
  } catch (err) {
    cosignerFailure(err, 'ECDSA signing', w.cosigner.url, { walletExists: true });
  }
  const signature = signatureToCompact(sig);
  if (!secp256k1.verify(signature, args.messageHash, w.q, { prehash: false })) {
    throw new ClientError('KEY_MISMATCH', 'the joint signature does not verify under Q');
  }
  return { signature, recovery: sig.recovery };
}

/** MuSig2 (BIP-327) signature over a 32-byte message, verified under Q's x-only key. */
export async function signSchnorr(args: {
  wallet: Wallet;
  message: Uint8Array;
  random: RandomBytes;
}): Promise<Uint8Array> {
  const w = args.wallet;
  if (w.cosigner?.kind !== 'musig2') {
    throw new ClientError('NOT_IMPLEMENTED', 'Schnorr signing needs a MuSig2 wallet');
  }
  const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  let sig: Uint8Array;
  try {
    sig = await clientFor(w, args.random).signMusig({
      secretKey: w.x1,
      key: { q1: toHex(w.q1), q2: toHex(w.q2) },
      message: args.message,
    });
  } catch (err) {
    cosignerFailure(err, 'MuSig2 signing', w.cosigner.url, { walletExists: true });
  }
  if (!schnorr.verify(sig, args.message, w.q.subarray(1))) {
    throw new ClientError('KEY_MISMATCH', 'the MuSig2 signature does not verify under Q');
  }
  return sig;
}

/**
 * Two-party ECDSA key refresh: new shares for the same Q; the cosigner deposits the new x2 under a
 * new vault wallet id and deletes the old deposit. Returns the updated wallet, backup verified.
 * SAVE IT AT ONCE: the old wallet file can no longer recover (its deposit is gone) nor sign.
 */
export async function refreshWallet(args: {
  wallet: Wallet;
  random: RandomBytes;
  securityPolicy?: SecurityPolicy;
}): Promise<Wallet> {
  const w = args.wallet;
  const ecdsa = w.cosigner?.ecdsa;
  if (w.cosigner?.kind !== 'ecdsa-2p' || !ecdsa) {
    throw new ClientError('NOT_IMPLEMENTED', 'key refresh is for two-party ECDSA wallets');
  }
  if (!ecdsa.ringPedersen) {
    throw new ClientError('NOT_IMPLEMENTED', 'this wallet file does not keep its ECDSA setup');
  }
  const setup = makeClientSetup(ecdsa.ringPedersen, args.random);
  let r: Awaited<ReturnType<CosignerClient['refresh']>>;
  try {
    r = await clientFor(w, args.random, args.securityPolicy).refresh({
      share: clientShare(w, ecdsa),
      setup,
    });
  } catch (err) {
    cosignerFailure(err, 'refresh', w.cosigner.url, { walletExists: true });
  }
  const key = r.key;
  const c = key.vault.cluster;
  const next: Wallet = {
    ...w,
    walletId: parseHex('vaultWalletId', key.vault.vaultWalletId, 32),
    x1: scalarToBytes(r.share.xClient),
    q: parseHex('q', key.q, 33),
    q1: parseHex('q1', key.q1, 33),
    q2: parseHex('q2', key.q2, 33),
    cluster: {
      clusterId: parseHex('clusterId', c.clusterId, 32),
      clusterEncryptionKey: parseHex('clusterEncryptionKey', c.clusterEncryptionKey, 32),
      receiptKey: parseHex('receiptKey', c.receiptKey, 32),
    },
    receipt: parseDepositReceipt(key.vault.receipt),
    cosigner: { ...w.cosigner, ecdsa: shareData(r.share, setup) },
  };
  if (!Point.fromBytes(next.q).equals(Point.fromBytes(w.q))) {
    throw new ClientError('KEY_MISMATCH', 'the refresh changed the wallet key Q');
  }
  await verifyBackup({
    wallet: next,
    vault: new VaultClient(next.vaultUrls, { fetch: vaultFetchFor(next.attestation) }),
    random: args.random,
    verifier: verifierFor(next.attestation),
  });
  return next;
}
