import { canonicalHash, u64, utf8 } from './canonical.ts';

/** Claim ids are public: they bind the cluster, epoch, log position and wallet. */
export function claimIdFor(args: {
  clusterId: Uint8Array;
  epochId: Uint8Array;
  logIndex: number;
  walletId: Uint8Array;
}): Uint8Array {
  return canonicalHash('vigil/v1/claim-id', [
    args.clusterId,
    args.epochId,
    u64(args.logIndex),
    args.walletId,
  ]);
}

/**
 * The VDF challenge seed. It mixes the volatile epoch secret with the committed claim, so nobody
 * outside the cluster can know it before the claim is committed, and it differs for every claim.
 */
export function challengeSeed(args: {
  epochSecret: Uint8Array;
  epochId: Uint8Array;
  logIndex: number;
  clusterId: Uint8Array;
  walletId: Uint8Array;
  claimId: Uint8Array;
  ephemeralKey: Uint8Array;
  claimNonce: Uint8Array;
  q1: Uint8Array;
  group: string;
  iterations: number;
}): Uint8Array {
  return canonicalHash('vigil/v1/challenge-seed', [
    args.epochSecret,
    args.epochId,
    u64(args.logIndex),
    args.clusterId,
    args.walletId,
    args.claimId,
    args.ephemeralKey,
    args.claimNonce,
    args.q1,
    utf8(args.group),
    u64(args.iterations),
  ]);
}
