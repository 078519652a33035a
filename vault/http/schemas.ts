/**
 * JSON schemas for the OpenAPI document and a first, cheap structural check (types, lengths,
 * sizes) before any parsing. The protocol's strict parsers remain the authority on validity.
 */
import { hexSchema, objectSchema } from '../protocol/index.ts';

const hex = hexSchema;
const hexUpTo = (bytes: number) => ({
  type: 'string',
  pattern: '^([0-9a-f]{2})+$',
  maxLength: bytes * 2,
});
const tenantName = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' };
const seq = {
  type: 'integer',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description:
    "the tenant's sequence number: greater than the last one committed (else 409 STALE_SEQUENCE)",
};
const point = hex(33);
const group = { type: 'string', enum: ['rsa2048', 'class1024'] };
/** T: 1 ≤ T ≤ 2^48 on the wire; a tenant's registered limits narrow it per deposit. */
const iterations = {
  type: 'integer',
  minimum: 1,
  maximum: 2 ** 48,
  description: 'VDF squarings T, 1..2^48 (and within the tenant limits)',
};
/** Checked by the protocol parser, which names an unknown kind `POLICY_KIND_UNKNOWN`. */
const kind = {
  type: 'string',
  maxLength: 32,
  description: "'strict' (the default: T from the fastest attacker) or 'clock-gated'",
};
const delaySeconds = {
  type: 'integer',
  description: "clock-gated only: the wait on the cluster's quorum clock, 1 s to 366 days",
};
const policy = {
  type: 'object',
  required: ['group', 'iterations'],
  additionalProperties: false,
  properties: { group, iterations, kind, delaySeconds },
};
/** x2 sealed (HPKE-style): X25519 `enc`, then the 32-byte scalar + 16-byte tag = 48 bytes. */
const sealed = {
  type: 'object',
  required: ['enc', 'ciphertext'],
  additionalProperties: false,
  properties: { enc: hex(32), ciphertext: hex(48) },
};

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable error code' },
        message: { type: 'string', description: 'what is wrong (never a secret)' },
        retryAfterSeconds: {
          type: 'integer',
          minimum: 1,
          description:
            'only where the same request succeeds later (CLOCK_NOT_REACHED): whole seconds to ' +
            'wait, computed by the vault; the Retry-After header says the same',
        },
      },
    },
  },
};

export const registrationSchema = {
  type: 'object',
  required: ['tenant', 'tenantKey', 'pingKey', 'limits', 'signature'],
  additionalProperties: false,
  properties: {
    tenant: tenantName,
    tenantKey: hex(32),
    pingKey: hex(32),
    limits: {
      type: 'object',
      required: ['groups', 'minIterations', 'maxIterations', 'maxWallets', 'maxClaims'],
      additionalProperties: false,
      properties: {
        groups: { type: 'array', items: group, maxItems: 2 },
        kinds: {
          type: 'array',
          items: kind,
          maxItems: 2,
          description: "offered; absent: ['strict']",
        },
        minIterations: { type: 'integer', minimum: 1 },
        maxIterations: { type: 'integer', minimum: 1 },
        maxWallets: { type: 'integer', minimum: 0 },
        maxClaims: { type: 'integer', minimum: 0 },
      },
    },
    signature: hex(64),
  },
};

export const depositSchema = {
  type: 'object',
  required: [
    'tenant',
    'seq',
    'walletId',
    'scheme',
    'q',
    'q1',
    'q2',
    'policy',
    'share',
    'signature',
  ],
  additionalProperties: false,
  properties: {
    tenant: tenantName,
    seq,
    walletId: hex(32),
    scheme: { type: 'string', enum: ['ecdsa-2p-mult', 'additive', 'musig2'] },
    q: point,
    q1: point,
    q2: point,
    policy,
    share: sealed,
    /** ecdsa-2p-mult only (docs/protocol.md §5). */
    shareProof: hex(64),
    signature: hex(64),
  },
};

export const deletionSchema = {
  type: 'object',
  required: ['tenant', 'seq', 'walletId', 'signature'],
  additionalProperties: false,
  properties: { tenant: tenantName, seq, walletId: hex(32), signature: hex(64) },
};

export const pingSchema = {
  type: 'object',
  required: ['tenant', 'nonce', 'signature'],
  additionalProperties: false,
  properties: { tenant: tenantName, nonce: hex(32), signature: hex(64) },
};

export const claimSchema = {
  type: 'object',
  required: ['walletId', 'ephemeralKey', 'claimNonce', 'proof'],
  additionalProperties: false,
  properties: {
    walletId: hex(32),
    ephemeralKey: hex(32),
    claimNonce: hex(32),
    proof: {
      type: 'object',
      required: ['r', 's'],
      additionalProperties: false,
      properties: { r: point, s: hex(32) },
    },
  },
};

/** y and π: 256-byte rsa2048 elements, or 100-byte class1024 forms with n-Wesolowski segments. */
export const solutionSchema = {
  type: 'object',
  required: ['y', 'proof'],
  additionalProperties: false,
  properties: { y: hexUpTo(256), proof: hexUpTo(100 + 64 * 141) },
};

export const walletIdParams = {
  type: 'object',
  required: ['walletId'],
  properties: { walletId: hex(32) },
};

export const claimIdParams = {
  type: 'object',
  required: ['claimId'],
  properties: { claimId: hex(32) },
};

export const tenantParams = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: tenantName },
};

/** `GET /v1/cluster/members`: who is in the cluster and who leads, for clients that fail over. */
export const clusterMembersSchema = {
  type: 'object',
  required: ['members', 'leaderUrl'],
  additionalProperties: false,
  properties: {
    members: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'url', 'voter'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          url: { type: 'string', description: "the member's HTTP API" },
          voter: { type: 'boolean', description: 'false while it is a learner catching up' },
        },
      },
    },
    leaderUrl: {
      type: ['string', 'null'],
      description: "the leader's HTTP API as this node knows it, or null while none is known",
    },
  },
};

// ── responses ─────────────────────────────────────────────────────────────────
// These schemas document the bodies the views build (views.ts, protocol/wire.ts); the app
// serializes bodies with JSON.stringify, so a schema can never drop or coerce a field, and
// test/api-contract.test.ts checks real responses against them.

const logIndex = {
  type: 'integer',
  minimum: 0,
  description: 'the Raft log index of the entry that committed it',
};
const millis = { type: 'integer', description: 'Unix time in milliseconds' };
const object = objectSchema;
const policyOut = object(['group', 'iterations'], { group, iterations, kind, delaySeconds });
const sealedOut = object(['enc', 'ciphertext'], { enc: hex(32), ciphertext: hex(48) });

export const receiptSchema = object(
  [
    'tenant',
    'walletId',
    'scheme',
    'q',
    'q1',
    'q2',
    'policy',
    'logIndex',
    'shareDigest',
    'signature',
  ],
  {
    tenant: tenantName,
    walletId: hex(32),
    scheme: { type: 'string', enum: ['ecdsa-2p-mult', 'additive', 'musig2'] },
    q: point,
    q1: point,
    q2: point,
    policy: policyOut,
    logIndex,
    shareDigest: hex(32),
    signature: { ...hex(64), description: "BIP-340 by the cluster's receipt key (protocol.md)" },
  },
  'the deposit receipt, signed by the cluster (docs/protocol.md)',
);

export const releaseSchema = object(
  ['claimId', 'walletId', 'share'],
  { claimId: hex(32), walletId: hex(32), share: sealedOut },
  "x2 sealed to the claim's ephemeral key, bound to the claim transcript",
);

export const claimViewSchema = object(
  [
    'claimId',
    'walletId',
    'ephemeralKey',
    'group',
    'iterations',
    'seed',
    'logIndex',
    'expiresAt',
    'releaseAfter',
    'quorumTime',
    'releasableInSeconds',
    'status',
    'release',
  ],
  {
    claimId: hex(32),
    walletId: hex(32),
    ephemeralKey: hex(32),
    group,
    iterations,
    seed: {
      ...hex(32),
      description: 'the VDF challenge seed (x and, for class1024, D derive from it)',
    },
    logIndex,
    expiresAt: millis,
    releaseAfter: {
      type: ['integer', 'null'],
      description: 'clock-gated: the quorum time (ms of the epoch) a release needs; null if strict',
    },
    quorumTime: {
      type: 'integer',
      description: "the cluster's committed quorum time, ms since its epoch began",
    },
    releasableInSeconds: {
      type: ['integer', 'null'],
      minimum: 0,
      description:
        'clock-gated and live: whole seconds until quorumTime reaches releaseAfter (0: a valid ' +
        'solution releases now); null under a strict policy or once the claim is not live',
    },
    status: { type: 'string', enum: ['live', 'cancelled', 'voided', 'expired', 'released'] },
    release: { anyOf: [releaseSchema, { type: 'null' }] },
  },
);

export const walletViewSchema = object(
  ['walletId', 'tenant', 'scheme', 'q', 'q1', 'q2', 'policy', 'logIndex', 'released', 'liveClaim'],
  {
    walletId: hex(32),
    tenant: tenantName,
    scheme: receiptSchema.properties.scheme,
    q: point,
    q1: point,
    q2: point,
    policy: policyOut,
    logIndex,
    released: { type: 'boolean' },
    liveClaim: { anyOf: [claimViewSchema, { type: 'null' }] },
  },
);

export const attestationResponseSchema = object(['kind', 'insecure', 'document', 'cluster'], {
  kind: { type: 'string', enum: ['aws-nitro', 'insecure-dev'] },
  insecure: { type: 'boolean', description: 'true for the development attestation' },
  warning: { type: 'string', description: 'present when insecure' },
  document: {
    type: 'string',
    description:
      'base64: a Nitro COSE_Sign1 document (or the dev document) whose user_data is ' +
      'SHA-256 of vigil/v1/attestation/cluster-keys over clusterId, clusterEncryptionKey, receiptKey',
  },
  cluster: object(['clusterId', 'clusterEncryptionKey', 'receiptKey'], {
    clusterId: { ...hex(32), description: 'the vault cluster id, bound into every signed message' },
    clusterEncryptionKey: { ...hex(32), description: 'X25519 key deposits are sealed to' },
    receiptKey: { ...hex(32), description: 'x-only BIP-340 key that signs receipts' },
  }),
});

export const tlsAttestationResponseSchema = object(['kind', 'insecure', 'document', 'spki'], {
  kind: { type: 'string', enum: ['aws-nitro', 'insecure-dev'] },
  insecure: { type: 'boolean', description: 'true for the development attestation' },
  document: {
    type: 'string',
    description:
      'base64: a Nitro COSE_Sign1 document (or the dev document) whose user_data is SHA-256 of ' +
      'vigil/v1/attestation/tls-key over the DER SubjectPublicKeyInfo of the TLS certificate ' +
      'this node serves',
  },
  spki: {
    type: 'string',
    pattern: '^([0-9a-f]{2})+$',
    description: 'hex: that SubjectPublicKeyInfo (a client checks the one its connection saw)',
  },
});

export const nonceResponseSchema = (subject: 'tenant' | 'walletId') =>
  object([subject, 'nonce', 'expiresAt'], {
    [subject]: subject === 'tenant' ? tenantName : hex(32),
    nonce: { ...hex(32), description: 'single use; valid until expiresAt' },
    expiresAt: millis,
  });

export const pingResponseSchema = object(['tenant', 'logIndex', 'cancelledClaims'], {
  tenant: tenantName,
  logIndex,
  cancelledClaims: { type: 'array', items: hex(32), description: 'claim ids this ping cancelled' },
});

/** One error status of a route: the shared body, described by the codes it carries there. */
export const errorOf = (description: string) => ({ ...errorSchema, description });

/** A follower's answer to a write it cannot take: no body, `Location` names the leader. */
export const redirectToLeader = {
  type: 'null',
  description:
    'a follower redirects a write to the leader (Location header; 307 keeps method and body)',
};
