import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { solve } from '../../vdf/index.ts';
import {
  type Claim,
  CURVE_ORDER,
  combinePublic,
  type Deposit,
  type DepositPolicy,
  depositAad,
  depositBytes,
  encodePoint,
  makeClaim,
  makeDeposit,
  messageDigest,
  Point,
  proveShareProduct,
  type Scheme,
  type Solution,
  scalarToBytes,
  seal,
  signDeletion,
  signPing,
  signTenantRegistration,
  type TenantLimits,
  utf8,
  type VdfGroupName,
  x25519PublicKey,
} from '../protocol/index.ts';
import { decodeCommand, encodeCommand } from './commands.ts';
import { type ApplyOutcome, VaultMachine } from './machine.ts';
import type { MemoryRecords } from './store.ts';
import type { ApplyContext, ClaimView, Command, MachineConfig, NonceContext } from './types.ts';

/** Fixed keys and a driver that feeds commands with well-formed contexts (tests only). */
export const seedBytes = (label: string): Uint8Array => sha256(utf8(label));
export const secrets = {
  operator: seedBytes('operator'),
  cluster: seedBytes('cluster-x25519'),
  receipt: seedBytes('receipt'),
  tenant: (name: string) => seedBytes(`tenant/${name}`),
  ping: (name: string) => seedBytes(`ping/${name}`),
};
export const clusterId = seedBytes('cluster-id');
export const ITERATIONS = 64;

export function testConfig(): MachineConfig {
  return {
    clusterId,
    operatorKey: schnorr.getPublicKey(secrets.operator),
    clusterEncryptionKey: x25519PublicKey(secrets.cluster),
    receiptKey: schnorr.getPublicKey(secrets.receipt),
    pingNonceTtlMs: 60_000,
    claimNonceTtlMs: 60_000,
    claimIntervalMs: 60_000,
    maxTenants: 4,
  };
}

export const defaultLimits: TenantLimits = {
  groups: ['rsa2048'],
  minIterations: 16,
  maxIterations: 1000,
  maxWallets: 8,
  maxClaims: 2,
};

export interface WalletKeys {
  walletId: Uint8Array;
  scheme: Scheme;
  x1: bigint;
  x2: bigint;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
}

export function walletKeys(n: number, scheme: Scheme = 'ecdsa-2p-mult'): WalletKeys {
  const x1 =
    (BigInt(`0x${Buffer.from(seedBytes(`x1/${n}`)).toString('hex')}`) % (CURVE_ORDER - 1n)) + 1n;
  const x2 =
    (BigInt(`0x${Buffer.from(seedBytes(`x2/${n}`)).toString('hex')}`) % (CURVE_ORDER - 1n)) + 1n;
  const pub = (s: bigint) => encodePoint(Point.BASE.multiply(s));
  const q1 = pub(x1);
  const q2 = pub(x2);
  const q =
    scheme === 'ecdsa-2p-mult'
      ? pub((x1 * x2) % CURVE_ORDER)
      : scheme === 'additive'
        ? combinePublic('additive', q1, q2)
        : combinePublic('musig2', q1, q2);
  return { walletId: seedBytes(`wallet/${n}`), scheme, x1, x2, q, q1, q2 };
}

export class Harness {
  machine: VaultMachine;
  index = 0;
  now = 1_700_000_000_000;
  epoch = 0;
  seq = new Map<string, number>();
  /** Optional second replica fed the same commands and contexts; outcomes it disagrees on. */
  twin: VaultMachine | null = null;
  disagreements: string[] = [];

  constructor(machine: VaultMachine = VaultMachine.create(testConfig())) {
    this.machine = machine;
  }

  records(): MemoryRecords {
    return this.machine.store as MemoryRecords;
  }

  /** Every record, serialised deterministically: equal bytes, equal state. */
  snapshot(): Uint8Array {
    return this.records().snapshot();
  }

  twinSnapshot(): Uint8Array {
    return (this.twin?.store as MemoryRecords | undefined)?.snapshot() ?? new Uint8Array();
  }

  get epochId(): Uint8Array {
    return seedBytes(`epoch/${this.epoch}`).slice(0, 16);
  }

  get epochSecret(): Uint8Array {
    return seedBytes(`epoch-secret/${this.epoch}`);
  }

  minted = 0;

  /** What a node uses to mint nonces: its epoch, its clock, fresh randomness. */
  nonceContext(): NonceContext {
    this.minted += 1;
    return {
      epochId: this.epochId,
      epochSecret: this.epochSecret,
      timestamp: this.now,
      random: seedBytes(`nonce/${this.minted}`),
    };
  }

  context(overrides: Partial<ApplyContext> = {}): ApplyContext {
    this.index += 1;
    this.now += 1000;
    return {
      logIndex: this.index,
      timestamp: this.now,
      epochId: this.epochId,
      epochSecret: this.epochSecret,
      keys: { clusterSecretKey: secrets.cluster },
      random: seedBytes(`random/${this.index}`),
      ...overrides,
    };
  }

  /** Every command goes through the log codec, as it will under Raft. */
  apply(command: Command, overrides: Partial<ApplyContext> = {}): ApplyOutcome {
    const decoded = decodeCommand(encodeCommand(command));
    const ctx = this.context(overrides);
    const out = this.machine.apply(decoded, ctx);
    if (this.twin) {
      const other = this.twin.apply(decodeCommand(encodeCommand(command)), ctx);
      const code = (o: ApplyOutcome) => (o.ok ? o.result.type : o.error.code);
      if (code(out) !== code(other)) this.disagreements.push(`${code(out)} vs ${code(other)}`);
    }
    return out;
  }

  nextSeq(tenant: string): number {
    const s = (this.seq.get(tenant) ?? 0) + 1;
    this.seq.set(tenant, s);
    return s;
  }

  registerCommand(tenant = 'acme', limits: TenantLimits = defaultLimits): Command {
    return {
      type: 'registerTenant',
      registration: signTenantRegistration(
        clusterId,
        {
          tenant,
          tenantKey: schnorr.getPublicKey(secrets.tenant(tenant)),
          pingKey: schnorr.getPublicKey(secrets.ping(tenant)),
          limits,
        },
        secrets.operator,
        seedBytes('aux'),
      ),
    };
  }

  depositCommand(
    w: WalletKeys,
    opts: {
      tenant?: string;
      x2?: Uint8Array;
      iterations?: number;
      seq?: number;
      group?: VdfGroupName;
      /** A clock-gated policy's kind and delay (strict when absent). */
      gate?: Pick<DepositPolicy, 'kind' | 'delaySeconds'>;
    } = {},
  ): Deposit {
    const tenant = opts.tenant ?? 'acme';
    if (opts.x2) return this.rawDeposit(w, opts.x2, tenant);
    return makeDeposit({
      clusterId,
      clusterKey: x25519PublicKey(secrets.cluster),
      deposit: {
        tenant,
        seq: opts.seq ?? this.nextSeq(tenant),
        walletId: w.walletId,
        scheme: w.scheme,
        q: w.q,
        q1: w.q1,
        q2: w.q2,
        policy: {
          group: opts.group ?? 'rsa2048',
          iterations: opts.iterations ?? ITERATIONS,
          ...opts.gate,
        },
      },
      x2: scalarToBytes(w.x2),
      tenantSecretKey: secrets.tenant(tenant),
      senderSecret: seedBytes(`sender/${this.index}`),
      aux: seedBytes('aux'),
    });
  }

  /**
   * A deposit whose sealed plaintext is arbitrary bytes (its share proof made with the wallet's
   * own x2): what a buggy or hostile client sends.
   */
  rawDeposit(w: WalletKeys, plaintext: Uint8Array, tenant: string): Deposit {
    const header = {
      tenant,
      seq: this.nextSeq(tenant),
      walletId: w.walletId,
      scheme: w.scheme,
      q: w.q,
      q1: w.q1,
      q2: w.q2,
      policy: { group: 'rsa2048' as const, iterations: ITERATIONS },
    };
    const share = seal({
      purpose: 'deposit',
      recipientPublicKey: x25519PublicKey(secrets.cluster),
      senderSecret: seedBytes(`sender/${this.index}`),
      aad: depositAad(clusterId, header),
      plaintext,
    });
    const shareProof =
      w.scheme === 'ecdsa-2p-mult'
        ? proveShareProduct({ clusterId, ...header }, scalarToBytes(w.x2), seedBytes('aux'))
        : new Uint8Array();
    const unsigned = { ...header, share, shareProof };
    const signature = schnorr.sign(
      messageDigest(depositBytes(clusterId, unsigned)),
      secrets.tenant(tenant),
      seedBytes('aux'),
    );
    return { ...unsigned, signature };
  }

  deleteCommand(w: WalletKeys, tenant = 'acme'): Command {
    return {
      type: 'delete',
      deletion: signDeletion(
        clusterId,
        { tenant, seq: this.nextSeq(tenant), walletId: w.walletId },
        secrets.tenant(tenant),
        seedBytes('aux'),
      ),
    };
  }

  /** Mints a ping nonce and returns the signed ping (not yet applied). */
  pingCommand(tenant = 'acme'): Command {
    const { nonce } = this.machine.mintPingNonce(tenant, this.nonceContext());
    const ping = signPing(clusterId, { tenant, nonce }, secrets.ping(tenant), seedBytes('aux'));
    return { type: 'ping', ping };
  }

  /** Mints a claim nonce and returns a claim with a valid proof (not yet applied). */
  claimCommand(
    w: WalletKeys,
    ephemeralSecret: Uint8Array = seedBytes(`eph/${this.index}`),
  ): Command {
    const { nonce } = this.machine.mintClaimNonce(w.walletId, this.nonceContext());
    return { type: 'claim', claim: this.claimWithNonce(w, nonce, ephemeralSecret) };
  }

  claimWithNonce(w: WalletKeys, claimNonce: Uint8Array, ephemeralSecret: Uint8Array): Claim {
    return makeClaim({
      clusterId,
      walletId: w.walletId,
      ephemeralKey: x25519PublicKey(ephemeralSecret),
      claimNonce,
      x1: scalarToBytes(w.x1),
      q1: w.q1,
      aux: seedBytes('aux'),
    });
  }
}

/** `segmentAt`: a class1024 proof split there (depth 1), as long solves make them. */
export async function solveClaim(claim: ClaimView, segmentAt?: number): Promise<Solution> {
  const r = await solve({
    group: claim.group,
    seed: claim.seed,
    iterations: claim.iterations,
    workers: 'never',
    ...(segmentAt === undefined ? {} : { segmentAt }),
  });
  return { claimId: claim.claimId, y: r.output, proof: r.proof };
}

/** True if `needle` occurs in `haystack` as bytes. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}
