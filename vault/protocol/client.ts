import { VaultError } from '../errors.ts';
import { decodeScalar, encodePoint, Point } from './curve.ts';
import { bytesEqual } from './hex.ts';
import { open, seal } from './hpke.ts';
import {
  type Claim,
  type Deletion,
  type Deposit,
  type DepositReceipt,
  deletionBytes,
  depositAad,
  depositBytes,
  depositReceiptBytes,
  type Ping,
  pingBytes,
  policyKind,
  type Release,
  releaseAad,
  type TenantRegistration,
  tenantRegistrationBytes,
} from './messages.ts';
import { proveClaim } from './pok.ts';
import { proveShareProduct } from './share-proof.ts';
import { signMessage, verifyMessage } from './signatures.ts';

/**
 * The other side of the protocol: what an operator, a cosigner and a claimant do to build
 * messages the vault accepts, and to check what it returns. Randomness is always an argument.
 */
export function signTenantRegistration(
  clusterId: Uint8Array,
  r: Omit<TenantRegistration, 'signature'>,
  operatorSecretKey: Uint8Array,
  aux: Uint8Array,
): TenantRegistration {
  const signature = signMessage(tenantRegistrationBytes(clusterId, r), operatorSecretKey, aux);
  return { ...r, signature };
}

export function makeDeposit(args: {
  clusterId: Uint8Array;
  /** The cluster's X25519 encryption key, from its attested key set. */
  clusterKey: Uint8Array;
  deposit: Omit<Deposit, 'signature' | 'share' | 'shareProof'>;
  x2: Uint8Array;
  tenantSecretKey: Uint8Array;
  /** 32 fresh random bytes for the sealing key, and 32 for the signature. */
  senderSecret: Uint8Array;
  aux: Uint8Array;
}): Deposit {
  decodeScalar('x2', args.x2);
  const share = seal({
    purpose: 'deposit',
    recipientPublicKey: args.clusterKey,
    senderSecret: args.senderSecret,
    aad: depositAad(args.clusterId, args.deposit),
    plaintext: args.x2,
  });
  const d = args.deposit;
  const shareProof =
    d.scheme === 'ecdsa-2p-mult'
      ? proveShareProduct({ clusterId: args.clusterId, ...d }, args.x2, args.aux)
      : new Uint8Array();
  const unsigned = { ...d, share, shareProof };
  const signature = signMessage(
    depositBytes(args.clusterId, unsigned),
    args.tenantSecretKey,
    args.aux,
  );
  return { ...unsigned, signature };
}

export function signDeletion(
  clusterId: Uint8Array,
  d: Omit<Deletion, 'signature'>,
  tenantSecretKey: Uint8Array,
  aux: Uint8Array,
): Deletion {
  return { ...d, signature: signMessage(deletionBytes(clusterId, d), tenantSecretKey, aux) };
}

export function signPing(
  clusterId: Uint8Array,
  p: Omit<Ping, 'signature'>,
  pingSecretKey: Uint8Array,
  aux: Uint8Array,
): Ping {
  return { ...p, signature: signMessage(pingBytes(clusterId, p), pingSecretKey, aux) };
}

export function makeClaim(args: {
  clusterId: Uint8Array;
  walletId: Uint8Array;
  ephemeralKey: Uint8Array;
  claimNonce: Uint8Array;
  x1: Uint8Array;
  q1: Uint8Array;
  aux: Uint8Array;
}): Claim {
  const binding = {
    clusterId: args.clusterId,
    walletId: args.walletId,
    ephemeralKey: args.ephemeralKey,
    claimNonce: args.claimNonce,
  };
  const proof = proveClaim({ x1: args.x1, q1: args.q1, binding, aux: args.aux });
  return {
    walletId: args.walletId,
    ephemeralKey: args.ephemeralKey,
    claimNonce: args.claimNonce,
    proof,
  };
}

/**
 * P6: true only if the receipt is signed by the cluster receipt key and states exactly the
 * wallet, keys and policy the client chose. The vault signs a receipt only after checking
 * x2·G == Q2 and the scheme's combination inside the enclave.
 */
export function verifyDepositReceipt(args: {
  clusterId: Uint8Array;
  receiptKey: Uint8Array;
  receipt: DepositReceipt;
  expected: Pick<DepositReceipt, 'walletId' | 'scheme' | 'q' | 'q1' | 'q2' | 'policy'>;
}): boolean {
  const r = args.receipt;
  const e = args.expected;
  const matches =
    bytesEqual(r.walletId, e.walletId) &&
    r.scheme === e.scheme &&
    bytesEqual(r.q, e.q) &&
    bytesEqual(r.q1, e.q1) &&
    bytesEqual(r.q2, e.q2) &&
    r.policy.group === e.policy.group &&
    r.policy.iterations === e.policy.iterations &&
    policyKind(r.policy) === policyKind(e.policy) &&
    (r.policy.delaySeconds ?? 0) === (e.policy.delaySeconds ?? 0);
  if (!matches) return false;
  const { signature, ...unsigned } = r;
  return verifyMessage(signature, depositReceiptBytes(args.clusterId, unsigned), args.receiptKey);
}

/** Opens a release and checks x2·G == Q2 before returning x2 (32 bytes). */
export function openRelease(args: {
  clusterId: Uint8Array;
  release: Release;
  seed: Uint8Array;
  ephemeralSecretKey: Uint8Array;
  ephemeralKey: Uint8Array;
  q2: Uint8Array;
}): Uint8Array {
  const aad = releaseAad({
    clusterId: args.clusterId,
    walletId: args.release.walletId,
    claimId: args.release.claimId,
    seed: args.seed,
    ephemeralKey: args.ephemeralKey,
    q2: args.q2,
  });
  const x2 = open({
    purpose: 'release',
    recipientSecretKey: args.ephemeralSecretKey,
    enc: args.release.share.enc,
    aad,
    ciphertext: args.release.share.ciphertext,
  });
  const s = decodeScalar('x2', x2);
  if (!bytesEqual(encodePoint(Point.BASE.multiply(s)), args.q2)) {
    throw new VaultError('SHARE_MISMATCH', 'released share does not match Q2');
  }
  return x2;
}
