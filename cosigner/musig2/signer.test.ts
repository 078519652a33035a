import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { derivePublic } from '../derive.ts';
import { rng } from '../test-fixtures.ts';
import {
  aggregatePoint,
  aggregateXOnly,
  BIP328_CHAIN_CODE,
  MusigSigner,
  planFor,
} from './signer.ts';

const msg = new TextEncoder().encode('pay 1 BTC to the recovery address');

function pair(path: number[] = [], xOnlyTweak?: Uint8Array) {
  const server = secp256k1.utils.randomSecretKey();
  const client = secp256k1.utils.randomSecretKey();
  const keys = [secp256k1.getPublicKey(server, true), secp256k1.getPublicKey(client, true)];
  const plan = planFor(keys, path, xOnlyTweak);
  return {
    plan,
    s: new MusigSigner({ secretKey: server, plan, rng }),
    c: new MusigSigner({ secretKey: client, plan, rng }),
  };
}

function run(s: MusigSigner, c: MusigSigner, m = msg) {
  const ns = s.publicNonce();
  const nc = c.publicNonce();
  const ps = s.sign(nc, m);
  const pc = c.sign(ns, m);
  return { sigS: s.finish(pc), sigC: c.finish(ps) };
}

describe('MuSig2 2-of-2 signer', () => {
  it('produces a BIP-340 signature under the aggregate key, the same on both sides', () => {
    const { plan, s, c } = pair();
    const { sigS, sigC } = run(s, c);
    expect(Buffer.from(sigS).equals(Buffer.from(sigC))).toBe(true);
    expect(schnorr.verify(sigS, msg, aggregateXOnly(plan))).toBe(true);
  });

  it('signs under BIP-328 child keys (plain tweaks) plus a Taproot x-only tweak', () => {
    const tap = new Uint8Array(32).fill(7);
    const { plan, s, c } = pair([1, 42], tap);
    const { sigS } = run(s, c);
    expect(schnorr.verify(sigS, msg, aggregateXOnly(plan))).toBe(true);
    // Without the x-only tweak the aggregate key equals BIP-32 public derivation of the parent.
    const plain = planFor(plan.publicKeys, [1, 42]);
    const child = derivePublic(aggregatePoint(plan.publicKeys), BIP328_CHAIN_CODE, [1, 42]);
    expect(
      Buffer.from(aggregateXOnly(plain)).equals(
        Buffer.from(child.publicKey.toBytes(true).subarray(1)),
      ),
    ).toBe(true);
  });

  it('uses a nonce exactly once: no second nonce, no second signature', () => {
    const { s, c } = pair();
    const nc = c.publicNonce();
    s.publicNonce();
    expect(() => s.publicNonce()).toThrow(/already made its nonce/);
    s.sign(nc, msg);
    expect(() => s.sign(nc, new TextEncoder().encode('another message'))).toThrow(/exactly once/);
  });

  it('cannot be cloned or serialised to replay its nonce', () => {
    const { s, c } = pair();
    const nc = c.publicNonce();
    s.publicNonce();
    const clone = structuredClone(s) as unknown as MusigSigner;
    expect(() => clone.sign(nc, msg)).toThrow();
    expect(() => JSON.stringify(s)).toThrow(/never serialised/);
    const copy = Object.create(MusigSigner.prototype) as MusigSigner;
    Object.assign(copy, s);
    expect(() => copy.sign(nc, msg)).toThrow();
    // The original still works exactly once.
    expect(s.sign(nc, msg)).toHaveLength(32);
  });

  it('rejects a wrong peer partial signature and a signer outside the plan', () => {
    const { s, c } = pair();
    const ns = s.publicNonce();
    const nc = c.publicNonce();
    const ps = s.sign(nc, msg);
    c.sign(ns, msg);
    const bad = Uint8Array.from(ps);
    bad[31] = (bad[31] as number) ^ 1;
    expect(() => c.finish(bad)).toThrow(/does not verify/);
    expect(
      () =>
        new MusigSigner({ secretKey: secp256k1.utils.randomSecretKey(), plan: pair().plan, rng }),
    ).toThrow(/not in the key plan/);
  });
});
