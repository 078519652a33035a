/** The vault on Raft: the replicated backend, its node process, supervisor and recovery. */
export { ClusterMember, type MemberOptions } from './member.ts';
export { type Hello, readHello, runNodeProcess, slotStorageKey } from './process.ts';
export { recoverVault, retireRaftDirs } from './recover.ts';
export { superviseCluster } from './supervisor.ts';
