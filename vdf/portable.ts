/**
 * The VDF module's portable face, for clients that run outside Node (browsers, React Native) as
 * well as in it: the verifier of both groups, what a seed gives (the input x, class1024's
 * discriminant), and the proof file. BigInt and TypeScript only: no native addon, no node:*
 * module, no worker. The client SDK reaches the VDF only through this file (docs/sdk.md), and a
 * test bundles the SDK for the browser to hold it to that.
 *
 * `index.ts` remains the full face and exports all of this too; in a Node process that loads it,
 * the same functions run on OpenSSL and the native addon (accelerators.ts), with the same answers.
 */
export { deriveInput, groupParameter } from './challenge.ts';
export { VdfError, type VdfErrorCode } from './errors.ts';
export type { GroupName } from './group.ts';
export { GROUP_NAMES, isGroupName } from './groups.ts';
export { MAX_ITERATIONS, MAX_SEED_BYTES } from './limits.ts';
export {
  encodeProofFile,
  MAX_PROOF_FILE_BYTES,
  parseProofFile,
  type VdfProofRecord,
} from './proof-file.ts';
export { N as RSA2048_N } from './rsa2048/modulus.ts';
export { type VerifyOutcome, verifyProof } from './verify.ts';
