/**
 * The two NitroPki implementations (nitro-pki.ts) held to the same answers: on every real Nitro
 * document, and on many damaged and forged variants of their certificates, signatures and times,
 * both give the same verdict and the same error code.
 */
import { p256, p384 } from '@noble/curves/nist.js';
import { afterEach, expect, it } from 'vitest';
import { describeWithVectors } from '../../test/support/vectors.ts';
import { VaultError } from '../errors.ts';
import { codeOf } from '../protocol/code-of.test-support.ts';
import { parseBer } from './ber.ts';
import { oid, tlv } from './der-writer.ts';
import { nitroPki, useNitroPki } from './nitro-pki.ts';
import { chainOf, loadNitroSamples } from './nitro-vectors.test-support.ts';
import { verifyNitroAttestation } from './nitro-verifier.ts';
import { nodeNitroPki } from './node-nitro-pki.ts';
import { portableNitroPki } from './portable-nitro-pki.ts';
import { certificateTime, parseCertificate } from './x509.ts';

afterEach(() => useNitroPki(portableNitroPki));

type Chain = { leaf: Uint8Array; cabundle: Uint8Array[] };

/** What each implementation says of a chain at `at`: its error code, or the leaf's validity. */
function verdicts(chain: Chain, at: Date): { portable: string; node: string } {
  const run = (pki: typeof portableNitroPki) => {
    let bounds = '';
    const code = codeOf(() => {
      const leaf = pki.verifyChain(chain.leaf, chain.cabundle, at);
      bounds = ` ${leaf.notBefore}..${leaf.notAfter}`;
    });
    return code + bounds;
  };
  return { portable: run(portableNitroPki), node: run(nodeNitroPki) };
}

function expectSame(chain: Chain, at: Date, what: string): string {
  const v = verdicts(chain, at);
  expect(v.portable, what).toBe(v.node);
  return v.node.split(' ')[0]!;
}

function flipped(bytes: Uint8Array, position: number, mask: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[position]! ^= mask;
  return out;
}

/** Positions worth flipping in a certificate: its framing, spread over its body, its tail. */
function certificatePositions(length: number, spread: number): number[] {
  const positions = new Set<number>();
  for (let i = 0; i < 16; i++) positions.add(i);
  for (let i = 0; i < spread; i++) positions.add(Math.floor(((i + 0.5) * length) / spread));
  for (let i = length - 110; i < length; i += 4) positions.add(i);
  return [...positions].filter((p) => p >= 0 && p < length);
}

/** The certificate's tbsCertificate re-signed by `secretKey` (ecdsa-with-SHA384). */
function resigned(der: Uint8Array, secretKey: Uint8Array, tbs?: Uint8Array): Uint8Array {
  const cert = parseBer(der);
  const body = tbs ?? cert.children[0]!.raw;
  const signature = p384.sign(body, secretKey, { format: 'der' });
  return tlv(
    0x30,
    body,
    tlv(0x30, oid('1.2.840.10045.4.3.3')),
    tlv(0x03, Uint8Array.of(0), signature),
  );
}

/** The tbsCertificate with its subjectPublicKeyInfo replaced by an EC key of our own. */
function withOwnKey(der: Uint8Array, publicKey: Uint8Array, curve = '1.3.132.0.34'): Uint8Array {
  const tbs = parseBer(der).children[0]!;
  const spki = tlv(
    0x30,
    tlv(0x30, oid('1.2.840.10045.2.1'), oid(curve)),
    tlv(0x03, Uint8Array.of(0), publicKey),
  );
  const fields = tbs.children.map((field, i) => (i === 6 ? spki : field.raw));
  return tlv(0x30, ...fields);
}

describeWithVectors('nitro', 'NitroPki: portable (DER + noble p384) and OpenSSL agree', () => {
  const samples = loadNitroSamples();

  it('the Node face installs OpenSSL; the portable one is the default', async () => {
    expect(nitroPki()).toBe(portableNitroPki);
    await import('./index.ts');
    expect(nitroPki()).toBe(nodeNitroPki);
  });

  it('both accept every real document, with the same leaf validity and the same document verdict', () => {
    for (const s of samples) {
      const at = new Date(s.timestamp);
      expect(expectSame(chainOf(s.doc), at, s.name)).toBe('NO_ERROR');
      for (const pki of [portableNitroPki, nodeNitroPki]) {
        useNitroPki(pki);
        const result = verifyNitroAttestation(s.doc, { at, allowDebug: true });
        expect(result.timestamp.getTime()).toBe(s.timestamp);
      }
    }
  });

  it('agree at and around every certificate validity bound, and long before and after', () => {
    const s = samples[1]!;
    const chain = chainOf(s.doc);
    const codes = new Set<string>();
    const bounds = [...chain.cabundle, chain.leaf].flatMap((der) => {
      const cert = parseCertificate(der, 'certificate');
      return [certificateTime(cert.notBefore), certificateTime(cert.notAfter)];
    });
    for (const t of [...bounds, 0, Date.parse('2019-10-28T13:28:04Z'), Date.parse('2100-01-01')]) {
      for (const d of [-1000, -1, 0, 1, 1000]) {
        codes.add(expectSame(chain, new Date(t + d), `at ${t} + ${d} ms`));
      }
    }
    expect([...codes].sort()).toEqual([
      'ATTESTATION_EXPIRED',
      'ATTESTATION_NOT_YET_VALID',
      'NO_ERROR',
    ]);
  });

  it('agree on bit flips throughout every certificate of a real chain', {
    timeout: 120_000,
  }, () => {
    const s = samples[0]!;
    const chain = chainOf(s.doc);
    const at = new Date(s.timestamp);
    const seen = new Map<string, number>();
    const count = (code: string) => seen.set(code, (seen.get(code) ?? 0) + 1);
    chain.cabundle.forEach((der, k) => {
      for (const p of certificatePositions(der.length, k === 0 ? 4 : 24)) {
        const cabundle = chain.cabundle.map((c, i) => (i === k ? flipped(c, p, 0x01) : c));
        count(expectSame({ ...chain, cabundle }, at, `cabundle[${k}] byte ${p}`));
      }
    });
    for (const p of certificatePositions(chain.leaf.length, 48)) {
      for (const mask of [0x01, 0x80, 1 << (p % 8)]) {
        count(
          expectSame(
            { ...chain, leaf: flipped(chain.leaf, p, mask) },
            at,
            `leaf byte ${p} ^ ${mask}`,
          ),
        );
      }
    }
    expect(seen.get('NO_ERROR')).toBeUndefined();
    expect(seen.get('ATTESTATION_UNTRUSTED_ROOT')).toBeGreaterThan(0);
    expect(seen.get('ATTESTATION_BAD_CHAIN')).toBeGreaterThan(50);
    expect(seen.get('ATTESTATION_MALFORMED')).toBeGreaterThan(10);
  });

  it('agree on truncated certificates and chains', () => {
    const s = samples[3]!;
    const chain = chainOf(s.doc);
    const at = new Date(s.timestamp);
    for (const length of [0, 1, 2, 4, 100, chain.leaf.length - 1]) {
      expectSame({ ...chain, leaf: chain.leaf.subarray(0, length) }, at, `leaf cut at ${length}`);
    }
    expectSame(
      { ...chain, leaf: Uint8Array.of(...chain.leaf, 0) },
      at,
      'leaf with a byte after it',
    );
    for (let drop = 1; drop < chain.cabundle.length; drop++) {
      const cabundle = chain.cabundle.filter((_, i) => i !== drop);
      expect(expectSame({ ...chain, cabundle }, at, `without cabundle[${drop}]`)).toBe(
        'ATTESTATION_BAD_CHAIN',
      );
    }
    const leafAsCa = { leaf: chain.cabundle[3]!, cabundle: chain.cabundle.slice(0, 3) };
    expect(expectSame(leafAsCa, at, 'an intermediate as the leaf')).toBe('ATTESTATION_BAD_CHAIN');
    expect(expectSame({ leaf: chain.leaf, cabundle: [] }, at, 'no cabundle')).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('agree on certificates re-signed by another key', () => {
    const s = samples[2]!;
    const chain = chainOf(s.doc);
    const at = new Date(s.timestamp);
    const secretKey = p384.utils.randomSecretKey();
    const ownKey = p384.getPublicKey(secretKey, false);
    // the leaf as it is, signed by a stranger
    expect(expectSame({ ...chain, leaf: resigned(chain.leaf, secretKey) }, at, 'leaf')).toBe(
      'ATTESTATION_BAD_CHAIN',
    );
    // an intermediate carrying the stranger's key, signing an honest-looking leaf
    const last = chain.cabundle.length - 1;
    const forgedCa = resigned(
      chain.cabundle[last]!,
      secretKey,
      withOwnKey(chain.cabundle[last]!, ownKey),
    );
    const cabundle = [...chain.cabundle.slice(0, last), forgedCa];
    const forgedLeaf = resigned(chain.leaf, secretKey);
    expect(expectSame({ leaf: forgedLeaf, cabundle }, at, 'forged intermediate')).toBe(
      'ATTESTATION_BAD_CHAIN',
    );
    // a re-encoding with a non-minimal length: not DER
    const cert = parseBer(chain.leaf);
    const body = Uint8Array.from([...cert.children].flatMap((c) => [...c.raw]));
    const longForm = Uint8Array.of(0x30, 0x83, 0, body.length >> 8, body.length & 0xff, ...body);
    expect(expectSame({ ...chain, leaf: longForm }, at, 'leaf with a non-minimal length')).toBe(
      'ATTESTATION_MALFORMED',
    );
    // a leaf with a P-256 key, and one with a point that is on no curve
    const p256Key = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    const p256Leaf = resigned(
      chain.leaf,
      secretKey,
      withOwnKey(chain.leaf, p256Key, '1.2.840.10045.3.1.7'),
    );
    expect(expectSame({ ...chain, leaf: p256Leaf }, at, 'P-256 leaf')).toBe(
      'ATTESTATION_BAD_CHAIN',
    );
    const offCurve = Uint8Array.from(ownKey);
    offCurve[96]! ^= 1;
    const offLeaf = resigned(chain.leaf, secretKey, withOwnKey(chain.leaf, offCurve));
    expect(expectSame({ ...chain, leaf: offLeaf }, at, 'point off the curve')).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('agree on bit flips in whole documents, signatures included', { timeout: 120_000 }, () => {
    for (const s of [samples[1]!, samples[4]!]) {
      const n = s.doc.length;
      const positions = new Set<number>();
      for (let i = 0; i < 12; i++) positions.add(i);
      for (let i = n - 100; i < n; i += 3) positions.add(i);
      for (let i = 0; i < 16; i++) positions.add(Math.floor(((i + 0.5) * n) / 16));
      for (const p of positions) {
        const doc = flipped(s.doc, p, 0x02);
        const codes = [portableNitroPki, nodeNitroPki].map((pki) => {
          useNitroPki(pki);
          return codeOf(() =>
            verifyNitroAttestation(doc, { at: new Date(s.timestamp), allowDebug: true }),
          );
        });
        expect(codes[0], `${s.name} byte ${p}`).toBe(codes[1]);
        expect(codes[0]).not.toBe('NO_ERROR');
      }
    }
  });

  it('never lets anything but a VaultError escape', () => {
    expect(() =>
      portableNitroPki.verifyChain(new Uint8Array(3), [new Uint8Array(0)], new Date()),
    ).toThrow(VaultError);
  });
});
