/**
 * One vault node (`vigil vault start`): a cluster of one member, the same code as every cluster
 * node (vault/replicated) — the same records, storage seam, log and apply path — so there is one
 * storage to build and one to trust. A command is answered once its log entry is fsynced and
 * applied; claims and releases once their applied records are on disk too.
 *
 * Restart: the member keeps its link key (sealed in the data directory) and its Raft directory,
 * and reopens them: nothing is copied or replayed beyond the entries committed since its applied
 * records last reached the disk. The epoch secret lived only in memory, so claim-family entries
 * of the epoch before the restart are applied as rejected, and a new epoch begins, which voids
 * every pending claim while deposits survive (P4). A single node is its own majority: no other
 * member could hold a newer state.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SocketTransport, ValueCipher } from '../../cluster/index.ts';
import {
  type AttestationProvider,
  type AttestationVerifier,
  createFileExclusive,
  DevAttestationProvider,
} from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import type { ClusterKeys } from '../http/app.ts';
import type { Answer, Command, Effect, IssuedNonce, VaultMachine } from '../machine/index.ts';
import type { DepositReceipt } from '../protocol/index.ts';
import type { ClusterSecrets } from '../replicated/codec.ts';
import { identityOf } from '../replicated/identity.ts';
import { newGenesis } from '../replicated/local.ts';
import { ClusterMember } from '../replicated/member.ts';

export interface VaultNodeOptions {
  dataDir: string;
  cipher: ValueCipher;
  /** The operator's BIP-340 key; required when the data directory is new. */
  operatorKey?: Uint8Array;
  limits?: Partial<ClusterSecrets['limits']>;
  /** Where its (unused) peer-link listener goes: in an enclave, a relay socket, not TCP. */
  sockets?: SocketTransport;
  /**
   * Attests the member's link key. A one-member cluster has no peer to show it to, so the default
   * is a throwaway dev provider; the HTTP API's attestation is configured separately.
   */
  attestation?: AttestationProvider;
  onEffects?: (effects: Effect[]) => void;
  /** How long `open` waits for the member to lead, hold its vault and begin an epoch. */
  readyTimeoutMs?: number;
  /** The quorum clock's monotonic source (ms); tests freeze it to keep the log still. */
  monotonicClock?: () => number;
}

const LINK_KEY = 'link.key';
const RAFT_DIR = 'raft';

/** No member is ever admitted: a one-member cluster has no peers. */
const NO_PEERS: AttestationVerifier = {
  kind: 'insecure-dev',
  verify() {
    throw new VaultError('ATTESTATION_REJECTED', 'a one-member vault admits no peers', 403);
  },
};

export class VaultNode {
  readonly #member: ClusterMember;

  private constructor(member: ClusterMember) {
    this.#member = member;
  }

  static async open(opts: VaultNodeOptions): Promise<VaultNode> {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const dir = join(opts.dataDir, RAFT_DIR);
    const fresh = !(await stat(dir).catch(() => null));
    if (fresh && !opts.operatorKey) {
      throw new VaultError('CONFIG_INVALID', 'a new vault needs the operator key', 500);
    }
    const provider =
      opts.attestation ??
      new DevAttestationProvider({
        insecureDevAttestation: true,
        signingKey: randomBytes(32),
        warn: () => {},
      });
    const identity = await identityOf(provider, await linkKey(opts.dataDir, opts.cipher));
    const member = await ClusterMember.listen({
      identity,
      slot: 'single',
      generation: 1,
      dir,
      cipher: opts.cipher,
      verifier: NO_PEERS,
      host: '127.0.0.1',
      port: 0,
      ...(opts.sockets ? { sockets: opts.sockets } : {}),
      clusterId: 'single',
      genesis: fresh ? newGenesis(opts.operatorKey!, opts.limits) : undefined,
      voidUnknownEpochs: true,
      onEffects: opts.onEffects,
      ...(opts.monotonicClock ? { monotonicClock: opts.monotonicClock } : {}),
    });
    try {
      member.setFounders([await member.record('http://single.invalid')]);
      await member.start();
      storageReadable(member);
      const end = Date.now() + (opts.readyTimeoutMs ?? 30_000);
      while (!(member.isLeader && member.state.machine !== null && member.epochReady)) {
        if (Date.now() > end) {
          throw new VaultError('CLUSTER_NOT_READY', 'the vault did not become ready in time', 503);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return new VaultNode(member);
    } catch (err) {
      await member.close();
      throw err;
    }
  }

  get publicKeys(): ClusterKeys {
    return this.#member.publicKeys;
  }

  get machine(): VaultMachine {
    const m = this.#member.state.machine;
    if (m === null) throw new VaultError('CLUSTER_NOT_READY', 'the vault is not open', 503);
    return m;
  }

  get epochId(): Uint8Array {
    return this.machine.epochId!;
  }

  /** The member underneath (Raft status and metrics). */
  get member(): ClusterMember {
    return this.#member;
  }

  /** A fresh single-use ping nonce (minted from the epoch secret; nothing is written). */
  mintPingNonce(tenant: string): IssuedNonce {
    return this.#member.mintPingNonce(tenant);
  }

  /** A fresh single-use claim nonce for a wallet. */
  mintClaimNonce(walletId: Uint8Array): IssuedNonce {
    return this.#member.mintClaimNonce(walletId);
  }

  /** Applies a command; resolves with its result once durable, rejects with a VaultError. */
  submit(command: Command): Promise<Answer> {
    return this.#member.submit(command);
  }

  /** A wallet's deposit receipt, signed by the cluster's receipt key. */
  receipt(walletId: Uint8Array): Promise<DepositReceipt | null> {
    return this.#member.receipt(walletId);
  }

  close(): Promise<void> {
    return this.#member.close();
  }
}

/** The member's link key: made once, sealed under the storage key, kept across restarts. */
async function linkKey(dataDir: string, cipher: ValueCipher): Promise<Uint8Array> {
  const path = join(dataDir, LINK_KEY);
  let sealed = await readFile(path).catch(() => null);
  if (sealed === null) {
    await createFileExclusive(path, cipher.seal(LINK_KEY, randomBytes(32))).catch(() => {});
    sealed = await readFile(path);
  }
  try {
    return cipher.open(LINK_KEY, new Uint8Array(sealed));
  } catch {
    throw new VaultError(
      'STORAGE_CORRUPT',
      `${LINK_KEY} failed authentication (wrong storage key or tampered disk)`,
      500,
    );
  }
}

/** A tampered or foreign record fails here, at open (StoreFailure), not in the first command. */
function storageReadable(member: ClusterMember): void {
  const m = member.state.machine;
  // the records every command reads: clock, epoch, tenants
  if (m) void [m.lastIndex, m.epochId, m.tenantNames()];
}
