/**
 * client-lib: what a wallet app embeds, and what the `vigil` CLI's user commands run (docs/client.md).
 * - the wallet file, encrypted at rest (scrypt + XChaCha20-Poly1305);
 * - backup verification (attestation, receipt, Q2, policy: P6);
 * - recovery: claim, solve (checkpoints, progress, resume, cancel), submit, open and check x2,
 *   rebuild the private key and check it against Q;
 * - export (hex, WIF, Ethereum address) and an independent check that the key signs.
 * This is the Node face: everything the portable face `sdk.ts` exports (what a wallet app embeds
 * in a browser or React Native, docs/sdk.md), plus files, the solver, Nitro attestation, the
 * cosigner, passwords and the OpenSSL key check.
 */

export { systemRandom } from '../cosigner/index.ts';
export { loadClaimState, saveClaimState } from './claim-state-file.ts';
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
export { openEnvelope, parseEnvelope, sealEnvelope } from './envelope.ts';
export { readBoundedFile, writeFileAtomic } from './files.ts';
export { keyAggCoefficients, musig2Coefficients } from './keys.ts';
export { isNetworkFailure, networkCause } from './network-error.ts';
export { vaultFetchFor, verifierFor } from './nitro-trust.ts';
export { PASSWORD_ENV, readPassword } from './password.ts';
export {
  type PasswordStrength,
  passwordStrength,
  WEAK_BELOW_SCORE,
} from './password-strength.ts';
export {
  beginClaim,
  defaultRecoveryPaths,
  type RecoveryEvent,
  type RecoveryFiles,
  type RecoveryResult,
  recoverWallet,
  solveClaim,
} from './recovery.ts';
export * from './sdk.ts';
export { prepareChallenge } from './solve-elsewhere.ts';
export {
  DESKTOP_RATE,
  describeTimeLock,
  measureThisMachine,
  type PolicyFigures,
  policyFigures,
  policyIterations,
  REFERENCE_MACHINES,
  STRICT_MARGIN,
  type TimeLockView,
} from './time-lock.ts';
export { timedFetch } from './timed-fetch.ts';
export { checkKeyIndependently, type KeyCheck } from './verify-key.ts';
export { loadWallet, saveWallet } from './wallet-file.ts';
