import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyPairFromPrivate } from '../../cluster/index.ts';
import { describeWithVectors, readVector } from '../../test/support/vectors.ts';
import {
  type AttestationProvider,
  DevAttestationProvider,
  DevAttestationVerifier,
  devPcr,
  NitroAttestationVerifier,
  verifyNitroAttestation,
} from '../enclave/index.ts';
import { toHex } from '../protocol/index.ts';
import type { Member } from './codec.ts';
import { attestMember, memberAttested, newIdentity, nodeIdOf, PeerVerifier } from './identity.ts';
import { devAttestation, listenLocalMember } from './local.ts';
import type { ClusterMember } from './member.ts';

function memberWith(attestation: Uint8Array, publicKey: Uint8Array, slot = 'node-2'): Member {
  return {
    id: nodeIdOf(publicKey),
    publicKey,
    host: '10.0.0.2',
    port: 7401,
    httpUrl: 'http://10.0.0.2:7400',
    attestation,
    slot,
    generation: 1,
  };
}

const randomKey = () => keyPairFromPrivate(randomBytes(32)).publicKey;

/** Another key (and the id derived from it) under the same document. */
const withKey = (m: Member, publicKey: Uint8Array): Member => ({
  ...m,
  publicKey,
  id: nodeIdOf(publicKey),
});

/** An identity's record as `memberWith` lays it out, its document binding every field. */
async function attested(provider: AttestationProvider): Promise<Member> {
  return attestMember(newIdentity(provider), memberWith(new Uint8Array(), randomKey()));
}

function pcrHex(doc: Uint8Array, at: Date): Record<number, string> {
  const v = verifyNitroAttestation(doc, { at, allowDebug: true });
  return Object.fromEntries([0, 1, 2].map((i) => [i, toHex(v.pcrs.get(i)!)]));
}

describeWithVectors('nitro', 'peer policy on real Nitro documents', () => {
  // A real enclave's document cannot bind one of our keys; what these show is that the chain
  // to the pinned AWS root and the PCR policy pass or fail before the key binding is judged.
  const doc = readVector('nitro/evervault/valid-attestation-doc-bytes');
  const debugDoc = readVector('nitro/evervault/debug-mode-attestation-doc-bytes');
  const signedAt = new Date(1665651482136);
  const pcrs = pcrHex(doc, signedAt);
  const nitro = (o: { at?: Date; pcrs?: Record<number, string>; log?: (l: string) => void }) =>
    new PeerVerifier({
      verifier: new NitroAttestationVerifier({ allowDebug: false }),
      images: [o.pcrs ?? pcrs],
      at: o.at,
      log: o.log,
    });

  it('passes chain and PCRs at the pinned time, then refuses a key the document does not bind', () => {
    const lines: string[] = [];
    const v = nitro({ at: signedAt, log: (l) => lines.push(l) });
    const m = memberWith(doc, randomKey());
    expect(v.refusal(m)).toMatch(/^ATTESTATION_BINDING_MISMATCH: attestation public_key/);
    expect(v.admits(m)).toBe(false);
    expect(v.admits(m)).toBe(false);
    expect(lines).toEqual([
      `refused peer node-2/${m.id} at 10.0.0.2:7401: ${v.refusal(m)}`, // once, not per check
    ]);
  });

  it('judges a stored document at its own signed time by default (leaf certificates last hours)', () => {
    const v = nitro({});
    expect(v.refusal(memberWith(doc, randomKey()))).toMatch(/^ATTESTATION_BINDING_MISMATCH/);
    // the same document judged at a later wall-clock time fails on its certificates
    const later = nitro({ at: new Date(signedAt.getTime() + 4 * 3600_000) });
    expect(later.refusal(memberWith(doc, randomKey()))).toMatch(/^ATTESTATION_EXPIRED/);
  });

  it('refuses an image whose PCRs the policy does not name', () => {
    const wrong = { ...pcrs, 0: `ff${pcrs[0]!.slice(2)}` };
    const v = nitro({ at: signedAt, pcrs: wrong });
    expect(v.refusal(memberWith(doc, randomKey()))).toMatch(
      /^ATTESTATION_PCR_MISMATCH: attestation PCR0/,
    );
    const extra = nitro({ at: signedAt, pcrs: { ...pcrs, 20: pcrs[0]! } });
    expect(extra.refusal(memberWith(doc, randomKey()))).toMatch(/^ATTESTATION_PCR_MISMATCH/);
  });

  it('refuses a debug-mode enclave even when its PCRs are named', () => {
    const at = new Date(1665582606081);
    const v = nitro({ at, pcrs: pcrHex(debugDoc, at) });
    expect(v.refusal(memberWith(debugDoc, randomKey()))).toMatch(/^ATTESTATION_DEBUG_ENCLAVE/);
  });

  it('refuses a dev document under the Nitro verifier', async () => {
    const dev = devAttestation(randomBytes(32));
    const m = await attested(dev.provider);
    expect(nitro({ at: signedAt }).refusal(m)).toMatch(/^ATTESTATION_MALFORMED/);
  });
});

describe('peer policy on dev documents', () => {
  const devPcrs = Object.fromEntries([0, 1, 2].map((i) => [i, toHex(devPcr(i))]));
  const signingKey = randomBytes(32);
  const quiet = { insecureDevAttestation: true, warn: () => {} };
  const provider = new DevAttestationProvider({ ...quiet, signingKey });
  const verifier = (...images: Record<number, string>[]) =>
    new PeerVerifier({
      verifier: new DevAttestationVerifier({ ...quiet, trustedKeys: [provider.publicKey] }),
      images,
    });

  it('admits a member whose document binds its key and record, under the PCR policy', async () => {
    const m = await attested(provider);
    expect(verifier(devPcrs).refusal(m)).toBeNull();
    expect(memberAttested(verifier(devPcrs), m)).toBe(true);
  });

  it('refuses a member whose key is not the one in its document', async () => {
    const m = await attested(provider);
    expect(verifier(devPcrs).refusal(withKey(m, randomKey()))).toMatch(
      /^ATTESTATION_BINDING_MISMATCH/,
    );
  });

  it('refuses an attested record with any field changed: address, URL, slot, generation (issue 11 item 10)', async () => {
    const m = await attested(provider);
    for (const changed of [
      { host: '203.0.113.9' },
      { port: 7402 },
      { httpUrl: 'http://203.0.113.9:7400' },
      { slot: 'node-1' },
      { generation: 2 },
    ]) {
      expect(verifier(devPcrs).refusal({ ...m, ...changed }), JSON.stringify(changed)).toMatch(
        /^ATTESTATION_BINDING_MISMATCH/,
      );
    }
  });

  it('refuses a member whose id is not derived from its key', async () => {
    const m = { ...(await attested(provider)), id: '0123456789abcdef' };
    expect(verifier().refusal(m)).toBe('its id is not derived from its static key');
  });

  it('refuses a PCR the document does not carry, or carries with another value', async () => {
    const m = await attested(provider);
    expect(verifier({ ...devPcrs, 3: toHex(devPcr(3)) }).refusal(m)).toMatch(
      /^ATTESTATION_PCR_MISMATCH: attestation PCR3/,
    );
    expect(verifier({ 0: toHex(devPcr(1)) }).refusal(m)).toMatch(
      /^ATTESTATION_PCR_MISMATCH: attestation PCR0/,
    );
  });

  it('admits any of several trusted images (a rolling upgrade), refuses the rest', async () => {
    const m = await attested(provider);
    const older = { 0: toHex(devPcr(7)) };
    expect(verifier(older, devPcrs).refusal(m)).toBeNull();
    expect(verifier(devPcrs, older).refusal(m)).toBeNull();
    expect(verifier(older, { 0: toHex(devPcr(8)) }).refusal(m)).toBe(
      'ATTESTATION_PCR_MISMATCH: attestation PCRs match none of the 2 trusted images',
    );
    // a failure that no image can cure is reported as itself
    const stolen = withKey(m, randomKey());
    expect(verifier(older, devPcrs).refusal(stolen)).toMatch(/^ATTESTATION_BINDING_MISMATCH/);
  });

  it('refuses a document signed by a dev key it does not trust', async () => {
    const stranger = new DevAttestationProvider({ ...quiet, signingKey: randomBytes(32) });
    const m = await attested(stranger);
    expect(verifier().refusal(m)).toMatch(/^ATTESTATION_/);
  });
});

describe('the Noise allow-list', () => {
  const open: ClusterMember[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const m of open) await m.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('holds only peers whose documents pass the policy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-allow-'));
    dirs.push(dir);
    const key = randomBytes(32);
    const lines: string[] = [];
    // `a` demands a PCR3 that only `c`'s enclave reports
    const pcr3 = toHex(devPcr(3));
    const strict = devAttestation(key, { images: [{ 3: pcr3 }], log: (l) => lines.push(l) });
    const withPcr3 = {
      provider: new DevAttestationProvider({
        insecureDevAttestation: true,
        signingKey: key,
        pcrs: { 3: devPcr(3) },
        warn: () => {},
      }),
      verifier: strict.verifier,
    };
    const common = { dir, generation: 1, storageKey: randomBytes(32), clusterId: 'c1' };
    const a = await listenLocalMember({ ...common, slot: 'node-1', attestation: withPcr3 });
    const b = await listenLocalMember({
      ...common,
      slot: 'node-2',
      attestation: devAttestation(key),
    });
    const c = await listenLocalMember({ ...common, slot: 'node-3', attestation: withPcr3 });
    open.push(a, b, c);
    const records = await Promise.all([a, b, c].map((m) => m.record(`http://${m.slot}.invalid`)));
    a.setFounders(records);
    expect([...a.linkStats().keys()].sort()).toEqual([c.id]);
    expect(lines[0]).toMatch(/^INSECURE DEV ATTESTATION ENABLED/); // said loudly, once
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^refused peer node-2/${b.id} at 127\\.0\\.0\\.1:\\d+: ATTESTATION_PCR_MISMATCH`,
        ),
      ),
    ]);
  });
});
