import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';
import { Sim, SimFailure, scriptedOptions, swarmOptions } from './sim.ts';

function runSeeds(from: number, count: number): string[] {
  const failures: string[] = [];
  for (let s = from; s < from + count; s++) {
    try {
      new Sim(swarmOptions(s)).run();
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
  return failures;
}

describe('simulator: random seeds (swarm of faults, invariants checked every step)', () => {
  // 500 seeds in four slices so each stays inside the per-test timeout on a shared 2-core box.
  for (const [from, count] of [
    [1, 125],
    [126, 125],
    [251, 125],
    [376, 125],
  ] as const) {
    it(`seeds ${from}..${from + count - 1}`, { timeout: 120_000 }, () => {
      expect(runSeeds(from, count)).toEqual([]);
    });
  }

  it('replays a seed exactly', () => {
    const a = new Sim(swarmOptions(42));
    const b = new Sim(swarmOptions(42));
    a.run();
    b.run();
    expect(a.stats).toEqual(b.stats);
    expect(a.describe()).toEqual(b.describe());
  });
});

function settle(sim: Sim, steps = 200): string {
  for (let i = 0; i < steps && sim.leaderId() === undefined; i++) sim.runStep();
  sim.runSteps(5);
  const l = sim.leaderId();
  if (l === undefined) throw new Error('no leader');
  return l;
}

describe('simulator: targeted scenarios', () => {
  it('an isolated leader cannot commit, steps down, and its entry is discarded', () => {
    const sim = new Sim(scriptedOptions(1, 5));
    const old = settle(sim);
    const oldTerm = sim.raftOf(old)!.term;
    sim.isolate(old);
    const at = sim.submit({ op: 'deposit', target: 1 }, old);
    sim.runSteps(60);
    expect(sim.raftOf(old)!.role).not.toBe('leader'); // check-quorum
    const fresh = sim.leaderId()!;
    expect(fresh).not.toBe(old);
    expect(sim.raftOf(fresh)!.term).toBeGreaterThan(oldTerm);
    expect(sim.raftOf(old)!.log.committed).toBeLessThan(at.index);
    sim.submit({ op: 'ping', target: 0 }, fresh, 'other');
    sim.heal();
    sim.runSteps(60);
    expect(sim.isAcked('script')).toBe(false);
    expect(sim.isAcked('other')).toBe(true);
    // the old leader's entry at `at.index` was replaced by the new leader's log
    expect(sim.raftOf(old)!.log.term(at.index)).not.toBe(at.term);
  });

  it('a minority partition cannot commit; the majority side can', () => {
    const sim = new Sim(scriptedOptions(2, 5));
    const leader = settle(sim);
    const ids = [...sim.nodes.keys()];
    const minority = [leader, ids.find((i) => i !== leader)!];
    const majority = ids.filter((i) => !minority.includes(i));
    for (const a of minority)
      for (const b of majority) {
        sim.block(a, b);
        sim.block(b, a);
      }
    const before = sim.raftOf(leader)!.log.committed;
    sim.submit({ op: 'deposit', target: 2 }, leader);
    sim.runSteps(80);
    expect(sim.raftOf(minority[1]!)!.log.committed).toBe(before);
    const newLeader = sim.leaderId();
    expect(majority).toContain(newLeader);
    sim.submit({ op: 'deposit', target: 3 }, newLeader, 'majority');
    sim.runSteps(20);
    expect(sim.isAcked('majority')).toBe(true);
    expect(sim.isAcked('script')).toBe(false);
  });

  it('one-way partition with check-quorum: a new stable leader, no disruption from the old one', () => {
    const sim = new Sim(scriptedOptions(3, 3));
    const old = settle(sim);
    sim.isolate(old, 'in'); // the old leader can still send, but hears nothing
    sim.runSteps(100);
    const fresh = sim.leaderId();
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(old);
    const term = sim.raftOf(fresh!)!.term;
    sim.runSteps(300);
    // pre-vote + leases: the deaf node's campaigns never bump the term of the working majority
    expect(sim.leaderId()).toBe(fresh);
    expect(sim.raftOf(fresh!)!.term).toBe(term);
  });

  it('disk rollback: the node rejoins as a new member and no acknowledged entry is lost', () => {
    const run = (trust: boolean): Sim => {
      const sim = new Sim(scriptedOptions(4, 3, { trustRolledBackDisk: trust }));
      let leader = settle(sim);
      if (leader === 'n1') {
        sim.raftOf('n1')!.transferLeadership('n2');
        sim.runSteps(30);
        leader = sim.leaderId()!;
      }
      sim.keepDiskCopy('n1'); // the old disk image the host will restore
      const third = ['n2', 'n3'].find((i) => i !== leader)!;
      sim.isolate(third); // X commits on {leader, n1} only
      sim.submit({ op: 'deposit', target: 4 }, leader);
      sim.runSteps(20);
      expect(sim.isAcked()).toBe(true);
      sim.rollback('n1');
      sim.heal();
      sim.isolate(leader); // only n1 (restored) and `third` remain connected
      sim.runSteps(150);
      sim.heal();
      sim.runSteps(300);
      return sim;
    };
    const safe = run(false);
    // model (B): n1 came back as a new identity, joined as learner, was promoted; X survived
    const ids = [...safe.nodes.keys()];
    expect(ids).toContain('n1#1');
    const leader = safe.leaderId()!;
    expect([...safe.raftOf(leader)!.conf().voters].sort()).toEqual(['n1#1', 'n2', 'n3']);
    expect(safe.appliedIndex('n1#1')).toBe(safe.appliedIndex(leader));
    // negative control: trusting the rolled-back disk lets a stale node vote and lose X
    let failure: unknown;
    try {
      run(true);
    } catch (e) {
      failure = e;
    }
    expect(failure).toBeInstanceOf(SimFailure);
    expect((failure as Error).message).toMatch(
      /acknowledged entry|applied a different entry|log matching/,
    );
  });

  it('snapshot install: a node that missed compacted entries catches up from a snapshot', () => {
    const sim = new Sim(scriptedOptions(5, 3, { compactEvery: 5 }));
    const leader = settle(sim);
    const lagger = [...sim.nodes.keys()].find((i) => i !== leader)!;
    sim.isolate(lagger);
    for (let i = 0; i < 30; i++) {
      sim.submit({ op: 'deposit', target: i % 6 }, leader, `c${i}`);
      sim.runSteps(2);
    }
    expect(sim.raftOf(leader)!.log.snapIndex).toBeGreaterThan(sim.appliedIndex(lagger));
    sim.heal();
    sim.runSteps(100);
    expect(sim.stats.snapshots).toBeGreaterThan(0);
    expect(sim.appliedIndex(lagger)).toBe(sim.appliedIndex(leader));
    expect(sim.raftOf(lagger)!.log.snapIndex).toBeGreaterThan(0);
  });

  it('no release across a ping and none on a stale leader (P2/P3)', () => {
    const sim = new Sim(scriptedOptions(6, 3));
    const leader = settle(sim);
    sim.submit({ op: 'deposit', target: 0 }, leader, 'a');
    sim.runSteps(10);
    sim.submit({ op: 'claim', target: 0 }, leader, 'a');
    sim.runSteps(10);
    sim.submit({ op: 'ping', target: 0 }, leader, 'b'); // tenant 0 is alive: the claim dies
    sim.runSteps(10);
    sim.submit({ op: 'release', target: 0 }, leader, 'a');
    sim.runSteps(10);
    expect(sim.checker.releases).toBe(0);
    sim.submit({ op: 'claim', target: 0 }, leader, 'a');
    sim.runSteps(10);
    sim.isolate(leader); // a stale leader cannot release
    sim.submit({ op: 'release', target: 0 }, leader, 'a');
    sim.runSteps(100);
    expect(sim.checker.releases).toBe(0);
    sim.heal();
    sim.runSteps(100);
    const fresh = sim.leaderId()!;
    sim.submit({ op: 'release', target: 0 }, fresh, 'c');
    sim.runSteps(20);
    expect(sim.checker.releases).toBe(1);
  });

  it('learner catch-up and promotion: a replaced node joins as learner and becomes a voter', () => {
    const sim = new Sim(scriptedOptions(7, 3, { compactEvery: 4 }));
    const leader = settle(sim);
    for (let i = 0; i < 20; i++) {
      sim.submit({ op: 'deposit', target: i % 6 }, leader, `d${i}`);
      sim.runSteps(1);
    }
    const victim = [...sim.nodes.keys()].find((i) => i !== leader)!;
    sim.keepDiskCopy(victim);
    sim.rollback(victim);
    let sawLearner = false;
    for (let i = 0; i < 200; i++) {
      sim.runStep();
      const conf = sim.raftOf(sim.leaderId() ?? leader)?.conf();
      if (conf?.learners.includes(`${victim}#1`)) sawLearner = true;
    }
    expect(sawLearner).toBe(true);
    const conf = sim.raftOf(sim.leaderId()!)!.conf();
    expect(conf.voters).toContain(`${victim}#1`);
    expect(conf.voters).not.toContain(victim);
    expect(sim.appliedIndex(`${victim}#1`)).toBe(sim.appliedIndex(sim.leaderId()!));
  });

  it('leadership transfer under load keeps every acknowledged command', () => {
    const sim = new Sim(scriptedOptions(8, 5));
    const leader = settle(sim);
    const target = [...sim.nodes.keys()].find((i) => i !== leader)!;
    sim.submit({ op: 'deposit', target: 1 }, leader, 'a');
    sim.raftOf(leader)!.transferLeadership(target);
    sim.runSteps(30);
    expect(sim.leaderId()).toBe(target);
    expect(sim.isAcked('a')).toBe(true);
  });

  it('a duplicated client retry is applied once and answered with the original reply', () => {
    const sim = new Sim(scriptedOptions(9, 3));
    const leader = settle(sim);
    sim.submit({ op: 'deposit', target: 5 }, leader, 'w');
    sim.runSteps(5);
    sim.submit({ op: 'claim', target: 5 }, leader, 'w');
    sim.runSteps(5);
    sim.resubmit('w'); // the reply was lost: the client sends claim#2 again
    sim.runSteps(5);
    sim.submit({ op: 'claim', target: 5 }, leader, 'w'); // a new claim (seq 3) sees the live one
    sim.runSteps(5);
    expect(sim.replies).toEqual(['w/1:ok', 'w/2:claimed', 'w/2:claimed', 'w/3:live']);
  });
});

describe('simulator: the peer allow-list of vault/replicated (issue 11 item 11)', () => {
  // Seeds where, under the old rule (peers = the membership the replay has reached), a
  // replacement member refused the current leader's messages and never caught up.
  const stuckUnderOldRule = [56, 94, 105];

  it('negative control: the old rule leaves a replacement member stuck in these seeds', () => {
    for (const seed of stuckUnderOldRule) {
      expect(() => new Sim(swarmOptions(seed, { peersFromReplayOnly: true })).run()).toThrow(
        /did not converge/,
      );
    }
  });

  it('the admitted-with directory keeps the leader a peer: the same seeds converge', () => {
    for (const seed of stuckUnderOldRule)
      expect(() => new Sim(swarmOptions(seed)).run()).not.toThrow();
  });
});

describe('simulator: a member lagging behind a newer member that then leads (issue 11 item 11)', () => {
  /**
   * 5 nodes: one follower hears nothing while another is replaced (rolled back: a new identity
   * joins, is promoted, the old one removed) and the replacement takes the lead. The lagging
   * node's replay has never named the leader; only the dialer's introduction lets it in.
   */
  function lagBehindNewLeader(noIntroductions: boolean) {
    const sim = new Sim(scriptedOptions(11, 5, { noIntroductions }));
    const leader = settle(sim);
    const [lagging, replaced] = [...sim.nodes.keys()].filter((i) => i !== leader) as [
      string,
      string,
    ];
    sim.isolate(lagging, 'in');
    sim.keepDiskCopy(replaced);
    sim.rollback(replaced);
    const fresh = `${replaced}#1`;
    sim.isolate(lagging, 'in'); // again: the new identity's messages too
    for (let i = 0; i < 400 && !sim.raftOf(leader)!.conf().voters.includes(fresh); i++)
      sim.runStep();
    sim.runSteps(50); // the retired identity removed
    sim.raftOf(leader)!.transferLeadership(fresh);
    sim.runSteps(30);
    expect(sim.leaderId()).toBe(fresh);
    sim.submit({ op: 'deposit', target: 3 }, fresh);
    sim.runSteps(20);
    const lag = sim.raftOf(lagging)!;
    expect(lag.confAt(lag.log.applied).voters).not.toContain(fresh);
    sim.heal();
    sim.runSteps(300);
    return { sim, lagging, fresh };
  }

  it('negative control: without introductions the lagging member never catches up', () => {
    const { sim, lagging, fresh } = lagBehindNewLeader(true);
    expect(sim.leaderId()).toBe(fresh);
    expect(sim.appliedIndex(lagging)).toBeLessThan(sim.appliedIndex(fresh));
    expect(sim.stats.refused).toBeGreaterThan(0);
  });

  it('with the leader’s introduction it catches up', () => {
    const { sim, lagging, fresh } = lagBehindNewLeader(false);
    expect(sim.leaderId()).toBe(fresh);
    expect(sim.appliedIndex(lagging)).toBe(sim.appliedIndex(fresh));
  });
});

describe('simulator: the quorum clock and clock-gated releases (faults on, invariants every step)', () => {
  const GATE = 60;
  /** Per seed: `faulty` slots get a frozen, fast or very fast clock; the rest drift slow. */
  function clockSeed(seed: number, faulty: (nodes: number) => number) {
    const opts = swarmOptions(seed);
    const r = new Rng(seed ^ 0xc10c);
    const bad = faulty(opts.nodes);
    const rates = Array.from({ length: opts.nodes }, (_, i) =>
      i < bad ? [0, 5, 40][r.int(3)]! : r.range(0.8, 1),
    );
    return new Sim({ ...opts, clock: { rates, gate: GATE, checkHonest: true } });
  }

  function runClockSeeds(count: number, faulty: (nodes: number) => number) {
    const failures: string[] = [];
    const totals = { times: 0, early: 0, gatedReleases: 0 };
    for (let s = 1; s <= count; s++) {
      const sim = clockSeed(s, faulty);
      try {
        sim.run();
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      }
      totals.times += sim.stats.times;
      totals.early += sim.stats.early;
      totals.gatedReleases += sim.stats.gatedReleases;
    }
    return { failures, totals };
  }

  it('skewed, frozen or fast clocks on a minority: quorum time never runs ahead of true time, releases wait for it', {
    timeout: 120_000,
  }, () => {
    const { failures, totals } = runClockSeeds(60, (nodes) => (nodes - 1) / 2);
    expect(failures).toEqual([]);
    // the clock advanced, releases came both too early (refused) and in time
    expect(totals.times).toBeGreaterThan(0);
    expect(totals.early).toBeGreaterThan(0);
    expect(totals.gatedReleases).toBeGreaterThan(0);
  });

  it('negative control: a fast majority runs the quorum clock ahead, and the checker sees it', {
    timeout: 120_000,
  }, () => {
    const fast = (seed: number) => {
      const opts = swarmOptions(seed);
      const rates = Array.from({ length: opts.nodes }, (_, i) => (i <= opts.nodes / 2 ? 5 : 1));
      return new Sim({ ...opts, clock: { rates, gate: GATE, checkHonest: true } });
    };
    const failures: string[] = [];
    for (let s = 1; s <= 20; s++) {
      try {
        fast(s).run();
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }
    expect(failures.some((f) => f.includes('ahead of true time'))).toBe(true);
  });

  it('a frozen majority stops the quorum clock: no gated release, the rest of the log goes on', {
    timeout: 120_000,
  }, () => {
    for (let s = 1; s <= 10; s++) {
      const opts = scriptedOptions(s, 3);
      const sim = new Sim({ ...opts, clock: { rates: [0, 0, 1], gate: GATE, checkHonest: true } });
      const leader = settle(sim);
      sim.submit({ op: 'deposit', target: 2 }, leader);
      sim.runSteps(20);
      sim.submit({ op: 'claim', target: 2 }, sim.leaderId());
      sim.runSteps(200);
      sim.submit({ op: 'release', target: 2 }, sim.leaderId());
      sim.runSteps(20);
      expect(sim.isAcked()).toBe(true); // commands still commit
      expect(sim.replies.at(-1)).toBe('script/3:early');
      expect(sim.stats.times).toBe(0);
    }
  });

  it('an honest cluster releases a gated claim only once the gate has passed', () => {
    const sim = new Sim({
      ...scriptedOptions(7, 3),
      clock: { rates: [1, 1, 1], gate: GATE, checkHonest: true },
    });
    settle(sim);
    sim.submit({ op: 'deposit', target: 2 });
    sim.runSteps(20);
    sim.submit({ op: 'claim', target: 2 });
    sim.runSteps(10);
    sim.submit({ op: 'release', target: 2 });
    sim.runSteps(10);
    expect(sim.replies.at(-1)).toBe('script/3:early');
    sim.runSteps(GATE);
    sim.submit({ op: 'release', target: 2 });
    sim.runSteps(10);
    expect(sim.replies.at(-1)).toBe('script/4:released');
  });
});
