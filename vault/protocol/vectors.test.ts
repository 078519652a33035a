import { readFileSync } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { open } from './hpke.ts';
import { verifyClaimProof } from './pok.ts';
import { verifyShareProduct } from './share-proof.ts';
import { computeVector, defaultVectors, type Vector } from './vectors.test-support.ts';

/** The digest BIP-340 signs (docs/protocol.md §1), computed here with noble alone. */
const signed = (m: Uint8Array) => schnorr.utils.taggedHash('vigil/v1/signed-message', m);

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const docVectors: Vector[] = [...doc.matchAll(/```json vector\n([\s\S]*?)```/g)].map(
  (m) => JSON.parse(m[1] as string) as Vector,
);
const h = (s: unknown) => Uint8Array.from(Buffer.from(String(s), 'hex'));

describe('docs/protocol.md test vectors', () => {
  it('the doc lists every vector the code generates, unchanged', () => {
    expect(docVectors).toEqual(defaultVectors());
  });

  it.each(docVectors.map((v, i) => [`${i} ${v.name}`, v] as const))(
    '%s recomputes from its inputs',
    (_, v) => {
      expect(computeVector(v.name, v.inputs)).toEqual(v.outputs);
    },
  );

  it('the vectors are not just self-consistent: signatures verify, boxes open, proofs verify', () => {
    for (const v of docVectors) {
      const i = v.inputs;
      const o = v.outputs;
      if (v.name === 'tenant-registration') {
        expect(schnorr.verify(h(o.signature), signed(h(o.message)), h(o.operatorKey))).toBe(true);
      }
      if (v.name === 'deposit') {
        const x2 = open({
          purpose: 'deposit',
          recipientSecretKey: h(i.clusterSecretKey),
          enc: h(o.enc),
          aad: h(o.aad),
          ciphertext: h(o.ciphertext),
        });
        expect(Buffer.from(x2).toString('hex')).toBe(i.x2);
        expect(
          schnorr.verify(
            h(o.signature),
            signed(h(o.message)),
            schnorr.getPublicKey(h(i.tenantSecretKey)),
          ),
        ).toBe(true);
        const statement = {
          clusterId: h(i.clusterId),
          walletId: h(i.walletId),
          q: h(o.q),
          q1: h(o.q1),
          q2: h(o.q2),
        };
        expect(verifyShareProduct(statement, h(o.shareProof))).toBe(i.scheme === 'ecdsa-2p-mult');
      }
      if (v.name === 'receipt')
        expect(schnorr.verify(h(o.signature), signed(h(o.message)), h(o.receiptKey))).toBe(true);
      if (v.name === 'claim') {
        const binding = {
          clusterId: h(i.clusterId),
          walletId: h(i.walletId),
          ephemeralKey: h(o.ephemeralKey),
          claimNonce: h(i.claimNonce),
        };
        expect(() => verifyClaimProof(h(o.q1), binding, { r: h(o.r), s: h(o.s) })).not.toThrow();
      }
      if (v.name === 'release') {
        const x2 = open({
          purpose: 'release',
          recipientSecretKey: h(i.ephemeralSecretKey),
          enc: h(o.enc),
          aad: h(o.aad),
          ciphertext: h(o.ciphertext),
        });
        expect(Buffer.from(x2).toString('hex')).toBe(i.x2);
        expect(Buffer.from(x25519.getPublicKey(h(i.senderSecret))).toString('hex')).toBe(o.enc);
      }
    }
  });
});
