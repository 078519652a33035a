/**
 * The cosigner's request logic between HTTP and the protocol state machines: authentication and
 * replay checks, sessions, storage, audit events, vault deposits. One mutex per wallet orders
 * every state change of that wallet; protocol computation itself runs outside storage writes.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import type { Logger } from 'pino';
import { parseHex } from '../../vault/index.ts';
import {
  type DeriveResponse,
  type KeyStateJson,
  type MusigSignResponse,
  type RegisterRequest,
  requestBytes,
  type VaultDepositJson,
  type WalletPolicy,
  type WalletStatusJson,
} from '../api.ts';
import { musigOrder, protocolSessionId } from '../client.ts';
import { derivePublic } from '../derive.ts';
import type { KeygenMsg2 } from '../ecdsa2p/keygen.ts';
import { ServerKeygen } from '../ecdsa2p/keygen.ts';
import type { RefreshMsg2, RefreshMsg4 } from '../ecdsa2p/refresh.ts';
import { ServerRefresh } from '../ecdsa2p/refresh.ts';
import { ringPedersenId } from '../ecdsa2p/setup.ts';
import type { SignMsg2 } from '../ecdsa2p/sign.ts';
import { ServerSigner, signatureToWire } from '../ecdsa2p/sign.ts';
import type {
  KeyLock,
  ProvenPaillierKey,
  SecurityPolicy,
  ServerKeyShare,
} from '../ecdsa2p/types.ts';
import { CosignerError, cosignerError } from '../errors.ts';
import {
  aggregatePoint,
  aggregateXOnly,
  BIP328_CHAIN_CODE,
  MusigSigner,
  planFor,
} from '../musig2/signer.ts';
import type { PaillierKeyPool } from '../paillier-pool.ts';
import { bigIntToBytes, randomScalar, systemRandom } from '../random.ts';
import { CURVE_ORDER, G, parseBytes, parsePoint, pointToWire, scalarToWire } from '../wire.ts';
import type { RingPedersen } from '../zk/ring-pedersen.ts';
import type { DepositBudget } from './deposit-budget.ts';
import type { CosignerMetrics } from './metrics.ts';
import type { Quota } from './quota.ts';
import type { SessionKind, SessionTable } from './sessions.ts';
import {
  type EcdsaShareJson,
  ecdsaShareFromJson,
  ecdsaShareToJson,
  type MusigShareJson,
} from './share-codec.ts';
import type { CosignerStore, StoredKey, WalletRecord } from './store.ts';
import type { VaultLink } from './vault-link.ts';

const rng = systemRandom;

export interface PolicyLimits {
  groups: readonly ('rsa2048' | 'class1024')[];
  minIterations: number;
  maxIterations: number;
  /** Policy kinds offered to wallets (absent: strict only); the vault tenant must offer them. */
  kinds?: readonly ('strict' | 'clock-gated')[];
}

/** Keygens and refreshes a wallet, and a client address, may start an hour (each spends a
 * pooled Paillier key if it gets that far, and a vault deposit if it finishes). */
export interface StartQuotas {
  wallet: Quota;
  client: Quota;
  /** Wallets a client address may register an hour (each may become a vault deposit). */
  registrations: Quota;
}

export interface ServiceOptions {
  store: CosignerStore;
  vault: VaultLink;
  pool: PaillierKeyPool;
  sessions: SessionTable;
  quotas: StartQuotas;
  /** Vault deposits held, with room kept for refreshes. */
  deposits: DepositBudget;
  metrics: CosignerMetrics;
  log: Logger;
  limits: PolicyLimits;
  /** Minimum sizes accepted for the client's ring-Pedersen modulus (default 2048 bits). */
  securityPolicy?: SecurityPolicy;
  now: () => number;
}

export interface AuthInput {
  method: string;
  path: string;
  walletId: string;
  counter: string | undefined;
  signature: string | undefined;
  body: string;
}

export class CosignerService {
  readonly #o: ServiceOptions;
  readonly #locks = new Map<string, KeyLock>();
  readonly #mutex = new Map<string, Promise<unknown>>();
  /** Ring-Pedersen parameters whose Πprm this server has verified (by their id). */
  readonly #verifiedRp = new Set<string>();

  constructor(opts: ServiceOptions) {
    this.#o = opts;
  }

  /** Runs `f` alone among the wallet's state changes. */
  #exclusive<T>(walletId: string, f: () => Promise<T>): Promise<T> {
    const prev = this.#mutex.get(walletId) ?? Promise.resolve();
    const next = prev.then(f, f);
    const settled = next.catch(() => undefined);
    this.#mutex.set(walletId, settled);
    void settled.then(() => {
      if (this.#mutex.get(walletId) === settled) this.#mutex.delete(walletId);
    });
    return next;
  }

  async #wallet(walletId: string): Promise<WalletRecord> {
    const w = await this.#o.store.wallet(walletId);
    if (!w) throw cosignerError('COSIGNER_WALLET_NOT_FOUND', 'no such wallet');
    return w;
  }

  #checkPolicy(p: WalletPolicy): void {
    const l = this.#o.limits;
    if (!l.groups.includes(p.group)) {
      throw cosignerError('COSIGNER_POLICY_REJECTED', `group ${p.group} is not offered`);
    }
    if (p.iterations < l.minIterations || p.iterations > l.maxIterations) {
      throw cosignerError(
        'COSIGNER_POLICY_REJECTED',
        `iterations must be in [${l.minIterations}, ${l.maxIterations}]`,
      );
    }
    const kind = p.kind ?? 'strict';
    if (!(l.kinds ?? ['strict']).includes(kind)) {
      throw cosignerError('COSIGNER_POLICY_REJECTED', `policy kind ${kind} is not offered`);
    }
    if ((kind === 'clock-gated') !== (p.delaySeconds !== undefined)) {
      throw cosignerError(
        'COSIGNER_POLICY_REJECTED',
        'a clock-gated policy, and only it, carries delaySeconds',
      );
    }
  }

  async register(
    req: RegisterRequest,
    auth: AuthInput,
    client: string,
  ): Promise<{ walletId: string }> {
    const authKey = parseBytes('authKey', req.authKey, 32);
    this.#checkPolicy(req.policy);
    if (auth.counter !== '0') throw cosignerError('COSIGNER_UNAUTHORIZED', 'counter must be 0');
    verifyAuth(auth, authKey);
    // Registration is open, and every wallet may become a vault deposit of this tenant: one
    // address may not fill the tenant's vault quota (WALLET_LIMIT) for everybody.
    const q = this.#o.quotas.registrations;
    const now = this.#o.now();
    const wait = q.waitMs(client, now);
    if (wait > 0) {
      throw new CosignerError(
        'COSIGNER_REGISTRATION_QUOTA',
        `at most ${q.perHour} wallets an hour from one address`,
        { retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) },
      );
    }
    q.spend(client, now);
    const walletId = hex(rng(32));
    const record: WalletRecord = {
      walletId,
      authKey: req.authKey,
      scheme: req.scheme,
      policy: req.policy,
      counter: 0,
      locked: false,
      generation: 0,
      pendingDeletions: [],
    };
    await this.#o.store.commit(record, this.#o.now(), [
      { event: 'registered', details: { scheme: req.scheme, authKey: req.authKey } },
    ]);
    return { walletId };
  }

  /** Verifies the request signature and consumes its counter (synced) before anything else. */
  async authenticate(auth: AuthInput): Promise<WalletRecord> {
    return this.#exclusive(auth.walletId, async () => {
      const w = await this.#wallet(auth.walletId);
      verifyAuth(auth, parseBytes('authKey', w.authKey, 32));
      const counter = Number(auth.counter);
      if (counter <= w.counter) {
        throw cosignerError('COSIGNER_REPLAYED', 'request counter is not above the last one');
      }
      const next = { ...w, counter };
      await this.#o.store.commit(next, this.#o.now(), []);
      return next;
    });
  }

  status(w: WalletRecord): WalletStatusJson {
    return {
      walletId: w.walletId,
      scheme: w.scheme,
      policy: w.policy,
      state: w.key ? 'active' : 'registered',
      locked: w.locked,
      ...(w.key ? { key: keyState(w.key, w.generation) } : {}),
    };
  }

  #requireKeyless(w: WalletRecord): void {
    if (w.key) throw cosignerError('COSIGNER_CONFLICT', 'this wallet already has a key');
  }

  #requireEcdsa(w: WalletRecord): { share: ServerKeyShare; key: StoredKey } {
    if (w.scheme !== 'ecdsa-2p') {
      throw cosignerError('COSIGNER_CONFLICT', 'this route is for two-party ECDSA wallets');
    }
    if (!w.key) throw cosignerError('COSIGNER_CONFLICT', 'this wallet has no key yet');
    return { share: ecdsaShareFromJson(w.key.share as EcdsaShareJson), key: w.key };
  }

  #lockOf(w: WalletRecord): KeyLock {
    let lock = this.#locks.get(w.walletId);
    if (!lock) {
      lock = { locked: w.locked };
      this.#locks.set(w.walletId, lock);
    }
    lock.locked ||= w.locked;
    return lock;
  }

  #rpCache() {
    let seen: RingPedersen | undefined;
    return {
      check: (rp: RingPedersen) => {
        seen = rp;
        return this.#verifiedRp.has(ringPedersenId(rp));
      },
      remember: () => {
        if (seen) this.#verifiedRp.add(ringPedersenId(seen));
      },
    };
  }

  /**
   * Charges one keygen or refresh start to the wallet and to the client's address, or refuses
   * with 429 and a retry hint: each start may cost a pooled Paillier key and the main thread's
   * verification of a Πprm, so no one principal may start them without bound.
   */
  #chargeStart(walletId: string, client: string, kind: SessionKind, sessionId: string): void {
    // A start that could get no key costs no allowance (clients retry it after Retry-After);
    // nothing awaits between here and the machine's take(), so the key is still there then.
    if (this.#o.pool.size === 0) throw this.#poolEmpty();
    const now = this.#o.now();
    const { wallet, client: byClient } = this.#o.quotas;
    const refuse = (
      code: 'COSIGNER_WALLET_QUOTA' | 'COSIGNER_CLIENT_QUOTA',
      q: Quota,
      ms: number,
    ) =>
      new CosignerError(code, `at most ${q.perHour} keygens and refreshes an hour`, {
        retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
      });
    const w = wallet.waitMs(walletId, now);
    if (w > 0) throw refuse('COSIGNER_WALLET_QUOTA', wallet, w);
    const c = byClient.waitMs(client, now);
    if (c > 0) throw refuse('COSIGNER_CLIENT_QUOTA', byClient, c);
    // A start the session table would refuse anyway (busy, id in use) costs no allowance.
    this.#o.sessions.checkOpen(walletId, kind, sessionId);
    wallet.spend(walletId, now);
    byClient.spend(client, now);
  }

  /**
   * A pooled Paillier key, called by the protocol machines only once the client's message is
   * accepted. The pool never makes one on this path (a second of CPU on the event loop); when it
   * is empty the client is told to retry while the worker thread refills it.
   */
  readonly #takeKey = (): ProvenPaillierKey => {
    const key = this.#o.pool.take();
    this.#o.metrics.poolSize.set(this.#o.pool.size);
    if (key) return key;
    throw this.#poolEmpty();
  };

  #poolEmpty(): CosignerError {
    return new CosignerError('COSIGNER_POOL_EMPTY', 'no Paillier key is ready; retry shortly', {
      retryAfterSeconds: this.#o.pool.retryAfterSeconds,
    });
  }

  keygenStart(w: WalletRecord, sessionId: string, msg1: unknown, client: string): KeygenMsg2 {
    this.#requireKeyless(w);
    if (w.scheme !== 'ecdsa-2p') {
      throw cosignerError('COSIGNER_CONFLICT', 'MuSig2 wallets use keygen-musig2');
    }
    const sid = parseBytes('sessionId', sessionId, 32);
    this.#o.deposits.check('new'); // before a key is spent on a keygen that could not deposit
    this.#chargeStart(w.walletId, client, 'keygen', sessionId);
    const cache = this.#rpCache();
    const machine = new ServerKeygen({
      sessionId: protocolSessionId(w.walletId, 'keygen', sid),
      paillier: this.#takeKey,
      rng,
      ringPedersenVerified: cache.check,
      ...(this.#o.securityPolicy ? { policy: this.#o.securityPolicy } : {}),
    });
    return this.#startSession(w, 'keygen', sessionId, machine, () => {
      const reply = machine.respond(msg1);
      cache.remember();
      return reply;
    });
  }

  async keygenFinish(w: WalletRecord, sessionId: string, msg3: unknown): Promise<KeyStateJson> {
    const machine = this.#takeSession<ServerKeygen>(w, 'keygen', sessionId);
    const share = machine.finish(msg3);
    return this.#exclusive(w.walletId, async () => {
      const current = await this.#wallet(w.walletId);
      this.#requireKeyless(current);
      const generation = 1;
      const { vault, pending } = await this.#depositGeneration(current, 'new', {
        scheme: 'additive',
        q: share.q.toBytes(true),
        q1: share.qClient.toBytes(true),
        q2: share.qServer.toBytes(true),
        x2: bigIntToBytes(share.xServer, 32),
      });
      const key: StoredKey = { share: ecdsaShareToJson(share), vault };
      await this.#o.store.commit(
        { ...pending, key, generation, pendingDeletions: without(pending, vault) },
        this.#o.now(),
        [
          { event: 'keygen', details: { q: pointToWire(share.q), q2: pointToWire(share.qServer) } },
          { event: 'vault-deposit', details: { vaultWalletId: vault.vaultWalletId, generation } },
        ],
      );
      return keyState(key, generation);
    });
  }

  async keygenMusig(w: WalletRecord, publicKey: string): Promise<KeyStateJson> {
    if (w.scheme !== 'musig2') {
      throw cosignerError('COSIGNER_CONFLICT', 'two-party ECDSA wallets use keygen');
    }
    const q1 = parsePoint('publicKey', publicKey);
    return this.#exclusive(w.walletId, async () => {
      const current = await this.#wallet(w.walletId);
      this.#requireKeyless(current);
      const x2 = randomScalar(rng, CURVE_ORDER);
      const q2 = G.multiply(x2);
      const keys = musigOrder(pointToWire(q1), pointToWire(q2));
      const q = aggregatePoint(keys);
      const generation = 1;
      const { vault, pending } = await this.#depositGeneration(current, 'new', {
        scheme: 'musig2',
        q: q.toBytes(true),
        q1: q1.toBytes(true),
        q2: q2.toBytes(true),
        x2: bigIntToBytes(x2, 32),
      });
      const share: MusigShareJson = {
        kind: 'musig2',
        secretKey: scalarToWire(x2),
        qServer: pointToWire(q2),
        qClient: pointToWire(q1),
        q: pointToWire(q),
      };
      const key: StoredKey = { share, vault };
      await this.#o.store.commit(
        { ...pending, key, generation, pendingDeletions: without(pending, vault) },
        this.#o.now(),
        [
          { event: 'keygen-musig2', details: { q: share.q, q2: share.qServer } },
          { event: 'vault-deposit', details: { vaultWalletId: vault.vaultWalletId, generation } },
        ],
      );
      return keyState(key, generation);
    });
  }

  signStart(
    w: WalletRecord,
    req: { sessionId: string; messageHash: string; path: number[]; message: unknown },
  ): SignMsg2 {
    const { share } = this.#requireEcdsa(w);
    const sid = parseBytes('sessionId', req.sessionId, 32);
    const machine = new ServerSigner({
      sessionId: protocolSessionId(w.walletId, 'sign', sid),
      share,
      lock: this.#lockOf(w),
      messageHash: parseBytes('messageHash', req.messageHash, 32),
      path: req.path,
      rng,
    });
    return this.#startSession(w, 'sign', req.sessionId, { machine, req }, () =>
      machine.respond(req.message),
    );
  }

  async signFinish(w: WalletRecord, sessionId: string, msg3: unknown) {
    const { machine, req } = this.#takeSession<{
      machine: ServerSigner;
      req: { messageHash: string; path: number[] };
    }>(w, 'sign', sessionId);
    try {
      const sig = machine.finish(msg3);
      await this.#exclusive(w.walletId, async () => {
        const current = await this.#wallet(w.walletId);
        await this.#o.store.commit(current, this.#o.now(), [
          { event: 'sign', details: { messageHash: req.messageHash, path: req.path.join('/') } },
        ]);
      });
      return { signature: signatureToWire(sig), publicKey: pointToWire(machine.publicKey) };
    } catch (err) {
      if (err instanceof CosignerError && err.code === 'COSIGNER_SIGNATURE_FAILED') {
        // CVE-2023-33242: the lock reaches the disk before the client hears anything.
        await this.#exclusive(w.walletId, async () => {
          const current = await this.#wallet(w.walletId);
          await this.#o.store.commit({ ...current, locked: true }, this.#o.now(), [
            { event: 'locked', details: { reason: 'final signature failed to verify' } },
          ]);
        });
        this.#o.metrics.keysLocked.inc();
        this.#o.log.error({ walletId: w.walletId }, 'final signature failed: key locked');
      }
      throw err;
    }
  }

  async signMusig(
    w: WalletRecord,
    req: { message: string; path: number[]; xOnlyTweak?: string; nonce: string },
  ): Promise<MusigSignResponse> {
    if (w.scheme !== 'musig2' || !w.key) {
      throw cosignerError('COSIGNER_CONFLICT', 'this wallet has no MuSig2 key');
    }
    const s = w.key.share as MusigShareJson;
    const message = parseBytes('message', req.message, 32);
    const peerNonce = parseBytes('nonce', req.nonce, 66);
    const tweak =
      req.xOnlyTweak === undefined ? undefined : parseBytes('xOnlyTweak', req.xOnlyTweak, 32);
    const plan = planFor(musigOrder(s.qClient, s.qServer), req.path, tweak);
    const signer = new MusigSigner({
      secretKey: parseHex('secretKey', s.secretKey, 32),
      plan,
      rng,
    });
    const nonce = signer.publicNonce();
    const partial = signer.sign(peerNonce, message);
    await this.#exclusive(w.walletId, async () => {
      const current = await this.#wallet(w.walletId);
      await this.#o.store.commit(current, this.#o.now(), [
        { event: 'sign-musig2', details: { message: req.message, path: req.path.join('/') } },
      ]);
    });
    return { nonce: hex(nonce), partialSignature: hex(partial) };
  }

  refreshStart(w: WalletRecord, sessionId: string, msg1: unknown, client: string): RefreshMsg2 {
    if (w.scheme === 'musig2') {
      throw cosignerError(
        'COSIGNER_UNSUPPORTED',
        'refresh of MuSig2 wallets is not implemented (KeyAgg does not survive re-randomised shares)',
      );
    }
    const { share } = this.#requireEcdsa(w);
    // A key locked after a failed signature stays locked: refreshing it would hand the suspect
    // client fresh shares, a pooled Paillier key and a new vault deposit.
    if (this.#lockOf(w).locked) {
      throw cosignerError('COSIGNER_KEY_LOCKED', 'this key is locked after a failed signature');
    }
    if (this.#o.sessions.has(w.walletId, 'refresh')) {
      throw cosignerError('COSIGNER_CONFLICT', 'a refresh of this wallet is already running');
    }
    const sid = parseBytes('sessionId', sessionId, 32);
    this.#o.deposits.check('refresh');
    this.#chargeStart(w.walletId, client, 'refresh', sessionId);
    const cache = this.#rpCache();
    const machine = new ServerRefresh({
      sessionId: protocolSessionId(w.walletId, 'refresh', sid),
      share,
      paillier: this.#takeKey,
      rng,
      ringPedersenVerified: cache.check,
      ...(this.#o.securityPolicy ? { policy: this.#o.securityPolicy } : {}),
    });
    const state = { machine, generation: w.generation };
    return this.#startSession(w, 'refresh', sessionId, state, () => {
      const reply = machine.respond(msg1);
      cache.remember();
      return reply;
    });
  }

  refreshOpen(w: WalletRecord, sessionId: string, msg3: unknown): RefreshMsg4 {
    const { machine } = this.#o.sessions.get<{ machine: ServerRefresh }>(
      w.walletId,
      'refresh',
      sessionId,
    );
    try {
      return machine.prove(msg3);
    } catch (err) {
      this.#o.sessions.close(w.walletId, 'refresh', sessionId);
      this.#gauges();
      throw err;
    }
  }

  /**
   * The new share is deposited under a new vault wallet id (generation + 1) before the server
   * switches to it; only then is the old deposit deleted. A failed deposit leaves the old share
   * in force on both sides (the client keeps its old share until this call succeeds).
   */
  async refreshFinish(w: WalletRecord, sessionId: string, msg5: unknown): Promise<KeyStateJson> {
    const { machine, generation: startedAt } = this.#takeSession<{
      machine: ServerRefresh;
      generation: number;
    }>(w, 'refresh', sessionId);
    const share = machine.finish(msg5);
    const state = await this.#exclusive(w.walletId, async () => {
      const current = await this.#wallet(w.walletId);
      if (!current.key || current.generation !== startedAt) {
        throw cosignerError('COSIGNER_CONFLICT', 'the key changed while this refresh ran');
      }
      const generation = current.generation + 1;
      const old = current.key.vault;
      const { vault, pending } = await this.#depositGeneration(current, 'refresh', {
        scheme: 'additive',
        q: share.q.toBytes(true),
        q1: share.qClient.toBytes(true),
        q2: share.qServer.toBytes(true),
        x2: bigIntToBytes(share.xServer, 32),
      });
      const key: StoredKey = { share: ecdsaShareToJson(share), vault };
      await this.#o.store.commit(
        {
          ...pending,
          key,
          generation,
          pendingDeletions: [...without(pending, vault), old.vaultWalletId],
        },
        this.#o.now(),
        [
          { event: 'refresh', details: { q2: pointToWire(share.qServer), generation } },
          { event: 'vault-deposit', details: { vaultWalletId: vault.vaultWalletId, generation } },
        ],
      );
      return keyState(key, generation);
    });
    await this.deletePending(w.walletId).catch(() => undefined);
    return state;
  }

  /**
   * Deposits a share generation under a fresh random vault wallet id. The id is first recorded
   * (synced) among the pending deletions, so a deposit whose reply is lost, or a crash before the
   * key switch is stored, leaves no orphan in the vault: the retry loop deletes it. The caller's
   * commit that switches to the new key takes the id off that list. Runs inside #exclusive.
   */
  async #depositGeneration(
    current: WalletRecord,
    kind: 'new' | 'refresh',
    d: {
      scheme: 'additive' | 'musig2';
      q: Uint8Array;
      q1: Uint8Array;
      q2: Uint8Array;
      x2: Uint8Array;
    },
  ): Promise<{ vault: VaultDepositJson; pending: WalletRecord }> {
    const id = rng(32);
    const pending = { ...current, pendingDeletions: [...current.pendingDeletions, hex(id)] };
    this.#o.deposits.reserve(kind);
    try {
      await this.#o.store.commit(pending, this.#o.now(), []);
    } catch (err) {
      this.#o.deposits.released(1); // the id was never recorded, so never deposited
      throw err;
    }
    const vault = await this.#o.vault.deposit({ ...d, vaultWalletId: id, policy: current.policy });
    return { vault, pending };
  }

  /** Deletes older generations' vault deposits; what fails stays pending for the next try. */
  async deletePending(walletId: string): Promise<void> {
    await this.#exclusive(walletId, async () => {
      const w = await this.#wallet(walletId);
      if (w.pendingDeletions.length === 0) return;
      const remaining: string[] = [];
      const done: string[] = [];
      for (const id of w.pendingDeletions) {
        try {
          await this.#o.vault.deleteDeposit(id, w.key?.vault.cluster);
          done.push(id);
        } catch (err) {
          // Already gone (an earlier attempt's reply was lost) counts as done.
          if ((err as Error).message.includes('WALLET_NOT_FOUND')) done.push(id);
          else remaining.push(id);
        }
      }
      if (done.length === 0) return;
      this.#o.deposits.released(done.length);
      await this.#o.store.commit({ ...w, pendingDeletions: remaining }, this.#o.now(), [
        ...done.map((id) => ({ event: 'vault-delete', details: { vaultWalletId: id } })),
      ]);
    });
  }

  async retryPendingDeletions(): Promise<void> {
    for await (const w of this.#o.store.wallets()) {
      if (w.pendingDeletions.length > 0)
        await this.deletePending(w.walletId).catch(() => undefined);
    }
  }

  derive(w: WalletRecord, path: number[]): DeriveResponse {
    if (!w.key) throw cosignerError('COSIGNER_CONFLICT', 'this wallet has no key yet');
    if (w.scheme === 'musig2') {
      const s = w.key.share as MusigShareJson;
      const keys = musigOrder(s.qClient, s.qServer);
      const d = derivePublic(aggregatePoint(keys), BIP328_CHAIN_CODE, path);
      return {
        publicKey: pointToWire(d.publicKey),
        xOnly: hex(aggregateXOnly(planFor(keys, path))),
      };
    }
    const s = w.key.share as EcdsaShareJson;
    const d = derivePublic(parsePoint('q', s.q), parseBytes('chainCode', s.chainCode, 32), path);
    return { publicKey: pointToWire(d.publicKey) };
  }

  /** Opens a session and runs its first step; a failed first step closes the session again. */
  #startSession<R>(
    w: WalletRecord,
    kind: SessionKind,
    sessionId: string,
    state: unknown,
    first: () => R,
  ): R {
    this.#o.sessions.open(w.walletId, kind, sessionId, state);
    try {
      return first();
    } catch (err) {
      this.#o.sessions.close(w.walletId, kind, sessionId);
      throw err;
    } finally {
      this.#gauges();
    }
  }

  /** A session's final step: the session is gone whether or not that step succeeds. */
  #takeSession<T>(w: WalletRecord, kind: SessionKind, sessionId: string): T {
    const state = this.#o.sessions.get<T>(w.walletId, kind, sessionId);
    this.#o.sessions.close(w.walletId, kind, sessionId);
    this.#gauges();
    return state;
  }

  #gauges(): void {
    this.#o.metrics.sessions.set(this.#o.sessions.size);
    this.#o.metrics.poolSize.set(this.#o.pool.size);
  }
}

function verifyAuth(auth: AuthInput, authKey: Uint8Array): void {
  if (!auth.counter || !/^(0|[1-9][0-9]{0,15})$/.test(auth.counter) || !auth.signature) {
    throw cosignerError('COSIGNER_UNAUTHORIZED', 'missing or malformed request signature headers');
  }
  const counter = Number(auth.counter);
  if (!Number.isSafeInteger(counter)) {
    throw cosignerError('COSIGNER_UNAUTHORIZED', 'request counter out of range');
  }
  if (!/^[0-9a-f]{128}$/.test(auth.signature)) {
    throw cosignerError('COSIGNER_UNAUTHORIZED', 'request signature must be 64 bytes hex');
  }
  const bytes = requestBytes({ ...auth, counter });
  let ok = false;
  try {
    ok = schnorr.verify(Buffer.from(auth.signature, 'hex'), bytes, authKey);
  } catch {
    ok = false;
  }
  if (!ok) throw cosignerError('COSIGNER_UNAUTHORIZED', 'request signature does not verify');
}

function keyState(key: StoredKey, generation: number): KeyStateJson {
  const s = key.share;
  return {
    q: s.q,
    q1: s.qClient,
    q2: s.qServer,
    chainCode: s.kind === 'ecdsa-2p' ? s.chainCode : hex(BIP328_CHAIN_CODE),
    generation,
    vault: key.vault,
  };
}

function without(w: WalletRecord, vault: VaultDepositJson): string[] {
  return w.pendingDeletions.filter((id) => id !== vault.vaultWalletId);
}
