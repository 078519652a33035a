// Public face of the cluster module: a pure Raft core, its durable storage, the node shell and
// the wire codec. Knows nothing about wallets.
export { Reader, Writer } from './bytes.ts';
export {
  decodeMessage,
  encodeMessage,
  MAX_ENTRY_BYTES,
  MAX_MESSAGE_BYTES,
  WIRE_VERSION,
} from './codec.ts';
export { applyConfChange, decodeConfChange, encodeConfChange, quorum } from './conf.ts';
export { ClusterError, type ClusterErrorCode } from './errors.ts';
export {
  bumpHostCounter,
  formatHostAddress,
  type HostAddress,
  HostAgent,
  type HostAgentOptions,
  HostClient,
  HostError,
  type HostErrorCode,
  HostKvStore,
  HostMeta,
  type HostStoreOptions,
  listHostStores,
  parseHostAddress,
  withHostMeta,
} from './host/index.ts';
export {
  type KvRange,
  type KvStore,
  type KvView,
  type KvWrite,
  LevelKvStore,
  prefixRange,
} from './kv.ts';
export {
  AEAD_NONCE_BYTES,
  bareHost,
  type Endpoint,
  keyPairFromPrivate,
  type ListenTarget,
  MAX_INTRODUCTION_BYTES,
  openAead,
  type PeerAddress,
  type PeerLinkStats,
  PeerNetwork,
  type PeerNetworkOptions,
  relaySocketName,
  type ServiceName,
  type SocketTransport,
  type StaticKeyPair,
  sealAeadInto,
  tcpTransport,
  vsockTransport,
} from './net/index.ts';
export { type DurableStateMachine, type NodeOptions, RaftNode, type Transport } from './node.ts';
export {
  canSendBeforePersist,
  DEFAULT_RAFT_CONFIG,
  type Proposal,
  Raft,
  type RaftConfig,
  type RaftInit,
} from './raft.ts';
export {
  Applier,
  type ApplyResult,
  SESSION_CONFLICT,
  SESSION_KEY_PREFIX,
  type StateMachine,
} from './sessions.ts';
export {
  decodeChunk,
  encodeChunk,
  RaftStorage,
  type SnapshotSource,
  type StateReader,
  type StoredState,
  type ValueCipher,
} from './storage.ts';
export type * from './types.ts';
