import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { decrypt } from '../paillier.ts';
import { generateProvenPaillierKey } from '../paillier-pool.ts';
import { rng, sessionId, testRingPedersen } from '../test-fixtures.ts';
import { EncryptionMaskPool, encryptWithMask } from './mask-pool.ts';
import { makeClientSetup } from './setup.ts';
import { ClientSigner, ServerSigner, signatureToCompact } from './sign.ts';
import { runKeygen, wire } from './test-helpers.ts';

describe('precomputed encryption masks', () => {
  const policy = { paillierBits: 2048, ringPedersenBits: 1024 };
  const paillier = generateProvenPaillierKey();
  const { server, client } = runKeygen({
    sessionId: sessionId('mask-kg'),
    paillier,
    setup: makeClientSetup(testRingPedersen(), rng),
    policy,
    rng,
  });

  it('encrypts correctly, hands each mask out once, and signs with them', () => {
    const pool = new EncryptionMaskPool({ paillierN: client.paillierN, rng });
    pool.fill(3);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    expect(pool.size).toBe(1);
    expect(decrypt(paillier.sk, encryptWithMask(paillier.sk, 123456789n, a))).toBe(123456789n);

    const hash = new Uint8Array(createHash('sha256').update('masked').digest());
    const sid = sessionId('mask-sign');
    const c = new ClientSigner({
      sessionId: sid,
      share: client,
      messageHash: hash,
      rng,
      masks: pool,
    });
    const s = new ServerSigner({
      sessionId: sid,
      share: server,
      lock: { locked: false },
      messageHash: hash,
      rng,
    });
    const sig = s.finish(wire(c.finish(wire(s.respond(wire(c.start()))))));
    expect(pool.size).toBe(0);
    expect(
      secp256k1.verify(signatureToCompact(sig), hash, client.q.toBytes(true), { prehash: false }),
    ).toBe(true);
  });

  it("refuses a pool made for another key's modulus", () => {
    const other = new EncryptionMaskPool({ paillierN: client.paillierN + 2n, rng });
    expect(
      () =>
        new ClientSigner({
          sessionId: sessionId('x'),
          share: client,
          messageHash: new Uint8Array(32),
          rng,
          masks: other,
        }),
    ).toThrow(/another Paillier key/);
  });
});
