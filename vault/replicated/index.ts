/** The vault on Raft: the replicated backend, its node process, supervisor and recovery. */
export {
  CLUSTER_NODE_ENV,
  type ClusterNodeConfig,
  type NodeAddress,
  parseClusterNodeConfig,
} from './config.ts';
export { memberAttested, PeerVerifier, type PeerVerifierOptions } from './identity.ts';
export { ClusterMember, type MemberOptions } from './member.ts';
export {
  type Hello,
  readHello,
  recoverNodeProcess,
  runNodeProcess,
  slotStorageKey,
} from './process.ts';
export { type RecoveryReport, recoverVault, retireRaftDirs } from './recover.ts';
export {
  chooseFounder,
  type RecoveryView,
  readRecoveryView,
  recoveryViewFromJson,
} from './slot-recovery.ts';
export { superviseCluster } from './supervisor.ts';
