import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { clockNotReached } from '../machine/index.ts';
import { decodeReply, encodeReply } from './codec.ts';

/** A rejection travels from apply to the proposer as reply bytes (state.ts → member.ts). */
function roundTrip(error: VaultError): VaultError {
  const reply = decodeReply(encodeReply({ ok: false, error }));
  if (reply.ok) throw new Error('expected a rejection');
  return reply.error;
}

describe('replicated replies', () => {
  it("a rejection keeps its retryAfterSeconds through the reply bytes (CLOCK_NOT_REACHED's wait)", () => {
    const back = roundTrip(clockNotReached(42));
    expect(back).toBeInstanceOf(VaultError);
    expect([back.code, back.status, back.retryAfterSeconds]).toEqual([
      'CLOCK_NOT_REACHED',
      409,
      42,
    ]);
    expect(back.message).toContain('42 s to go');
  });

  it('a rejection without one gets none', () => {
    const back = roundTrip(new VaultError('CLAIM_NOT_LIVE', 'the claim is cancelled', 409));
    expect([back.code, back.status, back.retryAfterSeconds]).toEqual([
      'CLAIM_NOT_LIVE',
      409,
      undefined,
    ]);
  });
});
