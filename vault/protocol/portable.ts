/**
 * The vault wire protocol's portable part (docs/protocol.md): everything a client needs, in plain
 * JavaScript over noble (primitives.ts), with no Node or server code, so that the client SDK can
 * run it in browsers and React Native (docs/sdk.md). `index.ts` is the protocol's full face.
 */

export { canonical, canonicalHash, list, u32, u64, utf8 } from './canonical.ts';
export { challengeSeed, claimIdFor } from './challenge.ts';
export {
  makeClaim,
  makeDeposit,
  openRelease,
  signDeletion,
  signPing,
  signTenantRegistration,
  verifyDepositReceipt,
} from './client.ts';
export { type ClusterKeys, clusterKeysBinding } from './cluster-keys.ts';
export {
  bytesToBigInt,
  CURVE_ORDER,
  checkPoint,
  checkXOnlyKey,
  decodePoint,
  decodeScalar,
  encodePoint,
  mulBase,
  Point,
  scalarToBytes,
} from './curve.ts';
export { bytesEqual, concatBytes, parseHex, toHex } from './hex.ts';
export {
  checkX25519PublicKey,
  open,
  type Sealed,
  type SealPurpose,
  seal,
  type X25519KeyPair,
  x25519KeyPair,
  x25519PublicKey,
} from './hpke.ts';
export * from './messages.ts';
export { type ClaimBinding, type ClaimProof, proveClaim, verifyClaimProof } from './pok.ts';
export {
  noblePrimitives,
  type Primitives,
  primitives,
  usePrimitives,
} from './primitives.ts';
export {
  checkDepositShare,
  checkSchemeCombination,
  combinePublic,
  isScheme,
  SCHEMES,
  type Scheme,
} from './schemes.ts';
export {
  proveShareProduct,
  SHARE_PROOF_BYTES,
  type ShareStatement,
  verifyShareProduct,
} from './share-proof.ts';
export {
  messageDigest,
  requireSignature,
  SIGNED_MESSAGE_TAG,
  SigningKey,
  signMessage,
  verifyMessage,
  xOnlyPublicKey,
} from './signatures.ts';
export * from './wire.ts';
