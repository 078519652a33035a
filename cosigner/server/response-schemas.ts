/**
 * What the cosigner's routes answer (OpenAPI): each route's success body and the error statuses
 * it answers with, with the codes each carries there (http-errors.ts maps codes to statuses).
 * Bodies are sent as the service builds them (the app serializes with JSON.stringify), so these
 * schemas document and never strip. The two-party protocol messages are described in
 * docs/two-party-ecdsa.md, not field by field here.
 */
import { hexSchema, objectSchema } from '../../vault/protocol/index.ts';

const hex = hexSchema;
const object = objectSchema;

export const errorSchema = object(['error'], {
  error: object(['code', 'message'], {
    code: { type: 'string', description: 'stable error code (COSIGNER_…)' },
    message: { type: 'string', description: 'what is wrong (never a secret)' },
  }),
});
const errorOf = (description: string) => ({ ...errorSchema, description });

const policy = object(['group', 'iterations'], {
  group: { type: 'string', enum: ['rsa2048', 'class1024'] },
  iterations: { type: 'integer', minimum: 1, maximum: 2 ** 48 },
  kind: { type: 'string', enum: ['strict', 'clock-gated'] },
  delaySeconds: { type: 'integer', minimum: 1 },
});

const keyState = object(
  ['q', 'q1', 'q2', 'chainCode', 'generation', 'vault'],
  {
    q: hex(33, 'the joint public key Q'),
    q1: hex(33, "the client's public share"),
    q2: hex(33, "the server's public share"),
    chainCode: hex(32, 'BIP-32 chain code (MuSig2 wallets: BIP-328’s fixed one)'),
    generation: { type: 'integer', minimum: 0, description: 'bumped by every key refresh' },
    vault: object(
      ['vaultWalletId', 'vaultUrl', 'receipt', 'cluster', 'attestationKind'],
      {
        vaultWalletId: hex(32, 'the vault wallet id of this share generation'),
        vaultUrl: { type: 'string' },
        receipt: {
          type: 'object',
          description: "the vault's deposit receipt, as the vault's JSON (docs/api/vault.md)",
        },
        cluster: object(['clusterId', 'clusterEncryptionKey', 'receiptKey'], {
          clusterId: hex(32, 'the vault cluster id'),
          clusterEncryptionKey: hex(32),
          receiptKey: hex(32),
        }),
        attestationKind: { type: 'string', enum: ['aws-nitro', 'insecure-dev'] },
      },
      "where the server's share lives in the vault",
    ),
  },
  'the wallet key: what the client needs to verify its backup and to claim',
);

/** The protocol's integers: minimal lowercase hex (no leading zeros), here below the order n. */
const wireInt = {
  type: 'string',
  pattern: '^[0-9a-f]{1,64}$',
  description: 'an integer in minimal lowercase hex (no leading zeros)',
};

const protocolMessage = (what: string) =>
  object(['message'], {
    message: { type: 'object', description: `${what} (docs/two-party-ecdsa.md)` },
  });

export const success = {
  tenant: object(['tenant', 'tenantKey', 'pingKey'], {
    tenant: { type: 'string' },
    tenantKey: hex(32, 'x-only BIP-340 key that signs deposits and deletions'),
    pingKey: hex(32, 'x-only BIP-340 key that signs pings'),
  }),
  registered: object(['walletId'], { walletId: hex(32, "the cosigner's id for the wallet") }),
  status: object(['walletId', 'scheme', 'policy', 'state', 'locked'], {
    walletId: hex(32),
    scheme: { type: 'string', enum: ['ecdsa-2p', 'musig2'] },
    policy,
    state: { type: 'string', enum: ['registered', 'active'] },
    locked: { type: 'boolean', description: 'true after a failed two-party signature' },
    key: keyState,
  }),
  audit: object(['records'], {
    records: {
      type: 'array',
      items: object(['seq', 'time', 'event', 'details', 'prev', 'hash'], {
        seq: { type: 'integer', minimum: 0 },
        time: { type: 'integer', description: 'Unix time in milliseconds' },
        event: { type: 'string' },
        details: { type: 'object' },
        prev: hex(32, 'hash of the previous record (64 zeros for the first)'),
        hash: hex(32),
      }),
    },
  }),
  keyState,
  message: protocolMessage,
  signature: object(['signature', 'publicKey'], {
    signature: object(['r', 's', 'recovery'], {
      r: wireInt,
      s: wireInt,
      recovery: { type: 'integer', enum: [0, 1] },
    }),
    publicKey: hex(33, 'the derived public key the signature verifies under'),
  }),
  musigSignature: object(['nonce', 'partialSignature'], {
    nonce: hex(66, "the server's public nonce"),
    partialSignature: hex(32),
  }),
  derived: object(['publicKey'], { publicKey: hex(33), xOnly: hex(32, 'MuSig2 only') }),
};

const AUTH = 'COSIGNER_UNAUTHORIZED (the auth signature or its counter is wrong)';
const MALFORMED = 'COSIGNER_MALFORMED (schema or parser)';

/**
 * A route's responses. Every route may answer 429 COSIGNER_RATE_LIMITED (per client address);
 * every POST 413 COSIGNER_BODY_TOO_LARGE (over 256 KiB); every wallet route is authenticated.
 */
export function responses(
  kind: { method: 'GET' | 'POST'; wallet: boolean },
  ok: Record<number, object>,
  errors: Record<number, string> = {},
): Record<number, object> {
  const all: Record<number, object> = { ...ok };
  const add = (status: number, codes: string) => {
    const before = (all[status] as { description?: string } | undefined)?.description;
    all[status] = errorOf(before ? `${before}; ${codes}` : codes);
  };
  if (kind.method === 'POST' || kind.wallet) add(400, MALFORMED);
  if (kind.wallet) {
    add(401, AUTH);
    add(404, 'COSIGNER_WALLET_NOT_FOUND');
    add(409, 'COSIGNER_REPLAYED (the auth counter did not increase)');
    add(414, 'COSIGNER_URL_TOO_LONG (an over-long path parameter)');
  }
  for (const [status, codes] of Object.entries(errors)) add(Number(status), codes);
  if (kind.method === 'POST') add(413, 'COSIGNER_BODY_TOO_LARGE');
  add(429, 'COSIGNER_RATE_LIMITED (per client address; retry later)');
  return all;
}

const VAULT_DOWN =
  'COSIGNER_VAULT_UNAVAILABLE, COSIGNER_VAULT_REJECTED, COSIGNER_ATTESTATION_FAILED (the vault deposit failed)';
export const errorsOf = {
  register: {
    400: 'COSIGNER_POLICY_REJECTED (outside the offered policies), COSIGNER_UNSUPPORTED',
    401: AUTH,
    409: 'COSIGNER_REPLAYED',
    429: 'COSIGNER_REGISTRATION_QUOTA',
    503: 'COSIGNER_WALLET_CAPACITY',
  },
  start: {
    400: 'COSIGNER_INVALID_ELEMENT, COSIGNER_PROOF_FAILED',
    409: 'COSIGNER_CONFLICT (already has a key, or the other scheme), COSIGNER_BAD_STATE',
    423: 'COSIGNER_KEY_LOCKED',
    429: 'COSIGNER_WALLET_QUOTA, COSIGNER_CLIENT_QUOTA',
    503: 'COSIGNER_POOL_EMPTY, COSIGNER_BUSY (retry later)',
  },
  finish: {
    400: 'COSIGNER_INVALID_ELEMENT, COSIGNER_PROOF_FAILED',
    404: 'COSIGNER_SESSION_NOT_FOUND',
    409: 'COSIGNER_BAD_STATE, COSIGNER_CONFLICT',
    502: VAULT_DOWN,
  },
  /** A protocol step that deposits nothing. */
  step: {
    400: 'COSIGNER_INVALID_ELEMENT, COSIGNER_PROOF_FAILED',
    404: 'COSIGNER_SESSION_NOT_FOUND',
    409: 'COSIGNER_BAD_STATE, COSIGNER_CONFLICT',
  },
  sign: {
    400: 'COSIGNER_INVALID_ELEMENT, COSIGNER_PROOF_FAILED',
    404: 'COSIGNER_SESSION_NOT_FOUND',
    409: 'COSIGNER_CONFLICT (no key yet), COSIGNER_BAD_STATE',
    422: 'COSIGNER_SIGNATURE_FAILED (the two-party signature did not verify: the key locks)',
    423: 'COSIGNER_KEY_LOCKED',
  },
  derive: { 409: 'COSIGNER_CONFLICT (no key yet)' },
};
