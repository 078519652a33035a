import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { codeOf } from './code-of.test-support.ts';
import {
  CURVE_ORDER,
  canonical,
  checkSchemeCombination,
  claimToJson,
  combinePublic,
  depositReceiptBytes,
  depositToJson,
  encodePoint,
  makeClaim,
  makeDeposit,
  open,
  Point,
  parseClaim,
  parseDeposit,
  parseHex,
  parsePing,
  parseSolution,
  parseTenantRegistration,
  proveShareProduct,
  scalarToBytes,
  seal,
  signMessage,
  signTenantRegistration,
  tenantRegistrationToJson,
  toHex,
  verifyClaimProof,
  verifyDepositReceipt,
  x25519PublicKey,
} from './index.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const clusterId = bytes(32, 0xc1);
const pub = (s: bigint) => encodePoint(Point.BASE.multiply(s));

describe('canonical encoding', () => {
  it('length-prefixes the tag and every field', () => {
    const out = canonical('t', [new Uint8Array([0xaa]), new Uint8Array(0)]);
    expect(toHex(out)).toBe('0000000174' + '00000001aa' + '00000000');
  });
  it('moving a byte between fields changes the encoding', () => {
    const a = canonical('t', [new Uint8Array([1, 2]), new Uint8Array([3])]);
    const b = canonical('t', [new Uint8Array([1]), new Uint8Array([2, 3])]);
    expect(toHex(a)).not.toBe(toHex(b));
  });
});

describe('strict parsing', () => {
  it('rejects uppercase, odd, short and non-string hex', () => {
    expect(codeOf(() => parseHex('f', 'AB', 1))).toBe('BAD_HEX');
    expect(codeOf(() => parseHex('f', 'abc', 1))).toBe('BAD_LENGTH');
    expect(codeOf(() => parseHex('f', 'zz', 1))).toBe('BAD_HEX');
    expect(codeOf(() => parseHex('f', 12, 1))).toBe('BAD_HEX');
    expect(parseHex('f', '0aff', 2)).toEqual(new Uint8Array([10, 255]));
  });

  const claimJson = () =>
    claimToJson(
      makeClaim({
        clusterId,
        walletId: bytes(32, 1),
        ephemeralKey: x25519PublicKey(bytes(32, 2)),
        claimNonce: bytes(32, 3),
        x1: scalarToBytes(7n),
        q1: pub(7n),
        aux: bytes(32, 4),
      }),
    );

  it('rejects points off the curve, with a bad prefix, or at infinity', () => {
    const offCurve = {
      ...claimJson(),
      proof: { ...claimJson().proof, r: `02${'00'.repeat(31)}07` },
    };
    // x = 7 is not on secp256k1 (7^3 + 7 = 350 is a non-residue mod p)
    expect(codeOf(() => parseClaim(offCurve))).toBe('BAD_POINT');
    const badPrefix = {
      ...claimJson(),
      proof: { ...claimJson().proof, r: `04${claimJson().proof.r.slice(2)}` },
    };
    expect(codeOf(() => parseClaim(badPrefix))).toBe('BAD_POINT');
    const infinity = { ...claimJson(), proof: { ...claimJson().proof, r: '00'.repeat(33) } };
    expect(codeOf(() => parseClaim(infinity))).toBe('BAD_POINT');
  });

  it('rejects zero and >= n scalars', () => {
    const zero = { ...claimJson(), proof: { ...claimJson().proof, s: '00'.repeat(32) } };
    expect(codeOf(() => parseClaim(zero))).toBe('BAD_SCALAR');
    const n = {
      ...claimJson(),
      proof: { ...claimJson().proof, s: toHex(scalarToBytes(CURVE_ORDER)) },
    };
    expect(codeOf(() => parseClaim(n))).toBe('BAD_SCALAR');
  });

  it('rejects unknown and missing fields', () => {
    expect(codeOf(() => parseClaim({ ...claimJson(), extra: 1 }))).toBe('MALFORMED');
    const { proof: _, ...missing } = claimJson();
    expect(codeOf(() => parseClaim(missing))).toBe('MALFORMED');
    expect(codeOf(() => parseClaim(null))).toBe('MALFORMED');
    expect(
      codeOf(() => parsePing({ tenant: 'A', nonce: '00'.repeat(32), signature: '00'.repeat(64) })),
    ).toBe('MALFORMED');
  });

  it('rejects mismatched VDF element sizes', () => {
    expect(
      codeOf(() =>
        parseSolution({ claimId: '00'.repeat(32), y: '00'.repeat(100), proof: '00'.repeat(256) }),
      ),
    ).toBe('BAD_LENGTH');
    expect(
      codeOf(() =>
        parseSolution({ claimId: '00'.repeat(32), y: '00'.repeat(99), proof: '00'.repeat(99) }),
      ),
    ).toBe('BAD_LENGTH');
  });
});

describe('HPKE-style sealing', () => {
  const recipient = bytes(32, 9);
  const sealed = () =>
    seal({
      purpose: 'release',
      recipientPublicKey: x25519PublicKey(recipient),
      senderSecret: bytes(32, 5),
      aad: new Uint8Array([1, 2, 3]),
      plaintext: bytes(32, 0x42),
    });

  it('opens with the right key, purpose and transcript only', () => {
    const s = sealed();
    const args = {
      purpose: 'release' as const,
      recipientSecretKey: recipient,
      enc: s.enc,
      aad: new Uint8Array([1, 2, 3]),
    };
    expect(open({ ...args, ciphertext: s.ciphertext })).toEqual(bytes(32, 0x42));
    expect(
      codeOf(() => open({ ...args, ciphertext: s.ciphertext, aad: new Uint8Array([1, 2]) })),
    ).toBe('DECRYPT_FAILED');
    expect(codeOf(() => open({ ...args, ciphertext: s.ciphertext, purpose: 'deposit' }))).toBe(
      'DECRYPT_FAILED',
    );
    expect(
      codeOf(() => open({ ...args, ciphertext: s.ciphertext, recipientSecretKey: bytes(32, 8) })),
    ).toBe('DECRYPT_FAILED');
    const flipped = s.ciphertext.slice();
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(codeOf(() => open({ ...args, ciphertext: flipped }))).toBe('DECRYPT_FAILED');
  });

  it('refuses a low-order recipient key', () => {
    expect(
      codeOf(() =>
        seal({
          purpose: 'release',
          recipientPublicKey: new Uint8Array(32),
          senderSecret: bytes(32, 5),
          aad: new Uint8Array(0),
          plaintext: bytes(32, 1),
        }),
      ),
    ).toBe('BAD_POINT');
  });
});

describe('claim proof of knowledge', () => {
  const binding = {
    clusterId,
    walletId: bytes(32, 1),
    ephemeralKey: bytes(32, 2),
    claimNonce: bytes(32, 3),
  };
  const claim = makeClaim({
    ...binding,
    x1: scalarToBytes(1234n),
    q1: pub(1234n),
    aux: bytes(32, 4),
  });

  it('verifies for its own binding and fails for any other', () => {
    expect(() => verifyClaimProof(pub(1234n), binding, claim.proof)).not.toThrow();
    for (const key of Object.keys(binding) as (keyof typeof binding)[]) {
      const other = { ...binding, [key]: bytes(32, 0xee) };
      expect(codeOf(() => verifyClaimProof(pub(1234n), other, claim.proof))).toBe(
        'BAD_CLAIM_PROOF',
      );
    }
    expect(codeOf(() => verifyClaimProof(pub(1235n), binding, claim.proof))).toBe(
      'BAD_CLAIM_PROOF',
    );
  });
});

describe('wallet schemes', () => {
  const x1 = 0x1111n;
  const x2 = 0x2222n;
  const none = new Uint8Array();
  const statement = (q: Uint8Array, walletId = bytes(32, 1)) => ({
    clusterId,
    walletId,
    q,
    q1: pub(x1),
    q2: pub(x2),
  });
  const mult = (d: ReturnType<typeof statement>, shareProof: Uint8Array) =>
    codeOf(() => checkSchemeCombination({ scheme: 'ecdsa-2p-mult', ...d, shareProof }));

  it("multiplicative: the cosigner's share proof shows Q = x2·Q1, for this wallet only", () => {
    const good = statement(pub((x1 * x2) % CURVE_ORDER));
    const proof = proveShareProduct(good, scalarToBytes(x2), bytes(32, 7));
    expect(mult(good, proof)).toBe('NO_ERROR');
    // Q is not x2·Q1: even the holder of x2 cannot prove it
    const bad = statement(pub(x1 + x2));
    expect(mult(bad, proveShareProduct(bad, scalarToBytes(x2), bytes(32, 7)))).toBe(
      'SCHEME_MISMATCH',
    );
    // a proof is bound to its wallet; a changed byte, a missing proof or zeros fail
    expect(mult(statement(good.q, bytes(32, 2)), proof)).toBe('SCHEME_MISMATCH');
    const flipped = Uint8Array.from(proof);
    flipped[40] = (flipped[40] as number) ^ 1;
    expect(mult(good, flipped)).toBe('SCHEME_MISMATCH');
    expect(mult(good, none)).toBe('SCHEME_MISMATCH');
    expect(mult(good, new Uint8Array(64))).toBe('SCHEME_MISMATCH');
  });
  it('additive: Q = Q1 + Q2', () => {
    const add = (q: Uint8Array) =>
      codeOf(() =>
        checkSchemeCombination({ scheme: 'additive', ...statement(q), shareProof: none }),
      );
    expect(add(pub(x1 + x2))).toBe('NO_ERROR');
    expect(add(pub(x1 * x2))).toBe('SCHEME_MISMATCH');
  });
  it('musig2: BIP-327 KeyAgg over the sorted keys, independent of order', () => {
    const q = combinePublic('musig2', pub(x1), pub(x2));
    expect(combinePublic('musig2', pub(x2), pub(x1))).toEqual(q);
    const agg = (q: Uint8Array) =>
      codeOf(() => checkSchemeCombination({ scheme: 'musig2', ...statement(q), shareProof: none }));
    expect(agg(q)).toBe('NO_ERROR');
    expect(agg(pub(x1 + x2))).toBe('SCHEME_MISMATCH');
  });
});

describe('signed messages and receipts', () => {
  it('round-trips a registration and a deposit through JSON', () => {
    const operator = bytes(32, 0x0a);
    const reg = signTenantRegistration(
      clusterId,
      {
        tenant: 'acme',
        tenantKey: schnorr.getPublicKey(bytes(32, 0x0b)),
        pingKey: schnorr.getPublicKey(bytes(32, 0x0c)),
        limits: {
          groups: ['class1024', 'rsa2048'],
          minIterations: 10,
          maxIterations: 1000,
          maxWallets: 5,
          maxClaims: 2,
        },
      },
      operator,
      bytes(32, 0),
    );
    expect(
      parseTenantRegistration(JSON.parse(JSON.stringify(tenantRegistrationToJson(reg)))),
    ).toEqual(reg);
    const unsorted = {
      ...tenantRegistrationToJson(reg),
      limits: { ...reg.limits, groups: ['rsa2048', 'class1024'] },
    };
    expect(codeOf(() => parseTenantRegistration(unsorted))).toBe('MALFORMED');

    const dep = makeDeposit({
      clusterId,
      clusterKey: x25519PublicKey(bytes(32, 0x0d)),
      deposit: {
        tenant: 'acme',
        seq: 1,
        walletId: bytes(32, 1),
        scheme: 'additive',
        q: pub(3n),
        q1: pub(1n),
        q2: pub(2n),
        policy: { group: 'rsa2048', iterations: 100 },
      },
      x2: scalarToBytes(2n),
      tenantSecretKey: bytes(32, 0x0b),
      senderSecret: bytes(32, 0x0e),
      aux: bytes(32, 0),
    });
    expect(parseDeposit(JSON.parse(JSON.stringify(depositToJson(dep))))).toEqual(dep);
    expect(depositToJson(dep)).not.toHaveProperty('shareProof');

    // a multiplicative deposit carries the share proof, and only it does
    const mult = makeDeposit({
      clusterId,
      clusterKey: x25519PublicKey(bytes(32, 0x0d)),
      deposit: { ...dep, scheme: 'ecdsa-2p-mult', q: pub(2n) },
      x2: scalarToBytes(2n),
      tenantSecretKey: bytes(32, 0x0b),
      senderSecret: bytes(32, 0x0e),
      aux: bytes(32, 0),
    });
    expect(mult.shareProof.length).toBe(64);
    const multJson = JSON.parse(JSON.stringify(depositToJson(mult)));
    expect(parseDeposit(multJson)).toEqual(mult);
    const { shareProof: _, ...withoutProof } = multJson;
    expect(codeOf(() => parseDeposit(withoutProof))).toBe('MALFORMED');
    const additiveWithProof = { ...depositToJson(dep), shareProof: multJson.shareProof };
    expect(codeOf(() => parseDeposit(additiveWithProof))).toBe('MALFORMED');
    expect(codeOf(() => parseDeposit({ ...multJson, shareProof: 'ab' }))).toBe('BAD_LENGTH');
  });

  it('a receipt verifies only under the receipt key and for the expected wallet', () => {
    const receiptSecret = bytes(32, 0x21);
    const unsigned = {
      tenant: 'acme',
      walletId: bytes(32, 1),
      scheme: 'additive' as const,
      q: pub(3n),
      q1: pub(1n),
      q2: pub(2n),
      policy: { group: 'rsa2048' as const, iterations: 100 },
      logIndex: 7,
      shareDigest: bytes(32, 5),
    };
    const receipt = {
      ...unsigned,
      signature: signMessage(depositReceiptBytes(clusterId, unsigned), receiptSecret, bytes(32, 0)),
    };
    const receiptKey = schnorr.getPublicKey(receiptSecret);
    expect(verifyDepositReceipt({ clusterId, receiptKey, receipt, expected: unsigned })).toBe(true);
    expect(
      verifyDepositReceipt({
        clusterId,
        receiptKey,
        receipt,
        expected: { ...unsigned, q2: pub(4n) },
      }),
    ).toBe(false);
    expect(
      verifyDepositReceipt({
        clusterId,
        receiptKey,
        receipt,
        expected: { ...unsigned, policy: { group: 'rsa2048', iterations: 99 } },
      }),
    ).toBe(false);
    expect(
      verifyDepositReceipt({ clusterId: bytes(32, 2), receiptKey, receipt, expected: unsigned }),
    ).toBe(false);
    expect(
      verifyDepositReceipt({
        clusterId,
        receiptKey: schnorr.getPublicKey(bytes(32, 0x22)),
        receipt,
        expected: unsigned,
      }),
    ).toBe(false);
  });
});
