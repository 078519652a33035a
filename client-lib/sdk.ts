/**
 * The client SDK (`vigil/sdk`): what a wallet app embeds in a browser, in React Native or in
 * Node. It imports no server code and no Node built-in; its crypto is noble's and scure's
 * (docs/sdk.md). It covers the user's side of the story after the wallet exists:
 * - the wallet and the claim state as password-encrypted text (scrypt + XChaCha20-Poly1305),
 *   stored wherever the app keeps its files;
 * - backup verification (attestation, receipt, wallet status: P6);
 * - the claim, watching it, its challenge as a file for a solver elsewhere, checking the proof
 *   that comes back, submitting it (and, under a clock-gated policy, waiting for the delay and
 *   submitting again), opening the release;
 * - rebuilding the private key, checking it against Q, and exporting it (hex, WIF, addresses).
 * Solving the VDF takes a Node process (`vigil vdf solve`, or client-lib's Node face) or chiavdf,
 * and so does creating a wallet with a cosigner. AWS Nitro attestation documents are verified
 * here, certificate chain included (vault/enclave/nitro-pki.ts).
 */

export type {
  AttestationPolicy,
  AttestationVerifier,
  DepositPolicy,
  DepositReceipt,
  Release,
  Scheme,
  VerifiedAttestation,
} from '../vault/portable.ts';
export { NitroAttestationVerifier } from '../vault/portable.ts';
export type { GroupName, VdfProofRecord } from '../vdf/portable.ts';
export { type WalletAddresses, walletAddresses } from './addresses.ts';
export {
  type BackupReport,
  checkReceipt,
  portableVerifierFor,
  verifyBackup,
  verifyVaultAttestation,
} from './backup.ts';
export {
  CHALLENGE_FORMAT,
  type ChallengeFile,
  challengeFor,
  checkProofFile,
  checkProofForClaim,
  encodeChallengeFile,
  MAX_CHALLENGE_FILE_BYTES,
  parseChallengeFile,
  proofFromChiavdf,
} from './challenge-file.ts';
export { newClaimState, recoverKey, sendClaim, submitSolution } from './claim.ts';
export {
  type ClaimState,
  type CommittedClaim,
  openClaimState,
  sealClaimState,
} from './claim-state.ts';
export { type ClaimWatchEvents, isVaultUnavailable, watchClaim } from './claim-watch.ts';
export {
  checkScryptParams,
  DEFAULT_SCRYPT,
  MAX_ENVELOPE_BYTES,
  SCRYPT_LIMITS,
  type ScryptParams,
} from './envelope.ts';
export { ClientError, type ClientErrorCode } from './errors.ts';
export {
  bip340SecretKey,
  decodeWif,
  type ExportedKey,
  ethereumAddress,
  exportPrivateKey,
  reconstructPrivateKey,
} from './keys.ts';
export { type RandomBytes, webCryptoRandom } from './random.ts';
export {
  DEFAULT_RESUBMIT_INTERVAL_MS,
  type ReleaseWaitEvents,
  secondsToWait,
  submitUntilReleased,
} from './release-wait.ts';
export {
  type AttestationResponse,
  type ClaimInfo,
  type ClaimStatus,
  type EndedClaimStatus,
  type Fetch,
  VaultClient,
  type VaultClientOptions,
  type WalletStatus,
} from './vault-client.ts';
export {
  type AttestationTrust,
  type ClusterKeys,
  type CosignerLink,
  type EcdsaShareData,
  openWallet,
  sealWallet,
  type Wallet,
  walletFromJson,
  walletToJson,
} from './wallet.ts';
