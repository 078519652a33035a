/**
 * The cosigner's public face: the HTTP API contract (api.ts) and typed client (client.ts), the
 * server (server/: fastify app, sealed LevelDB store, audit log, vault deposits and pings), and
 * the protocol cores: two-party ECDSA (server = Lindell's P1, client = P2), MuSig2, refresh,
 * derivation, the Paillier key pool and the error type.
 */

export * from './api.ts';
export {
  CosignerClient,
  type CosignerClientOptions,
  CosignerHttpError,
  type EcdsaKeygenResult,
  type MusigKeygenResult,
  musigOrder,
  protocolSessionId,
  verifyKeyDeposit,
} from './client.ts';
export { derivePublic, HARDENED } from './derive.ts';
export type { KeygenMsg1, KeygenMsg2, KeygenMsg3 } from './ecdsa2p/keygen.ts';
export { ClientKeygen, ServerKeygen } from './ecdsa2p/keygen.ts';
export { EncryptionMaskPool, encryptionMask } from './ecdsa2p/mask-pool.ts';
export type {
  RefreshMsg1,
  RefreshMsg2,
  RefreshMsg3,
  RefreshMsg4,
  RefreshMsg5,
} from './ecdsa2p/refresh.ts';
export { ClientRefresh, ServerRefresh } from './ecdsa2p/refresh.ts';
export {
  makeClientSetup,
  provePaillierKey,
  ringPedersenId,
  verifyClientSetup,
} from './ecdsa2p/setup.ts';
export type { SignMsg1, SignMsg2, SignMsg3 } from './ecdsa2p/sign.ts';
export {
  ClientSigner,
  ServerSigner,
  signatureFromWire,
  signatureToCompact,
  signatureToWire,
} from './ecdsa2p/sign.ts';
export type {
  ClientKeyShare,
  ClientSetup,
  EcdsaSignature,
  KeyLock,
  ProvenPaillierKey,
  SecurityPolicy,
  ServerKeyShare,
} from './ecdsa2p/types.ts';
export { DEFAULT_POLICY } from './ecdsa2p/types.ts';
export { CosignerError, type CosignerErrorCode } from './errors.ts';
export { modPow, modPowPublic } from './modexp.ts';
export {
  aggregatePoint,
  aggregateXOnly,
  BIP328_CHAIN_CODE,
  type MusigKeyPlan,
  MusigSigner,
  planFor,
} from './musig2/signer.ts';
export { generateProvenPaillierKey, PaillierKeyPool } from './paillier-pool.ts';
export { generateSafePrime } from './primes.ts';
export { type RandomBytes, systemRandom } from './random.ts';
export { type AuditRecord, verifyAuditChain } from './server/audit.ts';
export { COSIGNER_ENV, type CosignerConfig, parseCosignerConfig } from './server/config.ts';
export { type Cosigner, type CosignerOptions, openCosigner } from './server/cosigner.ts';
export { type RunningCosigner, startCosignerServer } from './server/serve.ts';
export { ringPedersenFromPrimes } from './zk/ring-pedersen.ts';
