/**
 * JSON schemas for the OpenAPI document and a first, cheap structural check (types, lengths,
 * sizes) before any parsing. The protocol's strict parsers remain the authority on validity.
 */
const hex = (bytes: number) => ({
  type: 'string',
  pattern: `^[0-9a-f]{${bytes * 2}}$`,
  description: `${bytes} bytes, lowercase hex`,
});
const hexUpTo = (bytes: number) => ({
  type: 'string',
  pattern: '^([0-9a-f]{2})+$',
  maxLength: bytes * 2,
});
const tenantName = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' };
const seq = { type: 'integer', minimum: 1 };
const point = hex(33);
const group = { type: 'string', enum: ['rsa2048', 'class1024'] };
const policy = {
  type: 'object',
  required: ['group', 'iterations'],
  additionalProperties: false,
  properties: { group, iterations: { type: 'integer', minimum: 1 } },
};
const sealed = {
  type: 'object',
  required: ['enc', 'ciphertext'],
  additionalProperties: false,
  properties: { enc: hex(32), ciphertext: hexUpTo(64) },
};

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
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
  properties: {
    members: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'url', 'voter'],
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
