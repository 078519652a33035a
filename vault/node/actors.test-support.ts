/**
 * The people around a vault, for tests: an operator who registers tenants, a wallet provider
 * (tenant) who deposits and pings, and a claimant who holds x1. Every message is built with the
 * public protocol helpers against the cluster's published keys, exactly as real clients do.
 */
import { randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import type { ClusterKeys } from '../http/app.ts';
import type { ClaimView, Command } from '../machine/index.ts';
import {
  CURVE_ORDER,
  type DepositPolicy,
  encodePoint,
  makeClaim,
  makeDeposit,
  openRelease,
  Point,
  type Release,
  scalarToBytes,
  signDeletion,
  signPing,
  signTenantRegistration,
  type TenantLimits,
  x25519PublicKey,
} from '../protocol/index.ts';

export const testLimits: TenantLimits = {
  groups: ['class1024', 'rsa2048'],
  minIterations: 16,
  maxIterations: 5_000,
  maxWallets: 1_000,
  maxClaims: 8,
};

function randomScalar(): bigint {
  for (;;) {
    const s = BigInt(`0x${randomBytes(32).toString('hex')}`);
    if (s > 0n && s < CURVE_ORDER) return s;
  }
}

export class Operator {
  readonly secretKey = schnorr.utils.randomSecretKey();
  readonly publicKey = schnorr.getPublicKey(this.secretKey);

  registerTenant(cluster: ClusterKeys, tenant: Tenant, limits = testLimits): Command {
    return {
      type: 'registerTenant',
      registration: signTenantRegistration(
        cluster.clusterId,
        { tenant: tenant.name, tenantKey: tenant.publicKey, pingKey: tenant.pingPublicKey, limits },
        this.secretKey,
        randomBytes(32),
      ),
    };
  }
}

export interface TestWallet {
  walletId: Uint8Array;
  x1: bigint;
  x2: bigint;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
}

export class Tenant {
  readonly name: string;
  readonly secretKey = schnorr.utils.randomSecretKey();
  readonly publicKey = schnorr.getPublicKey(this.secretKey);
  readonly pingSecretKey = schnorr.utils.randomSecretKey();
  readonly pingPublicKey = schnorr.getPublicKey(this.pingSecretKey);
  #seq: number;

  /** `lastSeq` lets a test impersonate a tenant whose sequence is already far along. */
  constructor(name: string, lastSeq = 0) {
    this.name = name;
    this.#seq = lastSeq;
  }

  newWallet(): TestWallet {
    const x1 = randomScalar();
    const x2 = randomScalar();
    const pub = (s: bigint) => encodePoint(Point.BASE.multiply(s));
    return {
      walletId: randomBytes(32),
      x1,
      x2,
      q: pub((x1 * x2) % CURVE_ORDER),
      q1: pub(x1),
      q2: pub(x2),
    };
  }

  deposit(cluster: ClusterKeys, w: TestWallet, policy: DepositPolicy): Command {
    this.#seq += 1;
    return {
      type: 'deposit',
      deposit: makeDeposit({
        clusterId: cluster.clusterId,
        clusterKey: cluster.clusterEncryptionKey,
        deposit: {
          tenant: this.name,
          seq: this.#seq,
          walletId: w.walletId,
          scheme: 'ecdsa-2p-mult',
          q: w.q,
          q1: w.q1,
          q2: w.q2,
          policy,
        },
        x2: scalarToBytes(w.x2),
        tenantSecretKey: this.secretKey,
        senderSecret: randomBytes(32),
        aux: randomBytes(32),
      }),
    };
  }

  deletion(cluster: ClusterKeys, walletId: Uint8Array): Command {
    this.#seq += 1;
    return {
      type: 'delete',
      deletion: signDeletion(
        cluster.clusterId,
        { tenant: this.name, seq: this.#seq, walletId },
        this.secretKey,
        randomBytes(32),
      ),
    };
  }

  ping(cluster: ClusterKeys, nonce: Uint8Array): Command {
    return {
      type: 'ping',
      ping: signPing(
        cluster.clusterId,
        { tenant: this.name, nonce },
        this.pingSecretKey,
        randomBytes(32),
      ),
    };
  }
}

export class Claimant {
  readonly wallet: TestWallet;
  readonly ephemeralSecretKey = randomBytes(32);
  readonly ephemeralKey = x25519PublicKey(this.ephemeralSecretKey);

  constructor(wallet: TestWallet) {
    this.wallet = wallet;
  }

  claim(cluster: ClusterKeys, claimNonce: Uint8Array, x1 = this.wallet.x1): Command {
    return {
      type: 'claim',
      claim: makeClaim({
        clusterId: cluster.clusterId,
        walletId: this.wallet.walletId,
        ephemeralKey: this.ephemeralKey,
        claimNonce,
        x1: scalarToBytes(x1),
        q1: this.wallet.q1,
        aux: randomBytes(32),
      }),
    };
  }

  /** Solves the claim's VDF on this thread and returns the solve command. */
  async solve(claim: ClaimView): Promise<Command> {
    const { solve } = await import('../../vdf/index.ts');
    const { group, seed, iterations, claimId } = claim;
    const r = await solve({ group, seed, iterations, workers: 'never' });
    return { type: 'solve', solution: { claimId, y: r.output, proof: r.proof } };
  }

  openRelease(cluster: ClusterKeys, claim: ClaimView, release: Release): bigint {
    const x2 = openRelease({
      clusterId: cluster.clusterId,
      release,
      seed: claim.seed,
      ephemeralSecretKey: this.ephemeralSecretKey,
      ephemeralKey: this.ephemeralKey,
      q2: this.wallet.q2,
    });
    return BigInt(`0x${Buffer.from(x2).toString('hex')}`);
  }
}
