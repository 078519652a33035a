import { describe, expect, it } from 'vitest';
import { defaultLimits, Harness, walletKeys } from '../machine/harness.test-support.ts';
import { codeOf } from './code-of.test-support.ts';
import { depositBytes, MAX_POLICY_DELAY_SECONDS } from './messages.ts';
import {
  depositToJson,
  parseDeposit,
  parseTenantRegistration,
  tenantRegistrationToJson,
} from './wire.ts';

/** Policy kinds on the wire: strict by default, clock-gated with a delay; bad input has a code. */
describe('policy kinds on the wire', () => {
  const h = new Harness();
  const deposit = depositToJson(h.depositCommand(walletKeys(1)));
  const withPolicy = (policy: unknown) => ({ ...deposit, policy });
  const command = h.registerCommand('acme', defaultLimits);
  if (command.type !== 'registerTenant') throw new Error('not a registration');
  const reg = tenantRegistrationToJson(command.registration);
  const withKinds = (kinds: unknown) => ({ ...reg, limits: { ...reg.limits, kinds } });

  it('reads strict (absent or named) and clock-gated policies, one shape each', () => {
    const p = { group: 'rsa2048', iterations: 64 };
    expect(parseDeposit(withPolicy(p)).policy).toEqual(p);
    expect(parseDeposit(withPolicy({ ...p, kind: 'strict' })).policy).toEqual(p);
    const gated = { ...p, kind: 'clock-gated', delaySeconds: 604_800 };
    expect(parseDeposit(withPolicy(gated)).policy).toEqual(gated);
  });

  it('refuses an unknown kind, a delay out of range or misplaced, with stable codes', () => {
    const p = { group: 'rsa2048', iterations: 64 };
    const gated = (delaySeconds: unknown) =>
      withPolicy({ ...p, kind: 'clock-gated', delaySeconds });
    expect(codeOf(() => parseDeposit(withPolicy({ ...p, kind: 'lenient' })))).toBe(
      'POLICY_KIND_UNKNOWN',
    );
    expect(codeOf(() => parseDeposit(withPolicy({ ...p, kind: 7 })))).toBe('POLICY_KIND_UNKNOWN');
    expect(codeOf(() => parseDeposit(gated(0)))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => parseDeposit(gated(MAX_POLICY_DELAY_SECONDS + 1)))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => parseDeposit(gated(1.5)))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => parseDeposit(withPolicy({ ...p, kind: 'clock-gated' })))).toBe('MALFORMED');
    expect(codeOf(() => parseDeposit(withPolicy({ ...p, delaySeconds: 60 })))).toBe('MALFORMED');
  });

  it('tenant limits list offered kinds sorted; strict-only is the default shape', () => {
    expect(parseTenantRegistration(withKinds(['strict'])).limits.kinds).toBeUndefined();
    expect(parseTenantRegistration(withKinds(['clock-gated', 'strict'])).limits.kinds).toEqual([
      'clock-gated',
      'strict',
    ]);
    expect(codeOf(() => parseTenantRegistration(withKinds(['strict', 'clock-gated'])))).toBe(
      'MALFORMED',
    );
    expect(codeOf(() => parseTenantRegistration(withKinds(['fast'])))).toBe('POLICY_KIND_UNKNOWN');
    expect(codeOf(() => parseTenantRegistration(withKinds([])))).toBe('MALFORMED');
  });

  it('the signed deposit bytes carry the kind and the delay', () => {
    const d = h.depositCommand(walletKeys(2));
    const gated = { ...d, policy: { ...d.policy, kind: 'clock-gated' as const, delaySeconds: 60 } };
    const longer = { ...gated, policy: { ...gated.policy, delaySeconds: 61 } };
    const hex = (x: typeof d) => Buffer.from(depositBytes(new Uint8Array(32), x)).toString('hex');
    expect(new Set([hex(d), hex(gated), hex(longer)]).size).toBe(3);
  });
});
