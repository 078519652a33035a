/**
 * Hash commitments for commit-then-reveal: H(domain ‖ context ‖ length-prefixed items ‖ 32-byte
 * nonce). Binding comes from SHA-256 collision resistance, hiding from the random nonce.
 */
import { proofFailed } from '../errors.ts';
import { type RandomBytes, randomBytesOf } from '../random.ts';
import { type ProofContext, proofTranscript } from './context.ts';

export interface Opening {
  readonly items: readonly Uint8Array[];
  readonly nonce: Uint8Array;
}

export function commitmentOf(ctx: ProofContext, opening: Opening): Uint8Array {
  const t = proofTranscript('commitment', ctx);
  t.appendBytes('count', Uint8Array.of(opening.items.length));
  opening.items.forEach((item, i) => {
    t.appendBytes(`item${i}`, item);
  });
  t.appendBytes('nonce', opening.nonce);
  return t.challengeBytes('commitment', 32);
}

export function commit(
  ctx: ProofContext,
  items: readonly Uint8Array[],
  rng: RandomBytes,
): { commitment: Uint8Array; opening: Opening } {
  const opening = { items, nonce: randomBytesOf(rng, 32) };
  return { commitment: commitmentOf(ctx, opening), opening };
}

export function verifyOpening(ctx: ProofContext, commitment: Uint8Array, opening: Opening): void {
  const expected = commitmentOf(ctx, opening);
  if (expected.length !== commitment.length || !expected.every((b, i) => b === commitment[i])) {
    throw proofFailed(`the opening of the ${ctx.purpose} commitment does not match`);
  }
}
