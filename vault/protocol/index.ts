/**
 * The vault wire protocol (docs/protocol.md): shared by the vault, the cosigner and client-lib.
 * Loading this face switches the process to the Node primitives (libsecp256k1, OpenSSL X25519):
 * every Node shell (vault, cosigner, CLI) gets them without asking. The client SDK reaches the
 * protocol through `portable.ts` instead, and keeps noble's.
 */
import { nodePrimitives } from './node-primitives.ts';
import { usePrimitives } from './primitives.ts';

usePrimitives(nodePrimitives);

export { hexSchema, objectSchema } from './json-schema.ts';
export * from './portable.ts';
export {
  capConnectionsPerAddress,
  DEFAULT_SERVER_LIMITS,
  enforceRequestDeadline,
  frameworkErrors,
  type ServerLimits,
  serverTimeouts,
} from './server-limits.ts';
