/** Runs the protocols end to end in memory (tests and bench). */
import type { RandomBytes } from '../random.ts';
import { ClientKeygen, ServerKeygen } from './keygen.ts';
import { ClientSigner, ServerSigner } from './sign.ts';
import type {
  ClientKeyShare,
  ClientSetup,
  EcdsaSignature,
  KeyLock,
  ProvenPaillierKey,
  SecurityPolicy,
  ServerKeyShare,
} from './types.ts';

/** JSON round trip: what actually crosses the wire. */
export function wire<T>(msg: T): unknown {
  return JSON.parse(JSON.stringify(msg));
}

export function runKeygen(opts: {
  sessionId: Uint8Array;
  paillier: ProvenPaillierKey;
  setup: ClientSetup;
  policy: SecurityPolicy;
  rng: RandomBytes;
}): { server: ServerKeyShare; client: ClientKeyShare } {
  const client = new ClientKeygen({ ...opts });
  const server = new ServerKeygen({ ...opts });
  const m1 = client.start();
  const m2 = server.respond(wire(m1));
  const { message: m3, share: clientShare } = client.finish(wire(m2));
  const serverShare = server.finish(wire(m3));
  return { server: serverShare, client: clientShare };
}

export function runSign(opts: {
  sessionId: Uint8Array;
  server: ServerKeyShare;
  client: ClientKeyShare;
  lock: KeyLock;
  messageHash: Uint8Array;
  path?: readonly number[];
  rng: RandomBytes;
}): EcdsaSignature {
  const c = new ClientSigner({ ...opts, share: opts.client });
  const s = new ServerSigner({ ...opts, share: opts.server });
  const m2 = s.respond(wire(c.start()));
  return s.finish(wire(c.finish(wire(m2))));
}
