/**
 * Server key material to and from JSON for storage. The result holds secrets (x_server, the
 * Paillier primes, a MuSig2 secret key): it is only ever written through StorageBox.
 */
import type { ServerKeyShare } from '../ecdsa2p/types.ts';
import { paillierSecretKey } from '../paillier.ts';
import {
  bytesToWire,
  intToWire,
  parseBytes,
  parsePoint,
  parseScalar,
  parseWireInt,
  pointToWire,
  scalarToWire,
} from '../wire.ts';

export interface EcdsaShareJson {
  kind: 'ecdsa-2p';
  xServer: string;
  qServer: string;
  qClient: string;
  q: string;
  chainCode: string;
  paillierP: string;
  paillierQ: string;
  ckey: string;
  clientRingPedersen: { nHat: string; s: string; t: string };
}

export interface MusigShareJson {
  kind: 'musig2';
  secretKey: string;
  qServer: string;
  qClient: string;
  q: string;
}

export type StoredShareJson = EcdsaShareJson | MusigShareJson;

export function ecdsaShareToJson(s: ServerKeyShare): EcdsaShareJson {
  return {
    kind: 'ecdsa-2p',
    xServer: scalarToWire(s.xServer),
    qServer: pointToWire(s.qServer),
    qClient: pointToWire(s.qClient),
    q: pointToWire(s.q),
    chainCode: bytesToWire(s.chainCode),
    paillierP: intToWire(s.paillier.p),
    paillierQ: intToWire(s.paillier.q),
    ckey: intToWire(s.ckey),
    clientRingPedersen: {
      nHat: intToWire(s.clientRingPedersen.nHat),
      s: intToWire(s.clientRingPedersen.s),
      t: intToWire(s.clientRingPedersen.t),
    },
  };
}

export function ecdsaShareFromJson(j: EcdsaShareJson): ServerKeyShare {
  const paillier = paillierSecretKey(
    parseWireInt('paillierP', j.paillierP, 4096),
    parseWireInt('paillierQ', j.paillierQ, 4096),
  );
  return {
    xServer: parseScalar('xServer', j.xServer),
    qServer: parsePoint('qServer', j.qServer),
    qClient: parsePoint('qClient', j.qClient),
    q: parsePoint('q', j.q),
    chainCode: parseBytes('chainCode', j.chainCode, 32),
    paillier,
    ckey: parseWireInt('ckey', j.ckey, 16384),
    clientRingPedersen: {
      nHat: parseWireInt('nHat', j.clientRingPedersen.nHat, 8192),
      s: parseWireInt('s', j.clientRingPedersen.s, 8192),
      t: parseWireInt('t', j.clientRingPedersen.t, 8192),
    },
  };
}
