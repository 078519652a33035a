import { describe, expect, it } from 'vitest';
import { chooseFounder, type RecoveryView, recoveryViewFromJson } from './hosted-recovery.ts';

const slots = ['node-1', 'node-2', 'node-3'];
const view = (
  slot: string,
  lastTerm: number,
  lastIndex: number,
  appliedIndex = 0,
): RecoveryView => ({
  slot,
  lastTerm,
  lastIndex,
  appliedIndex,
  records: 10,
  digest: 'ab'.repeat(32),
  stores: 1,
});

describe('choosing the founder of a recovered cluster', () => {
  it('takes the most up-to-date log of a majority, in Raft order', () => {
    // a longer log of an older term loses to a shorter one of a newer term
    expect(chooseFounder([view('node-1', 2, 90), view('node-2', 3, 80)], slots)).toBe('node-2');
    expect(chooseFounder([view('node-1', 3, 70), view('node-3', 3, 80)], slots)).toBe('node-3');
    // equal logs: the one that applied more, then the first slot
    expect(chooseFounder([view('node-2', 3, 80, 5), view('node-3', 3, 80, 9)], slots)).toBe(
      'node-3',
    );
    expect(chooseFounder([view('node-3', 3, 80), view('node-2', 3, 80)], slots)).toBe('node-2');
  });

  it('refuses fewer than a majority, strangers and a slot reported twice', () => {
    expect(() => chooseFounder([view('node-1', 9, 9)], slots)).toThrow(/a majority is needed/);
    expect(() => chooseFounder([view('node-1', 1, 1), view('node-9', 1, 1)], slots)).toThrow(
      /not one of the slots/,
    );
    expect(() => chooseFounder([view('node-1', 1, 1), view('node-1', 2, 2)], slots)).toThrow(
      /two views/,
    );
  });

  it('reads only a well-formed view', () => {
    const good = view('node-1', 1, 2, 3);
    expect(recoveryViewFromJson(JSON.parse(JSON.stringify(good)))).toEqual(good);
    for (const bad of [
      null,
      { ...good, digest: 'zz' },
      { ...good, lastIndex: -1 },
      { ...good, lastTerm: 1.5 },
      { ...good, slot: 7 },
    ]) {
      expect(() => recoveryViewFromJson(bad)).toThrow(/not a recovery view/);
    }
  });
});
