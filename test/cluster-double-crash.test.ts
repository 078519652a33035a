/**
 * Two of three nodes crash together (issue 11 item 14). A restarted process is a new member that
 * needs a leader to join (P4), so nothing can heal this without a person, and the survivor must
 * say so: `quorum.state = "lost"` in its status with the recovery command, the metric, one log
 * line. Real processes under `vigil cluster start`, whose supervisor keeps restarting the slots.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupClusters, ProcessCluster } from './support/cluster.ts';
import { fetchJson } from './support/http.ts';

afterAll(cleanupClusters);

describe('a double crash in a real 3-process cluster', () => {
  it('the survivor reports the quorum lost, with the command, in status, metrics and log', async () => {
    const { cluster, nodes } = await ProcessCluster.start(3);
    const leader = nodes.find((n) => n.role === 'leader')!;
    const follower = nodes.find((n) => n.role !== 'leader')!;
    const survivor = nodes.find((n) => n !== leader && n !== follower)!;
    process.kill(leader.pid, 'SIGKILL');
    process.kill(follower.pid, 'SIGKILL');
    const status = await cluster.until(
      'the survivor to report the quorum lost',
      async () => {
        const st = (await fetchJson(`${survivor.url}/v1/cluster/status`)).json;
        return st.quorum?.state === 'lost' ? st : undefined;
      },
      90_000,
    );
    expect(status.quorum.reachable).toEqual([survivor.id]);
    expect(status.quorum.voters).toHaveLength(3);
    expect(status.quorum.advice).toMatch(/vigil cluster recover --data-dir D/);
    const metrics = await fetch(`${survivor.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^vigil_cluster_quorum_lost 1$/m);
    await cluster.supervisor.waitFor(/quorum lost: no leader for \d+ s/, 30_000);
    // the restarted slots are still outside: no leader ever admitted them
    const after = await cluster.statuses();
    expect(after.filter((n) => n.role === 'leader')).toHaveLength(0);
  }, 240_000);
});
