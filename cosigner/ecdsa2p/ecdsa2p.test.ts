/**
 * Two-party ECDSA end to end. Paillier keys are real 2048-bit Blum moduli and the signing bounds
 * depend on that size; the client's ring-Pedersen modulus is 1024-bit to keep the suite fast
 * (the policy below accepts it) — no property tested here depends on N̂'s size.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { mod } from '../bigint.ts';
import { derivePublic } from '../derive.ts';
import { CosignerError } from '../errors.ts';
import { addCiphertexts, encrypt, multiplyCiphertext, paillierPublicKey } from '../paillier.ts';
import { randomScalar } from '../random.ts';
import { rng, sessionId, testPaillierKey, testRingPedersen } from '../test-fixtures.ts';
import { CURVE_ORDER, G, intToWire, parsePoint, pointToWire, scalarMod } from '../wire.ts';
import { commit } from '../zk/commitment.ts';
import { proveSchnorr, schnorrToWire } from '../zk/schnorr.ts';
import { ClientKeygen, ServerKeygen } from './keygen.ts';
import { makeClientSetup, provePaillierKey } from './setup.ts';
import { ClientSigner, items, ServerSigner, signatureToCompact } from './sign.ts';
import { runKeygen, runSign, wire } from './test-helpers.ts';
import type { ClientKeyShare, KeyLock, ServerKeyShare } from './types.ts';

const policy = { paillierBits: 2048, ringPedersenBits: 1024 };
const sha256 = (m: string) => new Uint8Array(createHash('sha256').update(m).digest());

function nodeVerifies(
  pub: ReturnType<typeof parsePoint>,
  message: string,
  sig: Uint8Array,
): boolean {
  const aff = pub.toAffine();
  const b64 = (v: bigint) =>
    Buffer.from(v.toString(16).padStart(64, '0'), 'hex').toString('base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'secp256k1', x: b64(aff.x), y: b64(aff.y) },
    format: 'jwk',
  });
  return nodeVerify('sha256', Buffer.from(message), { key, dsaEncoding: 'ieee-p1363' }, sig);
}

describe('two-party ECDSA', () => {
  let server: ServerKeyShare;
  let client: ClientKeyShare;
  const setup = makeClientSetup(testRingPedersen(), rng);
  const paillier = provePaillierKey(testPaillierKey(), rng);

  beforeAll(() => {
    ({ server, client } = runKeygen({ sessionId: sessionId('kg'), paillier, setup, policy, rng }));
  });

  it('keygen gives both parties the same joint key Q = Q_server + Q_client', () => {
    expect(server.q.equals(client.q)).toBe(true);
    expect(G.multiply(scalarMod(server.xServer + client.xClient)).equals(server.q)).toBe(true);
    expect(Buffer.from(server.chainCode).equals(Buffer.from(client.chainCode))).toBe(true);
    expect(client.ckey).toBe(server.ckey);
  });

  it('signs low-s ECDSA that noble and node:crypto (OpenSSL) both verify', () => {
    const lock: KeyLock = { locked: false };
    for (const text of ['hello vigil', 'second message']) {
      const hash = sha256(text);
      const sig = runSign({
        sessionId: sessionId(text),
        server,
        client,
        lock,
        messageHash: hash,
        rng,
      });
      const compact = signatureToCompact(sig);
      expect(sig.s <= CURVE_ORDER / 2n).toBe(true);
      expect(secp256k1.verify(compact, hash, client.q.toBytes(true), { prehash: false })).toBe(
        true,
      );
      expect(nodeVerifies(client.q, text, compact)).toBe(true);
      expect(nodeVerifies(client.q, `${text}!`, compact)).toBe(false);
      const recovered = new secp256k1.Signature(sig.r, sig.s, sig.recovery).recoverPublicKey(hash);
      expect(recovered.equals(client.q)).toBe(true);
    }
    expect(lock.locked).toBe(false);
  });

  it('signs under a non-hardened child key equal to BIP-32 public derivation', () => {
    const path = [0, 7, 2147483647];
    const hash = sha256('child');
    const sig = runSign({
      sessionId: sessionId('child'),
      server,
      client,
      lock: { locked: false },
      messageHash: hash,
      path,
      rng,
    });
    const child = derivePublic(client.q, client.chainCode, path);
    // The child private key is x + t: check against a single-party key made from the shares.
    const x = scalarMod(server.xServer + client.xClient + child.tweak);
    expect(G.multiply(x).equals(child.publicKey)).toBe(true);
    expect(nodeVerifies(child.publicKey, 'child', signatureToCompact(sig))).toBe(true);
    expect(() => derivePublic(client.q, client.chainCode, [0x80000000])).toThrow(/hardened/);
  });

  it('rejects a keygen whose server proof was tampered, and a client that changes its opening', () => {
    const c = new ClientKeygen({ sessionId: sessionId('t1'), setup, policy, rng });
    const s = new ServerKeygen({ sessionId: sessionId('t1'), paillier, policy, rng });
    const m2 = wire(s.respond(wire(c.start()))) as { share: { ckey: string } };
    const other = encrypt(paillier.sk, 5n, rng).c;
    m2.share.ckey = intToWire(other);
    expect(() => c.finish(m2)).toThrow(CosignerError);

    const c2 = new ClientKeygen({ sessionId: sessionId('t2'), setup, policy, rng });
    const s2 = new ServerKeygen({ sessionId: sessionId('t2'), paillier, policy, rng });
    const { message } = c2.finish(wire(s2.respond(wire(c2.start()))));
    const swapped = { ...message, qClient: pointToWire(G.multiply(3n)) };
    expect(() => s2.finish(wire(swapped))).toThrow(/commitment does not match/);
  });

  it('refuses a client ring-Pedersen setup below policy, and a replayed step', () => {
    const c = new ClientKeygen({ sessionId: sessionId('t3'), setup, policy, rng });
    const s = new ServerKeygen({ sessionId: sessionId('t3'), paillier, rng });
    expect(() => s.respond(wire(c.start()))).toThrow(/fewer than 2048/);
    expect(() => s.respond({})).toThrow(/already/);
  });

  it('rejects a last message whose R2 differs from the committed one, without locking', () => {
    const lock: KeyLock = { locked: false };
    const hash = sha256('x');
    const c = new ClientSigner({
      sessionId: sessionId('r2'),
      share: client,
      messageHash: hash,
      rng,
    });
    const s = new ServerSigner({
      sessionId: sessionId('r2'),
      share: server,
      lock,
      messageHash: hash,
      rng,
    });
    const m2 = s.respond(wire(c.start()));
    const m3 = wire(c.finish(wire(m2))) as Record<string, unknown>;
    m3.r2 = pointToWire(G.multiply(9n));
    expect(() => s.finish(m3)).toThrow(/commitment/);
    expect(lock.locked).toBe(false);
    expect(() => s.finish(m3)).toThrow(/not awaiting/);
  });
});

describe('abort-oracle attack (CVE-2023-33242) from a malicious client', () => {
  const setup = makeClientSetup(testRingPedersen(), rng);
  const paillier = provePaillierKey(testPaillierKey(), rng);

  /**
   * The attacker multiplies ckey by b + q·K instead of b. Decryption stays correct mod q exactly
   * when (b + qK)·x_server does not wrap mod N, i.e. when x_server < ~N/(qK): each signing outcome
   * would answer "x_server < T?" for a threshold of the attacker's choice.
   */
  function maliciousSession(
    sid: string,
    server: ServerKeyShare,
    client: ClientKeyShare,
    lock: KeyLock,
    threshold: bigint,
  ): 'valid' | 'failed' | 'locked' {
    const hash = sha256(sid);
    let s: ServerSigner;
    try {
      s = new ServerSigner({
        sessionId: sessionId(sid),
        share: server,
        lock,
        messageHash: hash,
        rng,
      });
    } catch (e) {
      if (e instanceof CosignerError && e.code === 'COSIGNER_KEY_LOCKED') return 'locked';
      throw e;
    }
    const ctx = (purpose: string) => ({
      sessionId: sessionId(sid),
      prover: 'client' as const,
      purpose,
    });
    const k2 = randomScalar(rng, CURVE_ORDER);
    const r2 = G.multiply(k2);
    const proof = proveSchnorr(ctx('sign/R'), k2, rng);
    const c = commit(ctx('sign/commit'), items(r2, proof), rng);
    const m2 = s.respond({ commitment: Buffer.from(c.commitment).toString('hex') }) as {
      r1: string;
    };
    const R = parsePoint('r1', m2.r1).multiply(k2);
    const r = scalarMod(R.x);
    const k2inv = mod(modInv(k2), CURVE_ORDER);
    const a = scalarMod(k2inv * (scalarMod(bytesToInt(hash)) + r * client.xClient));
    const b = scalarMod(k2inv * r);
    const pk = paillierPublicKey(client.paillierN);
    const K = pk.n / (CURVE_ORDER * threshold);
    const c3 = addCiphertexts(
      pk,
      encrypt(pk, a, rng).c,
      multiplyCiphertext(pk, client.ckey, b + CURVE_ORDER * K),
    );
    try {
      s.finish({
        r2: pointToWire(r2),
        proof: schnorrToWire(proof),
        nonce: Buffer.from(c.opening.nonce).toString('hex'),
        c3: intToWire(c3),
      });
      return 'valid';
    } catch (e) {
      if (e instanceof CosignerError && e.code === 'COSIGNER_SIGNATURE_FAILED') return 'failed';
      if (e instanceof CosignerError && e.code === 'COSIGNER_KEY_LOCKED') return 'locked';
      throw e;
    }
  }

  it('ends with the key locked after the first failed signature, not with leaked bits', () => {
    const { server, client } = runKeygen({
      sessionId: sessionId('victim'),
      paillier,
      setup,
      policy,
      rng,
    });
    const lock: KeyLock = { locked: false };
    // Binary search on x_server, as the attacker would run it against a retrying server.
    let lo = 0n;
    let hi = CURVE_ORDER;
    const outcomes: string[] = [];
    for (let i = 0; i < 24; i++) {
      const mid = (lo + hi) / 2n;
      const o = maliciousSession(`attack-${i}`, server, client, lock, mid);
      outcomes.push(o);
      if (o === 'valid') hi = mid;
      else lo = mid;
    }
    const firstFailure = outcomes.indexOf('failed');
    expect(firstFailure).toBeGreaterThanOrEqual(0);
    expect(outcomes.filter((o) => o === 'failed')).toHaveLength(1);
    expect(outcomes.slice(firstFailure + 1).every((o) => o === 'locked')).toBe(true);
    expect(lock.locked).toBe(true);
    // The honest client cannot sign either: the lock is for good.
    expect(() =>
      runSign({
        sessionId: sessionId('after'),
        server,
        client,
        lock,
        messageHash: sha256('a'),
        rng,
      }),
    ).toThrow(/locked/);
  });

  it('a parallel session opened before the lock is refused at its last step', () => {
    const { server, client } = runKeygen({
      sessionId: sessionId('victim2'),
      paillier,
      setup,
      policy,
      rng,
    });
    const lock: KeyLock = { locked: false };
    const hash = sha256('p');
    const c = new ClientSigner({
      sessionId: sessionId('par'),
      share: client,
      messageHash: hash,
      rng,
    });
    const s = new ServerSigner({
      sessionId: sessionId('par'),
      share: server,
      lock,
      messageHash: hash,
      rng,
    });
    const m2 = s.respond(wire(c.start()));
    expect(maliciousSession('kill', server, client, lock, 1n)).toBe('failed');
    expect(() => s.finish(wire(c.finish(wire(m2))))).toThrow(/locked/);
  });
});

function modInv(a: bigint): bigint {
  let [r0, r1] = [scalarMod(a), CURVE_ORDER];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return s0;
}

function bytesToInt(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex')}`);
}
