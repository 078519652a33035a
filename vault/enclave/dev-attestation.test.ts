import { decode, encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import type { AttestationProvider, AttestationVerifier } from './attestation.ts';
import {
  DEV_ATTESTATION_WARNING,
  DEV_INSECURE_NOTICE,
  DEV_MODULE_ID,
  DevAttestationProvider,
  DevAttestationVerifier,
  devPcr,
} from './dev-attestation.ts';
import { NitroAttestationProvider } from './nitro-provider.ts';
import { verifyNitroAttestation } from './nitro-verifier.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

const secret = new Uint8Array(32).fill(1);
const T0 = Date.UTC(2025, 0, 1);

function setup(extra: { pcrs?: Record<number, Uint8Array> } = {}) {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const provider = new DevAttestationProvider({
    insecureDevAttestation: true,
    warn,
    signingKey: secret,
    now: () => T0,
    ...extra,
  });
  const verifier = new DevAttestationVerifier({
    insecureDevAttestation: true,
    warn,
    trustedKeys: [provider.publicKey],
  });
  return { provider, verifier, warnings };
}

describe('insecure dev attestation', () => {
  it('refuses to construct without the explicit flag', () => {
    for (const flag of [false, undefined, 'true', 1] as unknown[]) {
      const options = { insecureDevAttestation: flag as boolean, warn: () => {} };
      expect(codeOf(() => new DevAttestationProvider({ ...options, signingKey: secret }))).toBe(
        'DEV_ATTESTATION_NOT_ENABLED',
      );
      expect(
        codeOf(() => new DevAttestationVerifier({ ...options, trustedKeys: [new Uint8Array(32)] })),
      ).toBe('DEV_ATTESTATION_NOT_ENABLED');
    }
  });

  it('warns loudly when constructed and marks every document insecure', async () => {
    const { provider, verifier, warnings } = setup();
    expect(warnings).toEqual([DEV_ATTESTATION_WARNING, DEV_ATTESTATION_WARNING]);
    expect(DEV_ATTESTATION_WARNING).toMatch(/INSECURE/);
    const doc = await provider.attest({ nonce: Uint8Array.of(1, 2, 3) });
    const payload = decode((decode(doc, { useMaps: true }) as Uint8Array[])[2]!, {
      useMaps: true,
    }) as Map<string, unknown>;
    expect(payload.get('module_id')).toBe(DEV_MODULE_ID);
    expect(payload.get('insecure')).toBe(DEV_INSECURE_NOTICE);
    const result = verifier.verify(doc, { at: new Date(T0) });
    expect(result).toMatchObject({
      kind: 'insecure-dev',
      insecure: true,
      moduleId: DEV_MODULE_ID,
      debug: false,
    });
    expect(provider.insecure).toBe(true);
  });

  it('binds public_key, user_data and nonce, and applies the same policy as Nitro', async () => {
    const { provider, verifier } = setup();
    const publicKey = new Uint8Array(294).fill(3);
    const userData = new Uint8Array(32).fill(4);
    const nonce = new Uint8Array(32).fill(5);
    const doc = await provider.attest({ publicKey, userData, nonce });
    const policy = {
      at: new Date(T0 + 1000),
      maxAgeMs: 60_000,
      expectedPcrs: { 0: devPcr(0), 2: devPcr(2) },
      expectedNonce: nonce,
      expectedPublicKey: publicKey,
      expectedUserData: userData,
    };
    const result = verifier.verify(doc, policy);
    expect(Buffer.from(result.publicKey!).equals(Buffer.from(publicKey))).toBe(true);
    expect(result.timestamp.getTime()).toBe(T0);
    expect(
      codeOf(() => verifier.verify(doc, { ...policy, expectedNonce: new Uint8Array(32) })),
    ).toBe('ATTESTATION_NONCE_MISMATCH');
    expect(
      codeOf(() => verifier.verify(doc, { ...policy, expectedUserData: new Uint8Array(32) })),
    ).toBe('ATTESTATION_BINDING_MISMATCH');
    expect(codeOf(() => verifier.verify(doc, { ...policy, expectedPcrs: { 0: devPcr(1) } }))).toBe(
      'ATTESTATION_PCR_MISMATCH',
    );
    expect(codeOf(() => verifier.verify(doc, { ...policy, at: new Date(T0 + 120_000) }))).toBe(
      'ATTESTATION_STALE',
    );
  });

  it('rejects forged, tampered or foreign documents', async () => {
    const { provider, verifier } = setup();
    const doc = await provider.attest({ userData: Uint8Array.of(7) });
    const at = { at: new Date(T0) };
    for (let i = 0; i < doc.length; i += 3) {
      const flipped = Uint8Array.from(doc);
      flipped[i]! ^= 0x10;
      expect(
        codeOf(() => verifier.verify(flipped, at)),
        `byte ${i}`,
      ).toMatch(/^ATTESTATION_/);
      expect(codeOf(() => verifier.verify(flipped, at))).not.toBe('ACCEPTED');
    }
    const stranger = new DevAttestationProvider({
      insecureDevAttestation: true,
      warn: () => {},
      signingKey: new Uint8Array(32).fill(2),
    });
    const foreign = await stranger.attest({});
    expect(codeOf(() => verifier.verify(foreign, at))).toBe('ATTESTATION_UNTRUSTED_ROOT');
    // Dropping the insecurity notice breaks the signature and the marker check alike.
    const [prot, unprot, payload, sig] = decode(doc, { useMaps: true }) as [
      Uint8Array,
      Map<never, never>,
      Uint8Array,
      Uint8Array,
    ];
    const map = decode(payload, { useMaps: true }) as Map<string, unknown>;
    map.set('module_id', 'i-0123456789abcdef0-enc0123456789abcdef');
    expect(codeOf(() => verifier.verify(encode([prot, unprot, encode(map), sig]), at))).toBe(
      'ATTESTATION_MALFORMED',
    );
    // A dev document never passes the Nitro verifier, even with debug allowed.
    expect(codeOf(() => verifyNitroAttestation(doc, { at: new Date(T0), allowDebug: true }))).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('limits field sizes like the NSM does', async () => {
    const { provider } = setup();
    await expect(provider.attest({ userData: new Uint8Array(513) })).rejects.toThrow(/user_data/);
    await expect(provider.attest({ nonce: new Uint8Array(513) })).rejects.toThrow(/nonce/);
    await expect(provider.attest({ publicKey: new Uint8Array(1025) })).rejects.toThrow(
      /public_key/,
    );
  });

  it('dev and Nitro implementations satisfy the same interfaces', async () => {
    const { provider, verifier } = setup();
    const providers: AttestationProvider[] = [
      provider,
      new NitroAttestationProvider('/nonexistent/nsm'),
    ];
    const verifiers: AttestationVerifier[] = [verifier];
    expect(providers.map((p) => [p.kind, p.insecure])).toEqual([
      ['insecure-dev', true],
      ['aws-nitro', false],
    ]);
    expect(verifiers[0]!.kind).toBe('insecure-dev');
    await expect(providers[1]!.attest({})).rejects.toMatchObject({
      code: 'ATTESTATION_UNAVAILABLE',
      message: expect.stringMatching(/not available outside a Nitro enclave/),
    });
  });
});
