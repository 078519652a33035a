/** Refresh keeps Q and re-randomises both shares. Ring-Pedersen at 1024 bits, as in ecdsa2p.test.ts. */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  freshPaillierKey,
  rng,
  sessionId,
  testPaillierKey,
  testRingPedersen,
} from '../test-fixtures.ts';
import { G, scalarMod } from '../wire.ts';
import { ClientRefresh, ServerRefresh } from './refresh.ts';
import { makeClientSetup, provePaillierKey } from './setup.ts';
import { signatureToCompact } from './sign.ts';
import { runKeygen, runSign, wire } from './test-helpers.ts';

const policy = { paillierBits: 2048, ringPedersenBits: 1024 };

describe('refresh', () => {
  const setup = makeClientSetup(testRingPedersen(), rng);
  const { server, client } = runKeygen({
    sessionId: sessionId('rk'),
    paillier: provePaillierKey(testPaillierKey(), rng),
    setup,
    policy,
    rng,
  });

  it('keeps Q, changes both shares and the Paillier key, and the new shares sign', () => {
    const newKey = provePaillierKey(freshPaillierKey(), rng);
    const c = new ClientRefresh({ sessionId: sessionId('rf'), share: client, setup, policy, rng });
    const s = new ServerRefresh({
      sessionId: sessionId('rf'),
      share: server,
      paillier: newKey,
      policy,
      rng,
    });
    const m2 = s.respond(wire(c.start()));
    const m4 = s.prove(wire(c.open(wire(m2))));
    const { message: m5, share: client2 } = c.finish(wire(m4));
    const server2 = s.finish(wire(m5));

    expect(server2.q.equals(server.q)).toBe(true);
    expect(client2.q.equals(client.q)).toBe(true);
    expect(server2.xServer).not.toBe(server.xServer);
    expect(client2.xClient).not.toBe(client.xClient);
    expect(server2.paillier.n).not.toBe(server.paillier.n);
    expect(G.multiply(scalarMod(server2.xServer + client2.xClient)).equals(server.q)).toBe(true);
    // Old and new shares do not mix.
    expect(G.multiply(scalarMod(server.xServer + client2.xClient)).equals(server.q)).toBe(false);
    expect(G.multiply(scalarMod(server2.xServer + client.xClient)).equals(server.q)).toBe(false);

    const hash = new Uint8Array(createHash('sha256').update('after refresh').digest());
    const sig = runSign({
      sessionId: sessionId('rs'),
      server: server2,
      client: client2,
      lock: { locked: false },
      messageHash: hash,
      rng,
    });
    expect(
      secp256k1.verify(signatureToCompact(sig), hash, server.q.toBytes(true), { prehash: false }),
    ).toBe(true);
  });

  it('rejects a client that changes δ after seeing the server’s', () => {
    const c = new ClientRefresh({ sessionId: sessionId('rf2'), share: client, setup, policy, rng });
    const s = new ServerRefresh({
      sessionId: sessionId('rf2'),
      share: server,
      paillier: provePaillierKey(testPaillierKey(), rng),
      policy,
      rng,
    });
    const m3 = wire(c.open(wire(s.respond(wire(c.start()))))) as { delta: string };
    m3.delta = `${'00'.repeat(31)}01`;
    expect(() => s.prove(m3)).toThrow(/commitment does not match/);
  });
});
