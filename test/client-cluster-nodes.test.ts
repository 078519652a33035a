/**
 * A wallet learns its cluster's nodes from `GET /v1/cluster/members` and records only those that
 * pass the backup check on their own (client-lib/cluster-nodes.ts). Real vault nodes on loopback;
 * the hostile node is a real HTTP server that says whatever the test wants about the membership.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  learnClusterNodes,
  MAX_WALLET_NODES,
  nodeOrigin,
  parseMemberUrls,
  systemRandom,
  VaultClient,
  type Wallet,
} from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';

let vault: LocalVault;
let foreign: LocalVault;
let hostile: { server: Server; url: string; answer: unknown };
let wallet: Wallet;

beforeAll(async () => {
  vault = await startLocalVault();
  foreign = await startLocalVault();
  ({ wallet } = await vault.deposit('additive'));
  const h = { answer: {} as unknown } as { server: Server; url: string; answer: unknown };
  h.server = createServer((req, res) => {
    const body = req.url === '/v1/cluster/members' ? h.answer : { error: { code: 'NOT_FOUND' } };
    res.writeHead(req.url === '/v1/cluster/members' ? 200 : 404, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  h.url = `http://127.0.0.1:${(h.server.address() as { port: number }).port}`;
  hostile = h;
}, 60_000);

afterAll(async () => {
  await vault?.close();
  await foreign?.close();
  await new Promise((r) => hostile?.server.close(r));
});

const members = (...urls: string[]) => ({
  members: urls.map((url, i) => ({ id: `node-${i + 1}`, url, voter: true })),
  leaderUrl: null,
});

/** The wallet as recorded with the hostile node first, so it answers the membership question. */
function learnVia(answer: unknown, recorded = [hostile.url]) {
  hostile.answer = answer;
  const w = { ...wallet, vaultUrls: recorded };
  return learnClusterNodes({
    wallet: w,
    vault: new VaultClient(w.vaultUrls, { retryDelaysMs: [] }),
    random: systemRandom,
  });
}

describe('node URLs and membership answers', () => {
  it('keeps only bare http(s) origins', () => {
    expect(nodeOrigin('http://127.0.0.1:4000')).toBe('http://127.0.0.1:4000');
    expect(nodeOrigin('https://vault.example/')).toBe('https://vault.example');
    for (const bad of [
      'ftp://vault.example',
      'http://user:pw@vault.example',
      'http://vault.example/v1',
      'http://vault.example?x=1',
      'http://vault.example#x',
      'file:///etc/passwd',
      'not a url',
      `http://${'a'.repeat(300)}.example`,
    ]) {
      expect(nodeOrigin(bad), bad).toBeNull();
    }
  });

  it('refuses an answer whole when it is too long or any entry is malformed', () => {
    expect(parseMemberUrls(members('http://a:1', 'http://a:1/', 'http://b:2'))).toEqual([
      'http://a:1',
      'http://b:2',
    ]);
    const many = Array.from({ length: 33 }, (_, i) => `http://10.0.0.${i}:1`);
    expect(() => parseMemberUrls(members(...many))).toThrow(/33 members/);
    expect(() => parseMemberUrls(members('http://a:1', 'http://b:2/admin'))).toThrow(
      /members\[1\]/,
    );
    expect(() => parseMemberUrls({ members: [{ url: 7 }] })).toThrow(/members\[0\]/);
    expect(() => parseMemberUrls({ members: 'http://a:1' })).toThrow(/no members list/);
    expect(() => parseMemberUrls(null)).toThrow(/no members list/);
  });
});

describe('learning the cluster nodes', () => {
  it('records a named member only when it passes the backup check on its own', async () => {
    const r = await learnVia(members(vault.url, foreign.url, 'http://127.0.0.1:9'));
    expect(r.membershipError).toBeNull();
    expect(r.added).toEqual([vault.url]);
    expect(r.refused.sort()).toEqual([foreign.url, 'http://127.0.0.1:9'].sort());
    // current members first; the node the wallet had stays
    expect(r.vaultUrls).toEqual([vault.url, hostile.url]);
  });

  it('a hostile answer never removes a recorded node', async () => {
    const recorded = [hostile.url, vault.url];
    for (const answer of [
      members(),
      members(foreign.url),
      members(...Array.from({ length: 33 }, (_, i) => `http://10.0.0.${i}:1`)),
      { members: [{ url: 'javascript:alert(1)' }] },
      'junk',
    ]) {
      const r = await learnVia(answer, recorded);
      expect(r.added).toEqual([]);
      expect(new Set(r.vaultUrls)).toEqual(new Set(recorded));
    }
    const malformed = await learnVia({ members: [{ url: 'http://x/y' }] }, recorded);
    expect(malformed.membershipError).toMatch(/members\[0\]\.url/);
  });

  it('stays within the wallet file bound', async () => {
    const full = Array.from({ length: MAX_WALLET_NODES }, (_, i) => `http://127.0.0.2:${i + 1}`);
    const r = await learnVia(members(vault.url), [hostile.url, ...full.slice(2)]);
    expect(r.vaultUrls).toHaveLength(MAX_WALLET_NODES);
    expect(r.added).toEqual([vault.url]);
    const again = await learnVia(members(vault.url), [hostile.url, ...full.slice(1)]);
    expect(again.added).toEqual([]);
    expect(again.refused).toEqual([vault.url]);
    expect(again.vaultUrls).toHaveLength(MAX_WALLET_NODES);
  });

  it('learns nothing, and keeps its nodes, from a single node that serves no membership', async () => {
    const w = { ...wallet, vaultUrls: [vault.url] };
    const r = await learnClusterNodes({
      wallet: w,
      vault: new VaultClient(w.vaultUrls, { retryDelaysMs: [] }),
      random: systemRandom,
    });
    expect(r).toEqual({ vaultUrls: [vault.url], added: [], refused: [], membershipError: null });
  });
});
