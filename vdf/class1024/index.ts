export { decodeForm, encodeForm, FORM_BYTES } from './bqfc.ts';
export { DISCRIMINANT_BITS, discriminantFromSeed } from './discriminant.ts';
export { naiveOps, nucomp, nudupl, opsFor, partialBound } from './fast.ts';
export {
  discriminantOf,
  type Form,
  formFromAB,
  formsEqual,
  generatorForm,
  identityForm,
  isReduced,
  reduce,
} from './form.ts';
export { class1024Group } from './group.ts';
export { naiveCompose, naiveSquare } from './naive.ts';
export {
  class1024Ops,
  FORM_RECORD_BYTES,
  type FormChain,
  formFromRecord,
  formToRecord,
  nativeClass1024SquareChain,
  nativeFormChain,
  nativeFormOps,
} from './native.ts';
export { classFuseFactor, nativeClassBucketSum, nativeClassBucketSums } from './native-pass.ts';
export type { FormOps } from './pow.ts';
export {
  B_BYTES,
  getB,
  MAX_DEPTH,
  MAX_ITERATIONS,
  SEGMENT_BYTES,
  verifyChiaBlob,
  verifyChiaRecord,
  verifyClass1024,
} from './verify.ts';
