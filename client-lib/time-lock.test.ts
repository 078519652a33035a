import { describe, expect, it } from 'vitest';
import { policyFigures, policyIterations, REFERENCE_MACHINES } from './time-lock.ts';

const WEEK = 7 * 86_400;

/** The policy table's figures (docs/threat-model.md quotes them): recomputed, not restated. */
describe('policy table', () => {
  it('strict: T from the fastest attacker x2; clock-gated: T from a typical desktop', () => {
    expect(policyIterations('strict', 'rsa2048', WEEK)).toBe(Math.ceil(WEEK * 1.5e7 * 2));
    expect(policyIterations('clock-gated', 'rsa2048', WEEK)).toBe(WEEK * 721_000);
    expect(policyIterations('clock-gated', 'class1024', WEEK)).toBe(WEEK * 250_000);
  });

  it('clock-gated: honest waits about the delay, and lying clocks still leave the VDF floor', () => {
    const rsa = policyFigures('clock-gated', 'rsa2048', WEEK);
    expect(rsa.attackerFloorSeconds).toBe(WEEK);
    expect(rsa.clockLieFloorSeconds).toBeCloseTo((WEEK * 721_000) / 1.5e7, 6); // ~8.1 h
    const desktop = rsa.honest.find((m) => m.label.startsWith('desktop'))!;
    expect(desktop.seconds).toBe(WEEK); // solving takes the delay; the clock takes no longer
    const cg = policyFigures('clock-gated', 'class1024', WEEK);
    expect(cg.clockLieFloorSeconds / 86_400).toBeCloseTo((WEEK * 250_000) / 714_720 / 86_400, 6);
    // a slow machine still waits for its own solving, beyond the delay
    const slow = cg.honest.find((m) => m.rate === 5_657)!;
    expect(slow.seconds).toBeCloseTo((WEEK * 250_000) / 5_657, 6);
  });

  it('strict: the floor is T over the attacker, the honest wait T over each machine', () => {
    const here = { rate: 100_000, backend: 'test' };
    const f = policyFigures('strict', 'rsa2048', WEEK, { here });
    expect(f.attackerFloorSeconds).toBe(2 * WEEK);
    expect(f.clockLieFloorSeconds).toBe(2 * WEEK);
    expect(f.honest.map((m) => m.rate)).toEqual([
      100_000,
      ...REFERENCE_MACHINES.rsa2048.map((m) => m.rate),
    ]);
    expect(f.honest[0]!.seconds).toBe(f.iterations / 100_000);
  });
});
