/**
 * What cosigner tests share: a client's ring-Pedersen setup on small (512-bit) safe primes, and a
 * vault node with its HTTP API in this process (dev attestation) for a cosigner to deposit into.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  type ClientSetup,
  CosignerHttpError,
  generateSafePrime,
  makeClientSetup,
  ringPedersenFromPrimes,
} from '../../cosigner/index.ts';
import {
  buildVaultApp,
  DevAttestationProvider,
  DevAttestationVerifier,
  StorageBox,
  VaultNode,
} from '../../vault/index.ts';

export const rng = (n: number) => new Uint8Array(randomBytes(n));

/** Accepted by a cosigner opened with `securityPolicy` (1024-bit ring-Pedersen moduli). */
export const securityPolicy = { paillierBits: 2048, ringPedersenBits: 1024 };

/** A device's setup with Πprm, on a 1024-bit modulus so tests make it in a second or two. */
export function smallClientSetup(): ClientSetup {
  const p = generateSafePrime(512);
  let q = generateSafePrime(512);
  while (q === p) q = generateSafePrime(512);
  return makeClientSetup(ringPedersenFromPrimes(p, q, rng), rng);
}

/** A single vault node over HTTP on loopback, its dev attestation key, its operator's key. */
export async function startInProcessVault(dataDir: string) {
  const signingKey = rng(32);
  const operatorSecretKey = schnorr.utils.randomSecretKey();
  const node = await VaultNode.open({
    dataDir: join(dataDir, 'vault'),
    cipher: new StorageBox(rng(32)),
    operatorKey: schnorr.getPublicKey(operatorSecretKey),
    limits: { claimIntervalMs: 0 },
  });
  const attestation = new DevAttestationProvider({
    insecureDevAttestation: true,
    signingKey,
    warn: () => {},
  });
  const app = await buildVaultApp({ backend: node, attestation });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    node,
    url,
    operatorSecretKey,
    /** The verifier a cosigner pins this node with. */
    verifier: () =>
      new DevAttestationVerifier({
        insecureDevAttestation: true,
        trustedKeys: [attestation.publicKey],
        warn: () => {},
      }),
    async close() {
      await app.close();
      await node.close();
    },
  };
}

/** The status and stable code of the cosigner's error reply to `p` (which must fail). */
export async function errorOf(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CosignerHttpError) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected an error reply');
}
