/**
 * The server's encrypted share and everything the client checks before using it: the Paillier
 * modulus is a Blum modulus (Πmod) with no small factor (Πfac), and ckey = Enc(x_server) encrypts
 * the discrete log of Q_server and is small (Πlog*). Used by keygen and by refresh.
 */
import { assertCiphertext, encrypt, paillierPublicKey } from '../paillier.ts';
import type { RandomBytes } from '../random.ts';
import { field, intToWire, type Point, parseWireInt } from '../wire.ts';
import type { PartyId } from '../zk/context.ts';
import {
  type ModulusProofWire,
  modulusProofToWire,
  parseModulusProof,
  verifyModulus,
} from '../zk/modulus.ts';
import {
  type NoSmallFactorWire,
  noSmallFactorToWire,
  parseNoSmallFactor,
  proveNoSmallFactor,
  verifyNoSmallFactor,
} from '../zk/no-small-factor.ts';
import {
  type PaillierDlogWire,
  paillierDlogToWire,
  parsePaillierDlog,
  provePaillierDlog,
  verifyPaillierDlog,
} from '../zk/paillier-dlog.ts';
import type { RingPedersen } from '../zk/ring-pedersen.ts';
import { SERVER_PAILLIER_OWNER } from './setup.ts';
import type { ProvenPaillierKey, SecurityPolicy } from './types.ts';

export interface EncryptedShareWire {
  paillierN: string;
  piMod: ModulusProofWire;
  piFac: NoSmallFactorWire;
  ckey: string;
  piLog: PaillierDlogWire;
}

const ctx = (sessionId: Uint8Array, purpose: string) => ({
  sessionId,
  prover: 'server' as PartyId,
  purpose,
});

export function proveEncryptedShare(
  sessionId: Uint8Array,
  purpose: string,
  xServer: bigint,
  qServer: Point,
  key: ProvenPaillierKey,
  clientRp: RingPedersen,
  rng: RandomBytes,
): { ckey: bigint; wire: EncryptedShareWire } {
  const { sk } = key;
  const { c: ckey, r } = encrypt(sk, xServer, rng);
  const piFac = proveNoSmallFactor(ctx(sessionId, `${purpose}/fac`), sk, clientRp, rng);
  const piLog = provePaillierDlog(
    ctx(sessionId, `${purpose}/log`),
    { pk: sk, c: ckey, x: qServer, rp: clientRp },
    { x: xServer, rho: r },
    rng,
  );
  return {
    ckey,
    wire: {
      paillierN: intToWire(sk.n),
      piMod: modulusProofToWire(key.modulusProof),
      piFac: noSmallFactorToWire(piFac),
      ckey: intToWire(ckey),
      piLog: paillierDlogToWire(piLog),
    },
  };
}

/** Parses and verifies everything; returns the server's modulus and ckey only if all holds. */
export function verifyEncryptedShare(
  sessionId: Uint8Array,
  purpose: string,
  wire: unknown,
  qServer: Point,
  clientRp: RingPedersen,
  policy: SecurityPolicy,
): { paillierN: bigint; ckey: bigint } {
  // Upper bound only guards parsing; the policy sets the lower bound inside verifyModulus.
  const maxBits = Math.max(policy.paillierBits, policy.ringPedersenBits) * 2;
  const n = parseWireInt('paillierN', field(wire, 'paillierN'), maxBits);
  verifyModulus(
    n,
    SERVER_PAILLIER_OWNER,
    parseModulusProof(field(wire, 'piMod'), maxBits),
    policy.paillierBits,
  );
  const pk = paillierPublicKey(n);
  verifyNoSmallFactor(
    ctx(sessionId, `${purpose}/fac`),
    n,
    clientRp,
    parseNoSmallFactor(field(wire, 'piFac'), maxBits),
  );
  const ckey = parseWireInt('ckey', field(wire, 'ckey'), 2 * maxBits);
  assertCiphertext(pk, ckey, 'ckey');
  verifyPaillierDlog(
    ctx(sessionId, `${purpose}/log`),
    { pk, c: ckey, x: qServer, rp: clientRp },
    parsePaillierDlog(field(wire, 'piLog'), maxBits),
  );
  return { paillierN: n, ckey };
}
