import { describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { type CertificateConstraints, checkPathConstraints } from './x509-constraints.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

const ca = (pathLength: number | null): CertificateConstraints => ({
  ca: true,
  pathLength,
  keyCertSign: true,
  digitalSignature: true,
});
const leaf: CertificateConstraints = {
  ca: false,
  pathLength: null,
  keyCertSign: false,
  digitalSignature: true,
};
const labels = ['root', 'regional', 'zonal', 'instance', 'leaf'];

// The real chains (root, pathlen 2, 1, 0, leaf) pass in nitro-verifier.test.ts; these are the
// violations a forged bundle could attempt.
describe('X.509 path constraints of the Nitro chain', () => {
  it('accepts the AWS profile', () => {
    expect(codeOf(() => checkPathConstraints([ca(null), ca(2), ca(1), ca(0), leaf], labels))).toBe(
      'ACCEPTED',
    );
  });

  it('rejects a CA below one whose pathLenConstraint forbids it', () => {
    expect(codeOf(() => checkPathConstraints([ca(null), ca(2), ca(0), ca(0), leaf], labels))).toBe(
      'ATTESTATION_BAD_CHAIN',
    );
    expect(codeOf(() => checkPathConstraints([ca(null), ca(1), ca(1), ca(0), leaf], labels))).toBe(
      'ATTESTATION_BAD_CHAIN',
    );
  });

  it('rejects an issuer that is not a certificate-signing CA and a leaf that cannot sign', () => {
    expect(
      codeOf(() => checkPathConstraints([ca(null), { ...ca(2), ca: false }, leaf], labels)),
    ).toBe('ATTESTATION_BAD_CHAIN');
    expect(
      codeOf(() =>
        checkPathConstraints([ca(null), { ...ca(2), keyCertSign: false }, leaf], labels),
      ),
    ).toBe('ATTESTATION_BAD_CHAIN');
    expect(
      codeOf(() =>
        checkPathConstraints([ca(null), ca(0), { ...leaf, digitalSignature: false }], labels),
      ),
    ).toBe('ATTESTATION_BAD_CHAIN');
  });
});
