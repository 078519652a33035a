/** BIP-327 vectors (all eight files) against the @scure/btc-signer functions the signer uses. */
import { schnorr } from '@noble/curves/secp256k1.js';
import * as musig from '@scure/btc-signer/musig2.js';
import { expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const load = (name: string): any => JSON.parse(readVectorText('bip327', name));
const pick = (all: string[], idx: number[]) => idx.map((i) => hex(all[i] as string));

describeWithVectors('bip327', 'BIP-327 vectors', () => {
  it('key_sort', () => {
    const v = load('key_sort_vectors.json');
    expect(musig.sortKeys(v.pubkeys.map(hex)).map(toHex)).toEqual(v.sorted_pubkeys);
  });

  it('key_agg (valid and error cases)', () => {
    const v = load('key_agg_vectors.json');
    for (const c of v.valid_test_cases) {
      expect(toHex(musig.keyAggExport(musig.keyAggregate(pick(v.pubkeys, c.key_indices))))).toBe(
        c.expected,
      );
    }
    for (const c of v.error_test_cases) {
      expect(() =>
        musig.keyAggregate(
          pick(v.pubkeys, c.key_indices),
          pick(v.tweaks, c.tweak_indices),
          c.is_xonly,
        ),
      ).toThrow();
    }
  });

  it('nonce_gen', () => {
    const v = load('nonce_gen_vectors.json');
    const opt = (s: string | null) => (s === null ? undefined : hex(s));
    for (const c of v.test_cases) {
      const n = musig.nonceGen(
        hex(c.pk),
        opt(c.sk),
        opt(c.aggpk),
        opt(c.msg),
        opt(c.extra_in),
        hex(c.rand_),
      );
      expect(toHex(n.secret)).toBe(c.expected_secnonce);
      expect(toHex(n.public)).toBe(c.expected_pubnonce);
    }
  });

  it('nonce_agg (valid and error cases)', () => {
    const v = load('nonce_agg_vectors.json');
    for (const c of v.valid_test_cases) {
      expect(toHex(musig.nonceAggregate(pick(v.pnonces, c.pnonce_indices)))).toBe(c.expected);
    }
    for (const c of v.error_test_cases) {
      expect(() => musig.nonceAggregate(pick(v.pnonces, c.pnonce_indices))).toThrow();
    }
  });

  it('sign_verify (valid, sign errors, verify failures, verify errors)', () => {
    const v = load('sign_verify_vectors.json');
    const sk = hex(v.sk);
    for (const c of v.valid_test_cases) {
      const keys = pick(v.pubkeys, c.key_indices);
      const session = new musig.Session(
        hex(v.aggnonces[c.aggnonce_index]),
        keys,
        hex(v.msgs[c.msg_index]),
      );
      const secnonce = hex(v.secnonces[0]);
      expect(toHex(session.sign(secnonce, sk))).toBe(c.expected);
      expect(secnonce.subarray(0, 64).every((b) => b === 0)).toBe(true);
      expect(
        session.partialSigVerify(hex(c.expected), pick(v.pnonces, c.nonce_indices), c.signer_index),
      ).toBe(true);
    }
    for (const c of v.sign_error_test_cases) {
      expect(() => {
        const session = new musig.Session(
          hex(v.aggnonces[c.aggnonce_index]),
          pick(v.pubkeys, c.key_indices),
          hex(v.msgs[c.msg_index]),
        );
        session.sign(hex(v.secnonces[c.secnonce_index]), sk);
      }).toThrow();
    }
    for (const c of v.verify_fail_test_cases) {
      const pnonces = pick(v.pnonces, c.nonce_indices);
      const session = new musig.Session(
        musig.nonceAggregate(pnonces),
        pick(v.pubkeys, c.key_indices),
        hex(v.msgs[c.msg_index]),
      );
      let ok: boolean;
      try {
        ok = session.partialSigVerify(hex(c.sig), pnonces, c.signer_index);
      } catch {
        ok = false;
      }
      expect(ok).toBe(false);
    }
    for (const c of v.verify_error_test_cases) {
      expect(() => {
        const pnonces = pick(v.pnonces, c.nonce_indices);
        const session = new musig.Session(
          musig.nonceAggregate(pnonces),
          pick(v.pubkeys, c.key_indices),
          hex(v.msgs[c.msg_index]),
        );
        session.partialSigVerify(hex(c.sig), pnonces, c.signer_index);
      }).toThrow();
    }
  });

  it('tweak (valid and error cases)', () => {
    const v = load('tweak_vectors.json');
    const sk = hex(v.sk);
    for (const c of v.valid_test_cases) {
      const keys = pick(v.pubkeys, c.key_indices);
      const tweaks = pick(v.tweaks, c.tweak_indices);
      const session = new musig.Session(hex(v.aggnonce), keys, hex(v.msg), tweaks, c.is_xonly);
      expect(toHex(session.sign(hex(v.secnonce), sk))).toBe(c.expected);
      expect(
        session.partialSigVerify(hex(c.expected), pick(v.pnonces, c.nonce_indices), c.signer_index),
      ).toBe(true);
    }
    for (const c of v.error_test_cases) {
      expect(() => {
        const session = new musig.Session(
          hex(v.aggnonce),
          pick(v.pubkeys, c.key_indices),
          hex(v.msg),
          pick(v.tweaks, c.tweak_indices),
          c.is_xonly,
        );
        session.sign(hex(v.secnonce), sk);
      }).toThrow();
    }
  });

  it('det_sign (valid and error cases)', () => {
    const v = load('det_sign_vectors.json');
    const sk = hex(v.sk);
    for (const c of v.valid_test_cases) {
      const out = musig.deterministicSign(
        sk,
        hex(c.aggothernonce),
        pick(v.pubkeys, c.key_indices),
        hex(v.msgs[c.msg_index]),
        (c.tweaks as string[]).map(hex),
        c.is_xonly,
        c.rand === null ? undefined : hex(c.rand),
      );
      expect([toHex(out.publicNonce), toHex(out.partialSig)]).toEqual(c.expected);
    }
    for (const c of v.error_test_cases) {
      expect(() =>
        musig.deterministicSign(
          sk,
          hex(c.aggothernonce),
          pick(v.pubkeys, c.key_indices),
          hex(v.msgs[c.msg_index]),
          (c.tweaks as string[]).map(hex),
          c.is_xonly,
          c.rand === null ? undefined : hex(c.rand),
        ),
      ).toThrow();
    }
  });

  it('sig_agg (valid and error cases), final signatures verify under BIP-340', () => {
    const v = load('sig_agg_vectors.json');
    const msg = hex(v.msg);
    for (const c of v.valid_test_cases) {
      const keys = pick(v.pubkeys, c.key_indices);
      const tweaks = pick(v.tweaks, c.tweak_indices);
      const session = new musig.Session(hex(c.aggnonce), keys, msg, tweaks, c.is_xonly);
      const sig = session.partialSigAgg(pick(v.psigs, c.psig_indices));
      expect(toHex(sig)).toBe(c.expected);
      const agg = musig.keyAggExport(musig.keyAggregate(keys, tweaks, c.is_xonly));
      expect(schnorr.verify(sig, msg, agg)).toBe(true);
    }
    for (const c of v.error_test_cases) {
      expect(() => {
        const session = new musig.Session(
          hex(c.aggnonce),
          pick(v.pubkeys, c.key_indices),
          msg,
          pick(v.tweaks, c.tweak_indices),
          c.is_xonly,
        );
        session.partialSigAgg(pick(v.psigs, c.psig_indices));
      }).toThrow();
    }
  });
});

describeWithVectors('bip340', 'BIP-340 verifier vectors (the final-signature check)', () => {
  it('noble schnorr.verify agrees with every vector', () => {
    const lines = readVectorText('bip340', 'test-vectors.csv').trim().split(/\r?\n/).slice(1);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const [, , pub, , msg, sig, result] = line.split(',');
      let ok: boolean;
      try {
        ok = schnorr.verify(hex(sig as string), hex(msg as string), hex(pub as string));
      } catch {
        ok = false;
      }
      expect(ok, line).toBe(result === 'TRUE');
    }
  });
});
