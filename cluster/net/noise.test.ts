import { randomBytes } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { CipherState, keyPairFromPrivate, NoiseError, XXHandshake } from './noise.ts';

const prologue = new TextEncoder().encode('vigil/test');

function pair(opts: { prologueB?: Uint8Array } = {}) {
  const a = keyPairFromPrivate(randomBytes(32));
  const b = keyPairFromPrivate(randomBytes(32));
  const i = new XXHandshake({
    initiator: true,
    staticKey: a,
    ephemeralPrivateKey: randomBytes(32),
    prologue,
  });
  const r = new XXHandshake({
    initiator: false,
    staticKey: b,
    ephemeralPrivateKey: randomBytes(32),
    prologue: opts.prologueB ?? prologue,
  });
  return { a, b, i, r };
}

describe('Noise XX handshake', () => {
  it('authenticates both static keys and agrees on keys and transcript hash', () => {
    const { a, b, i, r } = pair();
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    const ri = i.result();
    const rr = r.result();
    expect(Buffer.from(ri.remoteStatic)).toEqual(Buffer.from(b.publicKey));
    expect(Buffer.from(rr.remoteStatic)).toEqual(Buffer.from(a.publicKey));
    expect(Buffer.from(ri.handshakeHash)).toEqual(Buffer.from(rr.handshakeHash));
    const msg = new TextEncoder().encode('append entries');
    const c1 = ri.send.encrypt(new Uint8Array(0), msg);
    expect(Buffer.from(c1).includes(Buffer.from(msg))).toBe(false);
    expect(Buffer.from(rr.receive.decrypt(new Uint8Array(0), c1))).toEqual(Buffer.from(msg));
    const c2 = rr.send.encrypt(new Uint8Array(0), msg);
    expect(Buffer.from(ri.receive.decrypt(new Uint8Array(0), c2))).toEqual(Buffer.from(msg));
  });

  it('rejects a replayed or reordered transport message (nonces advance)', () => {
    const { i, r } = pair();
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    const si = i.result().send;
    const rr = r.result().receive;
    const first = si.encrypt(new Uint8Array(0), new Uint8Array([1]));
    const second = si.encrypt(new Uint8Array(0), new Uint8Array([2]));
    expect(() => rr.decrypt(new Uint8Array(0), second)).toThrow(NoiseError);
    // The failed attempt consumed nonce 0, so the first message no longer decrypts either.
    expect(() => rr.decrypt(new Uint8Array(0), first)).toThrow(NoiseError);
  });

  it('fails when the prologues differ (cluster id binding)', () => {
    const { i, r } = pair({ prologueB: new TextEncoder().encode('another cluster') });
    r.readMessage(i.writeMessage());
    expect(() => i.readMessage(r.writeMessage())).toThrow(NoiseError);
  });

  it('fails on any flipped byte of the second or third message', () => {
    for (let pos = 0; pos < 96; pos += 7) {
      const { i, r } = pair();
      r.readMessage(i.writeMessage());
      const m2 = r.writeMessage();
      m2[pos % m2.length]! ^= 1;
      expect(() => i.readMessage(m2)).toThrow(NoiseError);
    }
    for (let pos = 0; pos < 64; pos += 5) {
      const { i, r } = pair();
      r.readMessage(i.writeMessage());
      i.readMessage(r.writeMessage());
      const m3 = i.writeMessage();
      m3[pos]! ^= 0x80;
      expect(() => r.readMessage(m3)).toThrow(NoiseError);
    }
  });

  it('carries the initiator’s introduction in the third message, sealed and authenticated', () => {
    const { i, r } = pair();
    const intro = new TextEncoder().encode('my attested record');
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    const m3 = i.writeMessage(intro);
    expect(Buffer.from(m3).includes(Buffer.from(intro))).toBe(false);
    const tampered = pair();
    tampered.r.readMessage(tampered.i.writeMessage());
    tampered.i.readMessage(tampered.r.writeMessage());
    const t3 = tampered.i.writeMessage(intro);
    t3[t3.length - 20]! ^= 1; // inside the sealed introduction
    expect(() => tampered.r.readMessage(t3)).toThrow(NoiseError);
    r.readMessage(m3);
    expect(new TextDecoder().decode(r.remotePayload)).toBe('my attested record');
    // only the third message may carry one
    const early = pair();
    expect(() => early.i.writeMessage(intro)).toThrow(NoiseError);
  });

  it('rejects messages of the wrong length or out of turn', () => {
    const { i, r } = pair();
    expect(() => r.readMessage(new Uint8Array(31))).toThrow(NoiseError);
    expect(() => r.writeMessage()).toThrow(NoiseError);
    expect(() => i.readMessage(new Uint8Array(96))).toThrow(NoiseError);
  });

  it('transport messages are RFC 8439 ChaChaPoly with the Noise nonce (same bytes as noble)', () => {
    const key = randomBytes(32);
    const ad = randomBytes(32);
    const send = new CipherState(key);
    const receive = new CipherState(key);
    for (const [n, size] of [0, 1, 63, 64, 300, 4096].entries()) {
      const nonce = new Uint8Array(12);
      new DataView(nonce.buffer).setBigUint64(4, BigInt(n), true);
      const msg = randomBytes(size);
      const ours = send.encrypt(ad, msg);
      expect(Buffer.from(ours)).toEqual(Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(msg)));
      expect(Buffer.from(receive.decrypt(ad, ours))).toEqual(msg);
    }
    const short = new CipherState(key);
    expect(() => short.decrypt(ad, new Uint8Array(15))).toThrow(NoiseError);
    const tampered = new CipherState(key);
    const c = new CipherState(key).encrypt(ad, new Uint8Array([1, 2, 3]));
    c[c.length - 1]! ^= 1;
    expect(() => tampered.decrypt(ad, c)).toThrow(NoiseError);
  });
});
