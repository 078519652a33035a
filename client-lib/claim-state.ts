/**
 * The claim state, encrypted with the wallet password (never in plaintext: it holds the ephemeral
 * secret key the release is sealed to). It is kept before the claim is sent, so a crash at any
 * moment leaves either nothing or a state that resumes the same claim. claim-state-file.ts keeps
 * it on disk.
 */
import { parseHex, parseRelease, type Release, releaseToJson, toHex } from '../vault/portable.ts';
import { openEnvelope, type ScryptParams, sealEnvelope } from './envelope.ts';
import { ClientError } from './errors.ts';
import type { RandomBytes } from './random.ts';

export interface CommittedClaim {
  claimId: Uint8Array;
  seed: Uint8Array;
  group: 'rsa2048' | 'class1024';
  iterations: number;
  logIndex: number;
}

export interface ClaimState {
  walletId: Uint8Array;
  ephemeralSecretKey: Uint8Array;
  ephemeralKey: Uint8Array;
  /** Null until the vault committed the claim. */
  claim: CommittedClaim | null;
  /** The sealed release, once the vault returned it: from then on nothing needs the network. */
  release: Release | null;
}

function toJson(s: ClaimState) {
  return {
    walletId: toHex(s.walletId),
    ephemeralSecretKey: toHex(s.ephemeralSecretKey),
    ephemeralKey: toHex(s.ephemeralKey),
    claim: s.claim
      ? {
          claimId: toHex(s.claim.claimId),
          seed: toHex(s.claim.seed),
          group: s.claim.group,
          iterations: s.claim.iterations,
          logIndex: s.claim.logIndex,
        }
      : null,
    release: s.release ? releaseToJson(s.release) : null,
  };
}

function fromJson(v: unknown): ClaimState {
  try {
    const o = v as Record<string, unknown>;
    const c = o.claim as Record<string, unknown> | null;
    if (c !== null && c.group !== 'rsa2048' && c.group !== 'class1024') throw new Error('group');
    if (c !== null && (!Number.isSafeInteger(c.iterations) || !Number.isSafeInteger(c.logIndex))) {
      throw new Error('numbers');
    }
    const seed = c === null ? undefined : (c.seed as string);
    return {
      walletId: parseHex('walletId', o.walletId, 32),
      ephemeralSecretKey: parseHex('ephemeralSecretKey', o.ephemeralSecretKey, 32),
      ephemeralKey: parseHex('ephemeralKey', o.ephemeralKey, 32),
      claim:
        c === null
          ? null
          : {
              claimId: parseHex('claimId', c.claimId, 32),
              seed: parseHex('seed', seed, (seed?.length ?? 0) / 2),
              group: c.group as CommittedClaim['group'],
              iterations: c.iterations as number,
              logIndex: c.logIndex as number,
            },
      release: o.release === null ? null : parseRelease(o.release),
    };
  } catch {
    throw new ClientError('CLAIM_STATE', 'the claim state file is malformed');
  }
}

/** The claim state encrypted with the wallet password, as text to keep wherever the app keeps it. */
export async function sealClaimState(
  state: ClaimState,
  password: string,
  opts: { random: RandomBytes; scrypt?: ScryptParams },
): Promise<string> {
  return sealEnvelope({
    kind: 'claim',
    payload: toJson(state),
    password,
    random: opts.random,
    ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
  });
}

export async function openClaimState(text: string, password: string): Promise<ClaimState> {
  return fromJson(await openEnvelope(text, 'claim', password));
}
