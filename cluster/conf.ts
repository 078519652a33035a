import { ClusterError } from './errors.ts';
import type { ConfChange, ConfChangeOp, ConfState, NodeId } from './types.ts';

const OPS: readonly ConfChangeOp[] = ['addLearner', 'promote', 'remove'];
const CONF_VERSION = 1;
export const MAX_NODE_ID_BYTES = 256;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = new TextEncoder().encode(cc.node);
  if (id.length === 0 || id.length > MAX_NODE_ID_BYTES) {
    throw new ClusterError('CLUSTER_MALFORMED', 'node id must be 1..256 bytes');
  }
  const out = new Uint8Array(2 + id.length);
  out[0] = CONF_VERSION;
  out[1] = OPS.indexOf(cc.op);
  out.set(id, 2);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const op = OPS[data[1] ?? 255];
  if (data[0] !== CONF_VERSION || op === undefined || data.length < 3) {
    throw new ClusterError('CLUSTER_MALFORMED', 'bad conf change entry');
  }
  if (data.length - 2 > MAX_NODE_ID_BYTES) {
    throw new ClusterError('CLUSTER_TOO_LARGE', 'conf change node id too long');
  }
  return { op, node: new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(2)) };
}

/** Why `cc` cannot be applied to `conf`, or null when it can (leader-side rules on top). */
export function confChangeProblem(conf: ConfState, cc: ConfChange): string | null {
  const isVoter = conf.voters.includes(cc.node);
  const isLearner = conf.learners.includes(cc.node);
  switch (cc.op) {
    case 'addLearner':
      return isVoter || isLearner ? 'node is already a member' : null;
    case 'promote':
      // the founding voter of a bootstrap log is promoted into an empty configuration
      return isLearner || conf.voters.length === 0 ? null : 'only a learner can be promoted';
    case 'remove':
      if (!isVoter && !isLearner) return 'node is not a member';
      if (isVoter && conf.voters.length === 1) return 'cannot remove the last voter';
      return null;
  }
}

/** Apply a change; invalid changes (already rejected by the leader) leave the conf unchanged. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  if (confChangeProblem(conf, cc) !== null) return conf;
  const voters = conf.voters.filter((v) => v !== cc.node);
  const learners = conf.learners.filter((v) => v !== cc.node);
  if (cc.op === 'addLearner') learners.push(cc.node);
  if (cc.op === 'promote') voters.push(cc.node);
  return { voters: voters.sort(), learners: learners.sort() };
}

/**
 * The founding configuration as log entries (term 0, committed on every founder): a joiner that
 * replays the log from index 1 learns the membership from the log itself.
 */
export function bootstrapChanges(voters: readonly NodeId[]): ConfChange[] {
  const sorted = [...voters].sort();
  const out: ConfChange[] = [];
  sorted.forEach((v, i) => {
    if (i > 0) out.push({ op: 'addLearner', node: v });
    out.push({ op: 'promote', node: v });
  });
  return out;
}

export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}
