/**
 * Stable codes for everything the cluster module rejects or refuses.
 */
export type ClusterErrorCode =
  | 'CLUSTER_NOT_LEADER' // a proposal reached a node that is not the leader (see `leaderHint`)
  | 'CLUSTER_OVERLOADED' // flow control: too many uncommitted bytes at the leader
  | 'CLUSTER_TRANSFERRING' // proposals are refused while leadership is being transferred
  | 'CLUSTER_CONF_CHANGE' // a membership change that the single-server rules do not allow
  | 'CLUSTER_MALFORMED' // bytes that do not decode to a valid message or record
  | 'CLUSTER_TOO_LARGE' // a message, entry or field above its size cap
  | 'CLUSTER_STORAGE' // the durable log is missing, inconsistent or unreadable
  | 'CLUSTER_INVARIANT' // an impossible state: the node stops rather than continue unsafely
  | 'CLUSTER_STOPPED' // the node shell was stopped or the node was removed
  | 'CLUSTER_NOT_IMPLEMENTED';

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly leaderHint: string;

  constructor(code: ClusterErrorCode, message: string, leaderHint = '') {
    super(message);
    this.name = 'ClusterError';
    this.code = code;
    this.leaderHint = leaderHint;
  }
}
