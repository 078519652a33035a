/**
 * The link handshake's introduction (issue 11 item 11): a dialer says which cluster it belongs to
 * (the cluster id from the genesis it applied) and sends its attested directory record. A member
 * that lags behind the addition of a newer member, which then leads, has no record of that
 * leader in its replayed directory; the introduction lets it admit the leader's link anyway.
 *
 * Why this admits only members of this cluster: the introduction travels in the Noise handshake's
 * third message, encrypted and authenticated by the keys that prove the dialer's static key, and
 * the record's attestation binds that key to a trusted image. So the statement comes from our own
 * code inside an enclave, which names only the cluster whose genesis it applied, a fact the host
 * cannot change (the id is random, made by the first leader, and a node learns it only from the
 * genesis it applies, never from its configuration; it is public, which does not matter: what
 * counts is who says it). A node of another cluster founded by the same image (even under the
 * same configured cluster name) names another id.
 */
import { Reader, Writer } from '../../cluster/index.ts';
import type { AttestationVerifier } from '../enclave/index.ts';
import { bytesEqual } from '../protocol/index.ts';
import { type Member, readMember, writeMember } from './codec.ts';
import { memberAttested } from './identity.ts';

const INTRODUCTION_TAG = 'vigil/v1/cluster-link/introduction';

export interface Introduction {
  /** The cluster id of the genesis the dialer applied (`ClusterSecrets.clusterId`). */
  clusterId: Uint8Array;
  record: Member;
}

export function encodeIntroduction(i: Introduction): Uint8Array {
  const w = new Writer().str(INTRODUCTION_TAG).bytes(i.clusterId);
  return writeMember(w, i.record).finish();
}

/** Null for anything malformed (a refused link, nothing else). */
export function decodeIntroduction(bytes: Uint8Array): Introduction | null {
  try {
    const r = new Reader(bytes);
    if (r.str(64) !== INTRODUCTION_TAG) return null;
    const clusterId = r.bytes(64);
    const record = readMember(r);
    r.end();
    return { clusterId, record };
  } catch {
    return null;
  }
}

export interface VouchContext {
  /** The static key the dialer proved in the handshake. */
  remoteStatic: Uint8Array;
  /** This member's cluster id (null before it applied the genesis: it vouches for nobody). */
  clusterId: Uint8Array | null;
  /** The directory this member's replay has reached. */
  members: ReadonlyMap<string, Member>;
  /** Every member id the replay has named (a named id no longer in `members` was removed). */
  replayedIds: ReadonlySet<string>;
  verifier: AttestationVerifier;
}

/**
 * Why an introduced dialer is refused, or null when its link may be admitted: the same cluster,
 * its record attested and carrying the key it proved, not an identity the replay removed, and not
 * stale by generation (its slot has no other member of the same or a newer generation).
 */
export function introductionRefusal(intro: Introduction | null, c: VouchContext): string | null {
  if (intro === null) return 'malformed introduction';
  if (c.clusterId === null) return 'this member has not applied the genesis yet';
  if (!bytesEqual(intro.clusterId, c.clusterId)) return 'another cluster';
  const m = intro.record;
  if (!bytesEqual(m.publicKey, c.remoteStatic)) return 'its record names another key';
  if (c.replayedIds.has(m.id) && !c.members.has(m.id)) return 'a removed member';
  for (const other of c.members.values()) {
    if (other.slot === m.slot && other.id !== m.id && other.generation >= m.generation) {
      return `slot ${m.slot} already has generation ${other.generation}`;
    }
  }
  // last: the only expensive check
  if (!memberAttested(c.verifier, m)) return 'attestation refused';
  return null;
}
