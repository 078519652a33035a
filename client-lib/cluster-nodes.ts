/**
 * A wallet records every node of its cluster and learns the current ones each time it talks to
 * the vault (`GET /v1/cluster/members`), so a node that moves or goes away does not cut it off.
 *
 * The membership answer comes from one node and proves nothing by itself, so a URL it names is
 * recorded only once that URL, asked on its own, passes the wallet's whole backup check: an
 * attestation binding the cluster keys recorded in the wallet, this wallet's receipt signed by
 * them, and a wallet status that agrees. Nothing a node says removes a URL: the list only grows,
 * up to MAX_WALLET_NODES, so a hostile or confused node can neither slip in a foreign node nor
 * make the wallet forget the good ones. What it can do is fill the free slots with proxies to the
 * real cluster (they pass the check); that costs the wallet nothing while they forward, and the
 * nodes it recorded before stay. Current members are tried first.
 */
import { verifyBackup } from './backup.ts';
import { ClientError } from './errors.ts';
import type { RandomBytes } from './random.ts';
import type { VaultClient } from './vault-client.ts';
import type { Wallet } from './wallet.ts';

/** The wallet file's own bound on vaultUrls. */
export const MAX_WALLET_NODES = 64;
/** A cluster is 2n+1 small; an answer listing more is refused whole. */
export const MAX_MEMBERS_ANSWER = 32;
export const MAX_NODE_URL_CHARS = 256;
/** How long checking one newly named node may take per request. */
const CANDIDATE_TIMEOUT_MS = 10_000;

const refuse = (why: string) =>
  new ClientError('VAULT_RESPONSE', `vault response: cluster members: ${why}`);

/**
 * A node's URL as the wallet records it: `http(s)://host[:port]` and nothing else (no user,
 * password, path, query or fragment), or null.
 */
export function nodeOrigin(url: string): string | null {
  if (url.length > MAX_NODE_URL_CHARS) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== ''))
    return null;
  return u.origin;
}

/** The member URLs of a `GET /v1/cluster/members` answer; throws VAULT_RESPONSE on any bad part. */
export function parseMemberUrls(answer: unknown): string[] {
  const members = (answer as { members?: unknown } | null)?.members;
  if (!Array.isArray(members)) throw refuse('no members list');
  if (members.length > MAX_MEMBERS_ANSWER) {
    throw refuse(`${members.length} members (at most ${MAX_MEMBERS_ANSWER})`);
  }
  const urls = members.map((m, i) => {
    const url = (m as { url?: unknown } | null)?.url;
    const origin = typeof url === 'string' ? nodeOrigin(url) : null;
    if (origin === null) throw refuse(`members[${i}].url is not an http(s) origin`);
    return origin;
  });
  return [...new Set(urls)];
}

export interface LearnedNodes {
  /** The wallet's URLs after learning: current members first, nothing removed. */
  vaultUrls: string[];
  /** URLs newly recorded (each passed the backup check on its own). */
  added: string[];
  /** Named (by the cluster or the user) but not recorded: failed the check, or no room. */
  refused: string[];
  /** Why no membership was learned (the cluster's answer was unreachable or malformed). */
  membershipError: string | null;
}

/**
 * Learns the cluster's current nodes through `vault` and checks each URL the wallet does not
 * record yet (plus `given`: URLs a user named), each on its own. Never throws for a node that
 * fails: the command that asked goes on with the nodes it has.
 */
export async function learnClusterNodes(args: {
  wallet: Wallet;
  vault: VaultClient;
  random: RandomBytes;
  given?: readonly string[];
}): Promise<LearnedNodes> {
  const recorded = args.wallet.vaultUrls;
  let members: string[] = [];
  let membershipError: string | null = null;
  try {
    const answer = await args.vault.members();
    if (answer !== null) members = parseMemberUrls(answer);
  } catch (err) {
    membershipError = err instanceof Error ? err.message : String(err);
  }
  const given = (args.given ?? []).map((u) => nodeOrigin(u) ?? u);
  const candidates = [...new Set([...given, ...members])].filter((u) => !recorded.includes(u));
  const room = Math.max(0, MAX_WALLET_NODES - recorded.length);
  const checked = await Promise.all(
    candidates.slice(0, room).map(async (url) => {
      const node = args.vault.forNodes([url], {
        retryDelaysMs: [],
        requestTimeoutMs: CANDIDATE_TIMEOUT_MS,
      });
      try {
        await verifyBackup({ wallet: args.wallet, vault: node, random: args.random });
        return url;
      } catch {
        return null;
      }
    }),
  );
  const added = checked.filter((u): u is string => u !== null);
  const all = [...recorded, ...added];
  const current = all.filter((u) => members.includes(u));
  return {
    vaultUrls: [...current, ...all.filter((u) => !current.includes(u))],
    added,
    refused: candidates.filter((u) => !added.includes(u)),
    membershipError,
  };
}
