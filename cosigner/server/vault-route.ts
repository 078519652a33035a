/**
 * Which vault node to talk to (a pure core: no clock, no sockets). It knows the configured seed
 * URLs and the cluster's membership as last reported by a node, prefers the node that last
 * answered or that a follower named as leader, and after a failure moves on to the others, so
 * losing one node costs a ping round one failed attempt, not the round.
 */

/** `http(s)://host[:port]` of a URL, or null when it is not an http(s) URL. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

/** At most this many URLs are kept from a membership answer (a cluster is 2n+1 small). */
const MAX_MEMBERS = 32;

export class VaultRoute {
  readonly #seeds: string[];
  #members: string[] = [];
  #preferred: string | null = null;

  constructor(seeds: readonly string[]) {
    const ok = seeds.map(originOf).filter((u): u is string => u !== null);
    if (ok.length === 0) throw new Error('a vault route needs at least one http(s) URL');
    this.#seeds = [...new Set(ok)];
  }

  /** Every node known: the cluster's members, then seeds they do not list. */
  get urls(): string[] {
    return [...new Set([...this.#members, ...this.#seeds])];
  }

  /** The order to try nodes in: the preferred (last good or named leader) first. */
  order(): string[] {
    const all = this.urls;
    const p = this.#preferred;
    return p === null ? all : [p, ...all.filter((u) => u !== p)];
  }

  /** A node answered and committed: keep talking to it. */
  succeeded(url: string): void {
    this.#preferred = url;
  }

  /** A node did not answer (or could not commit): prefer it no longer. */
  failed(url: string): void {
    if (this.#preferred === url) this.#preferred = null;
  }

  /** A follower named the leader (a redirect): try it first. Returns its origin, if valid. */
  leader(url: string): string | null {
    const o = originOf(url);
    if (o !== null) this.#preferred = o;
    return o;
  }

  /**
   * A node's membership answer replaces the members learned before (seeds are always kept, so a
   * wrong answer cannot cut the cosigner off from its configuration). Malformed entries are
   * dropped. Returns whether the set changed.
   */
  learn(answer: unknown): boolean {
    const a = answer as { members?: unknown; leaderUrl?: unknown } | null;
    if (!a || !Array.isArray(a.members)) return false;
    const urls = a.members
      .slice(0, MAX_MEMBERS)
      .map((m) => (typeof m?.url === 'string' ? originOf(m.url) : null))
      .filter((u): u is string => u !== null);
    if (typeof a.leaderUrl === 'string') this.leader(a.leaderUrl);
    return this.setMembers(urls);
  }

  /** Replaces the learned members (e.g. with what another thread's route learned). */
  setMembers(urls: readonly string[]): boolean {
    const ok = urls.map(originOf).filter((u): u is string => u !== null);
    if (ok.length === 0) return false;
    const before = this.urls.join(' ');
    this.#members = [...new Set(ok)];
    return this.urls.join(' ') !== before;
  }
}
