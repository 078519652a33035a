/**
 * client-lib: what a wallet app embeds, and what the `vigil` CLI's user commands run (docs/client.md).
 * - the wallet file, encrypted at rest (scrypt + XChaCha20-Poly1305);
 * - backup verification (attestation, receipt, Q2, policy: P6);
 * - recovery: claim, solve (checkpoints, progress, resume, cancel), submit, open and check x2,
 *   rebuild the private key and check it against Q;
 * - export (hex, WIF, Ethereum address) and an independent check that the key signs.
 */

export { type WalletAddresses, walletAddresses } from './addresses.ts';
export {
  type BackupReport,
  checkReceipt,
  verifierFor,
  verifyBackup,
  verifyVaultAttestation,
} from './backup.ts';
export {
  CHALLENGE_FORMAT,
  type ChallengeFile,
  challengeFor,
  checkProofForClaim,
  encodeChallengeFile,
  MAX_CHALLENGE_FILE_BYTES,
  parseChallengeFile,
  proofFromChiavdf,
} from './challenge-file.ts';
export {
  type ClaimState,
  type CommittedClaim,
  loadClaimState,
  saveClaimState,
} from './claim-state.ts';
export { type ClaimWatchEvents, isVaultUnavailable, watchClaim } from './claim-watch.ts';
export {
  type LearnedNodes,
  learnClusterNodes,
  MAX_MEMBERS_ANSWER,
  MAX_WALLET_NODES,
  nodeOrigin,
  parseMemberUrls,
} from './cluster-nodes.ts';
export {
  createWallet,
  makeEcdsaSetup,
  refreshWallet,
  signEcdsa,
  signSchnorr,
} from './cosigner-wallet.ts';
export {
  checkScryptParams,
  DEFAULT_SCRYPT,
  MAX_ENVELOPE_BYTES,
  openEnvelope,
  parseEnvelope,
  SCRYPT_LIMITS,
  type ScryptParams,
  sealEnvelope,
} from './envelope.ts';
export { ClientError, type ClientErrorCode } from './errors.ts';
export { readBoundedFile, writeFileAtomic } from './files.ts';
export {
  bip340SecretKey,
  decodeWif,
  type ExportedKey,
  ethereumAddress,
  exportPrivateKey,
  keyAggCoefficients,
  musig2Coefficients,
  reconstructPrivateKey,
} from './keys.ts';
export { isNetworkFailure, networkCause } from './network-error.ts';
export { PASSWORD_ENV, readPassword } from './password.ts';
export {
  type PasswordStrength,
  passwordStrength,
  WEAK_BELOW_SCORE,
} from './password-strength.ts';
export { type RandomBytes, systemRandom } from './random.ts';
export {
  beginClaim,
  defaultRecoveryPaths,
  type RecoveryEvent,
  type RecoveryFiles,
  type RecoveryResult,
  recoverKey,
  recoverWallet,
  solveClaim,
  submitSolution,
} from './recovery.ts';
export { prepareChallenge } from './solve-elsewhere.ts';
export {
  DESKTOP_RATE,
  describeTimeLock,
  measureThisMachine,
  type TimeLockView,
} from './time-lock.ts';
export { timedFetch } from './timed-fetch.ts';
export {
  type AttestationResponse,
  type ClaimInfo,
  type ClaimStatus,
  type Fetch,
  VaultClient,
  type WalletStatus,
} from './vault-client.ts';
export { checkKeyIndependently, type KeyCheck } from './verify-key.ts';
export {
  type AttestationTrust,
  type ClusterKeys,
  type CosignerLink,
  type EcdsaShareData,
  loadWallet,
  saveWallet,
  type Wallet,
  walletFromJson,
  walletToJson,
} from './wallet.ts';
