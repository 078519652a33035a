/**
 * P6, "the vault holds the x2 for my Q2 under my policy", checked by the client alone:
 * 1. the vault's attestation document verifies (dev verifier pinned to the wallet's dev keys for
 *    local runs; the Nitro verifier with the wallet's PCRs in production), answers our fresh
 *    nonce, and its user_data binds exactly the cluster keys recorded in the wallet;
 * 2. the deposit receipt is signed by that cluster's receipt key and states the wallet's id,
 *    scheme, Q, Q1, Q2 and policy (the vault signs only after checking x2·G == Q2 and the scheme
 *    inside the enclave);
 * 3. the vault's wallet status agrees (same keys and policy, not released).
 */
import {
  type AttestationVerifier,
  bytesEqual,
  clusterKeysBinding,
  type DepositReceipt,
  DevAttestationVerifier,
  NitroAttestationVerifier,
  toHex,
  VaultError,
  verifyDepositReceipt,
} from '../vault/portable.ts';
import { ClientError } from './errors.ts';
import type { RandomBytes } from './random.ts';
import type { VaultClient, WalletStatus } from './vault-client.ts';
import type { AttestationTrust, ClusterKeys, Wallet } from './wallet.ts';

export interface BackupReport {
  attestationKind: string;
  /** True when the vault runs the INSECURE development attestation. */
  insecure: boolean;
  receipt: DepositReceipt;
  status: WalletStatus;
}

/**
 * The verifier for a wallet's attestation trust, on every platform: AWS Nitro with the wallet's
 * PCRs (COSE ES384 and the X.509 chain to the pinned AWS root, checked with our DER reader and
 * noble's P-384; a Node process that loads the vault's full face checks the chain with OpenSSL
 * instead, to the same answers: docs/enclave.md), or the INSECURE dev verifier pinned to the
 * wallet's dev keys.
 */
export function portableVerifierFor(trust: AttestationTrust): AttestationVerifier {
  if (trust.kind === 'aws-nitro') return new NitroAttestationVerifier({ expectedPcrs: trust.pcrs });
  return new DevAttestationVerifier({
    insecureDevAttestation: true,
    trustedKeys: trust.devKeys,
    warn: () => {},
  });
}

/** Checks the vault's attested document binds `cluster`; returns what kind of document it was. */
export async function verifyVaultAttestation(args: {
  vault: VaultClient;
  cluster: ClusterKeys;
  trust: AttestationTrust;
  random: RandomBytes;
  now?: Date;
  verifier?: AttestationVerifier;
}): Promise<{ kind: string; insecure: boolean }> {
  const nonce = args.random(32);
  const att = await args.vault.attestation(nonce);
  const verifier = args.verifier ?? portableVerifierFor(args.trust);
  let verified: Awaited<ReturnType<AttestationVerifier['verify']>>;
  try {
    verified = verifier.verify(att.document, {
      at: args.now ?? new Date(),
      maxAgeMs: 5 * 60_000,
      expectedNonce: nonce,
      expectedUserData: clusterKeysBinding(args.cluster),
    });
  } catch (err) {
    const why = err instanceof VaultError ? `${err.code}: ${err.message}` : String(err);
    throw new ClientError('ATTESTATION_INVALID', `vault attestation rejected: ${why}`, {
      cause: err,
    });
  }
  const stated = att.cluster;
  if (
    stated.clusterId !== toHex(args.cluster.clusterId) ||
    stated.clusterEncryptionKey !== toHex(args.cluster.clusterEncryptionKey) ||
    stated.receiptKey !== toHex(args.cluster.receiptKey)
  ) {
    throw new ClientError(
      'ATTESTATION_INVALID',
      'the vault states other cluster keys than those recorded in the wallet',
    );
  }
  return { kind: verified.kind, insecure: verified.insecure };
}

/** Throws BACKUP_INVALID (or ATTESTATION_INVALID) unless the backup is verifiably in place. */
export async function verifyBackup(args: {
  wallet: Wallet;
  vault: VaultClient;
  random: RandomBytes;
  now?: Date;
  verifier?: AttestationVerifier;
}): Promise<BackupReport> {
  const w = args.wallet;
  const att = await verifyVaultAttestation({
    vault: args.vault,
    cluster: w.cluster,
    trust: w.attestation,
    random: args.random,
    ...(args.now ? { now: args.now } : {}),
    ...(args.verifier ? { verifier: args.verifier } : {}),
  });
  const receipt = await args.vault.receipt(w.walletId);
  checkReceipt(w, receipt);
  const status = await args.vault.wallet(w.walletId);
  const agrees =
    status.walletId === toHex(w.walletId) &&
    status.scheme === w.scheme &&
    status.q === toHex(w.q) &&
    status.q1 === toHex(w.q1) &&
    status.q2 === toHex(w.q2) &&
    status.policy.group === w.policy.group &&
    status.policy.iterations === w.policy.iterations &&
    (status.policy.kind ?? 'strict') === (w.policy.kind ?? 'strict') &&
    (status.policy.delaySeconds ?? 0) === (w.policy.delaySeconds ?? 0) &&
    status.tenant === receipt.tenant;
  if (!agrees) {
    throw new ClientError('BACKUP_INVALID', "the vault's wallet status disagrees with the wallet");
  }
  return { attestationKind: att.kind, insecure: att.insecure, receipt, status };
}

/** The receipt is the cluster's signature over exactly this wallet's keys and policy. */
export function checkReceipt(w: Wallet, receipt: DepositReceipt): void {
  const ok = verifyDepositReceipt({
    clusterId: w.cluster.clusterId,
    receiptKey: w.cluster.receiptKey,
    receipt,
    expected: {
      walletId: w.walletId,
      scheme: w.scheme,
      q: w.q,
      q1: w.q1,
      q2: w.q2,
      policy: w.policy,
    },
  });
  if (!ok) {
    throw new ClientError(
      'BACKUP_INVALID',
      'the deposit receipt does not verify for this wallet (cluster key, Q, Q1, Q2 or policy differ)',
    );
  }
  if (!bytesEqual(receipt.walletId, w.walletId)) {
    throw new ClientError('BACKUP_INVALID', 'the receipt names another wallet');
  }
}
