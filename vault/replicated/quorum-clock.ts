/**
 * The shell's half of the quorum clock (docs/cluster.md §Quorum clock; the core's half is
 * `Raft.setClock`, `quorumClock` and the admission hook, docs/raft.md §Admission).
 *
 * Each node keeps a reading on its own monotonic clock, volatile like the epoch, and raised to
 * every committed quorum time it learns (a new member, a node whose clock ran slow). The leader
 * proposes a `time` entry at most at the reading a majority has reported; a node admits one only
 * if its own reading has reached it. So a committed quorum time is one that a majority of the
 * nodes' clocks reached, and a fast or frozen clock on a minority moves it neither way.
 */
import type { Entry } from '../../cluster/index.ts';
import { timeEntryReading } from './codec.ts';

/**
 * How far beyond its own reading a node admits a `time` entry: none. The leader proposes only
 * what a majority already reported reaching, and readings never go back, so an honest majority
 * admits at once; a tolerance would let a fast leader drag the clock on by that much every step,
 * because every node raises its reading to each committed time.
 */
export const ADMISSION_TOLERANCE_MS = 0;
/** The leader proposes a new reading once the majority's is this far past the committed one. */
export const TIME_STEP_MS = 1_000;

export class ClockReading {
  readonly #monotonic: () => number;
  #offset = 0;

  constructor(monotonic: () => number = () => performance.now()) {
    this.#monotonic = monotonic;
  }

  /** ms, never decreasing. */
  now(): number {
    return Math.max(0, Math.floor(this.#monotonic() + this.#offset));
  }

  /** A committed quorum time: a majority reached it, so this node's reading moves up to it. */
  adopt(committed: number): void {
    const behind = committed - this.now();
    if (behind > 0) this.#offset += behind;
  }
}

/** The admission hook: a `time` entry beyond this node's reading is refused (for now). */
export function admitTimeEntries(reading: () => number): (e: Entry) => boolean {
  return (e) => {
    if (e.type !== 'normal') return true;
    const t = timeEntryReading(e.data);
    return t === null || t <= reading() + ADMISSION_TOLERANCE_MS;
  };
}

/**
 * How far below the majority's reading the leader may stay to propose a reading every voter has
 * reached. A voter whose clock runs a few ms behind refuses a reading beyond it, and its appends
 * are cut there (every entry behind the time entry waits for its next tick and the leader's
 * resend), which under a steady stream of writes disturbed its replication about once a second.
 * The lag this costs is bounded by the slack and does not accumulate: each proposal is within it
 * of the majority's reading.
 */
export const UNANIMITY_SLACK_MS = 250;

/**
 * What the leader proposes next, given the majority's reading, the committed quorum time and the
 * lowest reading any voter reported: a step past the committed time, at the lowest reading when
 * every voter is within the slack of the majority's (no refusal anywhere), else at the majority's
 * (a slow or frozen minority neither holds it back nor drags it).
 */
export function nextQuorumTime(
  majorityReading: number,
  committed: number,
  lowestReading: number = majorityReading,
): number | null {
  if (majorityReading < committed + TIME_STEP_MS) return null;
  const unanimous =
    lowestReading > committed && majorityReading - lowestReading <= UNANIMITY_SLACK_MS;
  return unanimous ? lowestReading : majorityReading;
}
