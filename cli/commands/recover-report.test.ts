import { afterEach, describe, expect, it, vi } from 'vitest';
import { recoveryReporter } from './recover-report.ts';

afterEach(() => vi.useRealTimers());

describe("vigil recover's report", () => {
  it('says a clock-gated wait once, then at most every ten minutes, not at every resubmission', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as never;
    const report = recoveryReporter({
      bar: { update: () => {}, finish: () => {} },
      stream,
      watchSeconds: 30,
    });
    report({ type: 'waiting-for-delay', seconds: 7 * 86_400 });
    for (let i = 0; i < 19; i++) {
      vi.advanceTimersByTime(30_000);
      report({ type: 'waiting-for-delay', seconds: 7 * 86_400 - 30 * (i + 1) });
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/solved before the policy's delay .* to go; the solution is saved/);
    vi.advanceTimersByTime(30_000); // ten minutes after the first
    report({ type: 'waiting-for-delay', seconds: 7 * 86_400 - 600 });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^still waiting for the delay: .* to go\n$/);
  });
});
