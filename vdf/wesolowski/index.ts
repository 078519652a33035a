export {
  fuseFactor,
  MAX_BUCKET_BITS,
  MAX_CHECKPOINTS,
  modelledCost,
  type ProofParams,
  proofParams,
} from './params.ts';
export {
  type BucketSum,
  bucketSum,
  type CheckpointReader,
  checkpointCount,
  combineRanges,
  type PassPlan,
  passPlan,
  prove,
  proveRange,
} from './prove.ts';
export { pow2Mod, verifyWesolowski } from './verify.ts';
