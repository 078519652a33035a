import { createHash, X509Certificate } from 'node:crypto';
import { p384 } from '@noble/curves/nist.js';
import { decode, encode } from 'cborg';
import { expect, it } from 'vitest';
import { describeWithVectors, readVector, readVectorText } from '../../test/support/vectors.ts';
import { VaultError } from '../errors.ts';
import type { AttestationPolicy } from './attestation.ts';
import { sign1SigStructure } from './cose.ts';
import { MAX_DOCUMENT_BYTES } from './limits.ts';
import { AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';
import {
  embeddedDocument,
  loadNitroSamples as loadSamples,
  type NitroSample as Sample,
} from './nitro-vectors.test-support.ts';
import { NitroAttestationVerifier, verifyNitroAttestation } from './nitro-verifier.ts';

function spki(cert: X509Certificate): Uint8Array {
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

/** Re-encodes a document after editing its payload map (the signature then no longer matches). */
function withPayload(doc: Uint8Array, edit: (payload: Map<string, unknown>) => void): Uint8Array {
  const cose = decode(doc, { useMaps: true }) as [
    Uint8Array,
    Map<unknown, unknown>,
    Uint8Array,
    Uint8Array,
  ];
  const payload = decode(cose[2], { useMaps: true }) as Map<string, unknown>;
  edit(payload);
  return encode([cose[0], cose[1], encode(payload), cose[3]]);
}

describeWithVectors('nitro', 'AWS Nitro attestation verifier on real documents', () => {
  const samples = loadSamples();
  const at = (s: Sample): AttestationPolicy => ({ at: new Date(s.timestamp) });

  it('pins the same root as the published AWS Nitro Root-G1 certificate', () => {
    const root = new X509Certificate(readVectorText('nitro', 'nitro-root-g1.pem'));
    expect(createHash('sha256').update(root.raw).digest('hex')).toBe(AWS_NITRO_ROOT_G1_SHA256);
    for (const s of samples) {
      const cose = decode(s.doc, { useMaps: true }) as Uint8Array[];
      const cabundle = (decode(cose[2]!, { useMaps: true }) as Map<string, Uint8Array[]>).get(
        'cabundle',
      )!;
      expect(Buffer.from(cabundle[0]!).equals(root.raw)).toBe(true);
    }
  });

  for (const s of loadSamples()) {
    it(`${s.name}: verifies at its own timestamp`, () => {
      expect(s.doc.length).toBe(s.bytes);
      const result = verifyNitroAttestation(s.doc, { ...at(s), allowDebug: s.debug });
      expect(result.kind).toBe('aws-nitro');
      expect(result.insecure).toBe(false);
      expect(result.timestamp.getTime()).toBe(s.timestamp);
      expect(result.debug).toBe(s.debug);
      expect(result.pcrs.size).toBe(16);
      expect(result.moduleId).toMatch(/^i-[0-9a-f]{17}-enc[0-9a-f]{16}$/);
    });

    it(`${s.name}: ${s.debug ? 'rejected as a debug enclave by default' : 'accepted by the default policy'}`, () => {
      expect(codeOf(() => verifyNitroAttestation(s.doc, at(s)))).toBe(
        s.debug ? 'ATTESTATION_DEBUG_ENCLAVE' : 'ACCEPTED',
      );
    });

    it(`${s.name}: expired now and before its certificates were issued`, () => {
      expect(codeOf(() => verifyNitroAttestation(s.doc, { allowDebug: true }))).toBe(
        'ATTESTATION_EXPIRED',
      );
      expect(
        codeOf(() =>
          verifyNitroAttestation(s.doc, { at: new Date('2019-01-01'), allowDebug: true }),
        ),
      ).toBe('ATTESTATION_NOT_YET_VALID');
    });
  }

  // The NSM does not normalise s (the GA document's signature has a high s), so a verifier that
  // insists on low-S, like noble's default, would reject genuine documents: lowS must be off.
  it('the ES384 signature also verifies with an independent implementation (@noble/curves p384)', () => {
    for (const s of samples) {
      const [prot, , payload, signature] = decode(s.doc, { useMaps: true }) as Uint8Array[];
      const leafDer = (decode(payload!, { useMaps: true }) as Map<string, Uint8Array>).get(
        'certificate',
      )!;
      const point = new X509Certificate(leafDer).publicKey
        .export({ format: 'der', type: 'spki' })
        .subarray(-97);
      const signed = sign1SigStructure(prot!, payload!);
      expect(p384.verify(signature!, signed, point, { lowS: false })).toBe(true);
      const other = Uint8Array.from(signed);
      other[other.length - 1]! ^= 1;
      expect(p384.verify(signature!, other, point, { lowS: false })).toBe(false);
    }
  });

  it('rejects any flipped byte across header, payload and signature with a clear code', () => {
    const s = samples[1]!;
    const n = s.doc.length;
    const positions = new Set<number>();
    for (let i = 0; i < 24; i++) positions.add(i); // array, protected header, payload header
    for (let i = n - 110; i < n; i++) positions.add(i); // end of payload, signature header, signature
    for (let i = 0; i < 60; i++) positions.add(Math.floor((i * 7919) % n)); // spread over the payload
    const allowed = new Set([
      'ATTESTATION_MALFORMED',
      'ATTESTATION_BAD_SIGNATURE',
      'ATTESTATION_BAD_CHAIN',
      'ATTESTATION_UNTRUSTED_ROOT',
      'ATTESTATION_TOO_LARGE',
      'ATTESTATION_EXPIRED',
      'ATTESTATION_NOT_YET_VALID',
      'ATTESTATION_INVALID',
    ]);
    const seen = new Map<string, number>();
    for (const position of positions) {
      for (const mask of [0x01, 0x80]) {
        const flipped = Uint8Array.from(s.doc);
        flipped[position]! ^= mask;
        const code = codeOf(() => verifyNitroAttestation(flipped, at(s)));
        expect(allowed.has(code), `byte ${position} ^ ${mask}: ${code}`).toBe(true);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    expect(seen.get('ATTESTATION_BAD_SIGNATURE')).toBeGreaterThan(50);
    expect(seen.get('ATTESTATION_MALFORMED')).toBeGreaterThan(5);
  });

  it('rejects flipped bytes in every other real document too', () => {
    for (const s of [samples[0]!, samples[2]!, samples[3]!, samples[4]!]) {
      for (let k = 0; k < 40; k++) {
        const position =
          k < 10
            ? k
            : k < 20
              ? s.doc.length - 1 - (k - 10) * 9
              : Math.floor(((k - 20) * s.doc.length) / 20);
        const flipped = Uint8Array.from(s.doc);
        flipped[position]! ^= 0x04;
        const code = codeOf(() => verifyNitroAttestation(flipped, { ...at(s), allowDebug: true }));
        expect(code, `${s.name} byte ${position}`).toMatch(
          /^ATTESTATION_(MALFORMED|BAD_SIGNATURE|BAD_CHAIN|UNTRUSTED_ROOT|INVALID)$/,
        );
      }
    }
  });

  it('enforces expected PCRs (any subset)', () => {
    const s = samples[1]!;
    const pcr0 =
      'f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b';
    const result = verifyNitroAttestation(s.doc, { ...at(s), expectedPcrs: { 0: pcr0 } });
    const pcr8 = result.pcrs.get(8)!;
    expect(Buffer.from(pcr8).toString('hex')).toMatch(/^8790eb3c.*210201cb$/);
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedPcrs: { 0: pcr0, 8: pcr8 } })),
    ).toBe('ACCEPTED');
    const wrong = `${pcr0.slice(0, -1)}c`;
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedPcrs: { 0: wrong } })),
    ).toBe('ATTESTATION_PCR_MISMATCH');
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedPcrs: { 20: pcr0 } })),
    ).toBe('ATTESTATION_PCR_MISMATCH');
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedPcrs: { 0: 'abcd' } })),
    ).toBe('ATTESTATION_POLICY_INVALID');
  });

  it('checks the nonce byte for byte', () => {
    const s = samples[1]!;
    const nonce = verifyNitroAttestation(s.doc, at(s)).nonce!;
    expect(nonce.length).toBe(256);
    expect(codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedNonce: nonce }))).toBe(
      'ACCEPTED',
    );
    const wrong = Uint8Array.from(nonce);
    wrong[255]! ^= 1;
    expect(codeOf(() => verifyNitroAttestation(s.doc, { ...at(s), expectedNonce: wrong }))).toBe(
      'ATTESTATION_NONCE_MISMATCH',
    );
    const beta = samples[2]!; // nonce is null there
    expect(
      codeOf(() =>
        verifyNitroAttestation(beta.doc, { ...at(beta), allowDebug: true, expectedNonce: nonce }),
      ),
    ).toBe('ATTESTATION_NONCE_MISMATCH');
  });

  it('binds public_key and user_data', () => {
    const s = samples[2]!;
    const policy = { ...at(s), allowDebug: true };
    const result = verifyNitroAttestation(s.doc, policy);
    expect(Buffer.from(result.publicKey!).toString()).toBe('my super secret key');
    expect(Buffer.from(result.userData!).toString()).toBe('hello, world!');
    const ok = {
      ...policy,
      expectedPublicKey: Buffer.from('my super secret key'),
      expectedUserData: Buffer.from('hello, world!'),
    };
    expect(codeOf(() => verifyNitroAttestation(s.doc, ok))).toBe('ACCEPTED');
    expect(
      codeOf(() =>
        verifyNitroAttestation(s.doc, { ...ok, expectedUserData: Buffer.from('hello') }),
      ),
    ).toBe('ATTESTATION_BINDING_MISMATCH');
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { ...ok, expectedPublicKey: Buffer.from('x') })),
    ).toBe('ATTESTATION_BINDING_MISMATCH');
  });

  it('binds user_data to the TLS key of the companion and the carrying certificates', () => {
    const ga = samples[0]!;
    const tls = new X509Certificate(readVector('nitro/evervault', 'valid-certificate.der'));
    const policy = { ...at(ga), allowDebug: true };
    expect(
      codeOf(() => verifyNitroAttestation(ga.doc, { ...policy, expectedUserData: spki(tls) })),
    ).toBe('ACCEPTED');
    for (const [file, timestamp] of [
      ['debug-mode-cert-containing-attestation-doc-18-1-23.pem', 1674054632312],
      ['non-debug-cert-containing-attestation-document-18-1-23.pem', 1674047239280],
    ] as const) {
      const { doc, cert } = embeddedDocument(readVectorText('nitro/evervault', file));
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
      const own = { at: new Date(timestamp), allowDebug: true, expectedUserData: spki(cert) };
      expect(codeOf(() => verifyNitroAttestation(doc, own))).toBe('ACCEPTED');
      expect(
        codeOf(() => verifyNitroAttestation(doc, { ...own, expectedUserData: spki(tls) })),
      ).toBe('ATTESTATION_BINDING_MISMATCH');
    }
  });

  it('rejects a replaced or reordered cabundle', () => {
    const s = samples[1]!;
    const foreignRoot = withPayload(s.doc, (p) => {
      const bundle = p.get('cabundle') as Uint8Array[];
      p.set('cabundle', [p.get('certificate') as Uint8Array, ...bundle.slice(1)]);
    });
    expect(codeOf(() => verifyNitroAttestation(foreignRoot, at(s)))).toBe(
      'ATTESTATION_UNTRUSTED_ROOT',
    );
    const reversed = withPayload(s.doc, (p) =>
      p.set('cabundle', [...(p.get('cabundle') as Uint8Array[])].reverse()),
    );
    expect(codeOf(() => verifyNitroAttestation(reversed, at(s)))).toBe(
      'ATTESTATION_UNTRUSTED_ROOT',
    );
    const missingLink = withPayload(s.doc, (p) => {
      const bundle = p.get('cabundle') as Uint8Array[];
      p.set('cabundle', [bundle[0], bundle[1], bundle[3]]);
    });
    expect(codeOf(() => verifyNitroAttestation(missingLink, at(s)))).toBe('ATTESTATION_BAD_CHAIN');
    const resigned = withPayload(s.doc, (p) =>
      p.set('module_id', 'i-00000000000000000-enc0000000000000000'),
    );
    expect(codeOf(() => verifyNitroAttestation(resigned, at(s)))).toBe('ATTESTATION_BAD_SIGNATURE');
    const nullCert = withPayload(s.doc, (p) => p.set('certificate', null));
    expect(codeOf(() => verifyNitroAttestation(nullCert, at(s)))).toBe('ATTESTATION_MALFORMED');
  });

  it('accepts tag 18 but no other framing, and only {1: -35}', () => {
    const s = samples[1]!;
    const tagged = Uint8Array.of(0xd2, ...s.doc);
    expect(codeOf(() => verifyNitroAttestation(tagged, at(s)))).toBe('ACCEPTED');
    expect(codeOf(() => verifyNitroAttestation(Uint8Array.of(0xd3, ...s.doc), at(s)))).toBe(
      'ATTESTATION_MALFORMED',
    );
    const cose = decode(s.doc, { useMaps: true }) as [
      Uint8Array,
      Map<unknown, unknown>,
      Uint8Array,
      Uint8Array,
    ];
    const es256 = encode([encode(new Map([[1, -7]])), cose[1], cose[2], cose[3]]);
    expect(codeOf(() => verifyNitroAttestation(es256, at(s)))).toBe('ATTESTATION_MALFORMED');
    const extra = encode([
      encode(
        new Map<number, number>([
          [1, -35],
          [4, 1],
        ]),
      ),
      cose[1],
      cose[2],
      cose[3],
    ]);
    expect(codeOf(() => verifyNitroAttestation(extra, at(s)))).toBe('ATTESTATION_MALFORMED');
    const shortSig = encode([cose[0], cose[1], cose[2], cose[3].subarray(0, 95)]);
    expect(codeOf(() => verifyNitroAttestation(shortSig, at(s)))).toBe('ATTESTATION_MALFORMED');
  });

  it('rejects truncated and oversized input before trusting anything', () => {
    const s = samples[1]!;
    for (const length of [0, 1, 4, 8, 100, 2000, s.doc.length - 97, s.doc.length - 1]) {
      expect(codeOf(() => verifyNitroAttestation(s.doc.subarray(0, length), at(s)))).toBe(
        'ATTESTATION_MALFORMED',
      );
    }
    expect(codeOf(() => verifyNitroAttestation(Uint8Array.of(...s.doc, 0), at(s)))).toBe(
      'ATTESTATION_MALFORMED',
    );
    const huge = new Uint8Array(MAX_DOCUMENT_BYTES + 1);
    huge.set(s.doc);
    expect(codeOf(() => verifyNitroAttestation(huge, at(s)))).toBe('ATTESTATION_TOO_LARGE');
  });

  it('applies a freshness window and merges verifier defaults', () => {
    const s = samples[1]!;
    const later = new Date(s.timestamp + 60 * 60 * 1000);
    expect(codeOf(() => verifyNitroAttestation(s.doc, { at: later }))).toBe('ACCEPTED');
    expect(
      codeOf(() => verifyNitroAttestation(s.doc, { at: later, maxAgeMs: 5 * 60 * 1000 })),
    ).toBe('ATTESTATION_STALE');
    const verifier = new NitroAttestationVerifier({ allowDebug: false, maxAgeMs: 5 * 60 * 1000 });
    expect(codeOf(() => verifier.verify(s.doc, { at: new Date(s.timestamp + 1000) }))).toBe(
      'ACCEPTED',
    );
    expect(codeOf(() => verifier.verify(samples[2]!.doc, at(samples[2]!)))).toBe(
      'ATTESTATION_DEBUG_ENCLAVE',
    );
  });
});
