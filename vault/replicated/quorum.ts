/**
 * Whether this node's cluster can still elect a leader, as far as this node can tell. A node that
 * restarts from disk is a new member (P4): it needs a leader to be admitted, and a leader needs a
 * majority of the voters. When a majority of the voters crashed (two crashes a second apart in a
 * 3-node cluster), their restarts cannot heal the cluster and only `vigil cluster recover` can,
 * so every surviving node says so, in its status, its metrics and its log, with the command
 * (docs/cluster.md §3, issue 11 item 14). A partition looks the same from inside; the advice says
 * which is which.
 */
export const QUORUM_LOST_AFTER_MS = 10_000;

export interface QuorumView {
  /** `ok`: a leader is known; `electing`: none yet; `lost`: none for a while, no majority reachable. */
  state: 'ok' | 'electing' | 'lost';
  voters: string[];
  /** Voters this node has a live link to, itself included. */
  reachable: string[];
  leaderlessForMs: number;
  /** What an operator should do, when `lost`. */
  advice: string | null;
}

export function quorumView(o: {
  self: string;
  voters: readonly string[];
  leader: string;
  connected: (id: string) => boolean;
  /** When this node last knew a leader (or started waiting for one). */
  leaderSeenAt: number;
  now: number;
}): QuorumView {
  const voters = [...o.voters];
  const reachable = voters.filter((id) => id === o.self || o.connected(id));
  const leaderlessForMs = o.leader === '' ? Math.max(0, o.now - o.leaderSeenAt) : 0;
  const majority = Math.floor(voters.length / 2) + 1;
  const lost =
    o.leader === '' && leaderlessForMs >= QUORUM_LOST_AFTER_MS && reachable.length < majority;
  const state = o.leader !== '' ? 'ok' : lost ? 'lost' : 'electing';
  const advice = lost
    ? `no leader for ${Math.round(leaderlessForMs / 1000)} s and only ${reachable.length} of ` +
      `${voters.length} voters reachable (a majority is ${majority}). If the others are only cut ` +
      'off, restore the network. If they crashed, their restarts are new members that need a ' +
      'leader to join, so the cluster cannot heal alone: stop every node and run ' +
      '`vigil cluster recover --data-dir D` (every deposit is kept, pending claims are void).'
    : null;
  return { state, voters, reachable, leaderlessForMs, advice };
}
