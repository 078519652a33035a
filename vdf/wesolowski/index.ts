export { MAX_BUCKET_BITS, MAX_CHECKPOINTS, type ProofParams, proofParams } from './params.ts';
export {
  type CheckpointReader,
  checkpointCount,
  combineRanges,
  prove,
  proveRange,
} from './prove.ts';
export { pow2Mod, verifyWesolowski } from './verify.ts';
