/**
 * The vault's public face: the wire protocol (shared with the cosigner and client-lib), the
 * deterministic state machine, the enclave services, a durable node and its HTTP API.
 */

export {
  type AttestationPolicy,
  type AttestationProvider,
  type AttestationVerifier,
  DevAttestationProvider,
  DevAttestationVerifier,
  devPcr,
  encodeAwsCredentials,
  fileBlobKeeper,
  KeyFileSealer,
  KmsSealer,
  NitroAttestationProvider,
  NitroAttestationVerifier,
  type Sealer,
  StorageBox,
  verifyNitroAttestation,
} from './enclave/index.ts';
export { VaultError } from './errors.ts';
export { buildVaultApp, type VaultBackend } from './http/app.ts';
export {
  type ApplyContext,
  type ClaimStatus,
  type ClaimView,
  type Command,
  type CommandResult,
  decodeCommand,
  type Effect,
  encodeCommand,
  type MachineConfig,
  VaultMachine,
  type WalletView,
} from './machine/index.ts';
export { parseVaultConfig, VAULT_ENV, type VaultConfig } from './node/config.ts';
export {
  ConfigReader,
  LOG_LEVELS,
  type LogLevel,
  type RawFlags,
  readSealerChoice,
  type SealerChoice,
} from './node/config-reader.ts';
export { type RunningVault, startVaultServer } from './node/serve.ts';
export { VaultNode, type VaultNodeOptions } from './node/vault-node.ts';
export * from './protocol/index.ts';
export {
  CLUSTER_NODE_ENV,
  type ClusterNodeConfig,
  chooseFounder,
  type NodeAddress,
  PeerVerifier,
  parseClusterNodeConfig,
  type RecoveryView,
  readHello,
  readRecoveryView,
  recoverNodeProcess,
  recoverVault,
  recoveryViewFromJson,
  retireRaftDirs,
  runNodeProcess,
  slotStorageKey,
  superviseCluster,
} from './replicated/index.ts';
export {
  AttestedTls,
  attestedTlsFor,
  newTlsIdentity,
  type TlsIdentity,
  tlsKeyBinding,
  trustVerifier,
  type VaultTrust,
} from './tls/index.ts';
