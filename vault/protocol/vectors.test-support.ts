import { x25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { canonical, utf8 } from './canonical.ts';
import { challengeSeed, claimIdFor } from './challenge.ts';
import { makeClaim, makeDeposit, signPing, signTenantRegistration } from './client.ts';
import { CURVE_ORDER, encodePoint, Point, scalarToBytes } from './curve.ts';
import { toHex } from './hex.ts';
import { seal } from './hpke.ts';
import {
  depositAad,
  depositBytes,
  depositReceiptBytes,
  pingBytes,
  releaseAad,
  shareDigest,
  tenantRegistrationBytes,
  type VdfGroupName,
} from './messages.ts';
import { claimProofMessage } from './pok.ts';
import { combinePublic, type Scheme } from './schemes.ts';
import { signMessage } from './signatures.ts';

/**
 * docs/protocol.md's test vectors: each is {name, inputs, outputs}, all hex strings or numbers.
 * `computeVector` recomputes outputs from inputs; `defaultVectors` are the fixed inputs the doc
 * lists. The doc test checks every vector printed in the doc against this code.
 */
type Hex = string;
export type Vector = {
  name: string;
  inputs: Record<string, Hex | number>;
  outputs: Record<string, Hex>;
};

const h = (s: Hex): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const fixed = (label: string): Hex => toHex(sha256(utf8(`vigil test vector ${label}`)));
const str = (v: Hex | number | undefined): string => String(v);
const num = (v: Hex | number | undefined): number => Number(v);
const pub = (sk: Hex): Uint8Array => schnorr.getPublicKey(h(sk));
const point = (x: Hex): Uint8Array => encodePoint(Point.BASE.multiply(BigInt(`0x${x}`)));

export function computeVector(name: string, i: Record<string, Hex | number>): Record<string, Hex> {
  const get = (k: string): Hex => str(i[k]);
  switch (name) {
    case 'canonical':
      return { bytes: toHex(canonical(get('tag'), [h(get('field0')), h(get('field1'))])) };
    case 'hpke-deposit': {
      const recipientPk = x25519.getPublicKey(h(get('recipientSecretKey')));
      const enc = x25519.getPublicKey(h(get('senderSecret')));
      const dh = x25519.getSharedSecret(h(get('senderSecret')), recipientPk);
      const salt = canonical('vigil/v1/hpke/salt', [utf8('deposit')]);
      const info = canonical('vigil/v1/hpke/info', [utf8('deposit'), enc, recipientPk]);
      const okm = hkdf(sha256, dh, salt, info, 44);
      const sealed = seal({
        purpose: 'deposit',
        recipientPublicKey: recipientPk,
        senderSecret: h(get('senderSecret')),
        aad: h(get('aad')),
        plaintext: h(get('plaintext')),
      });
      return {
        recipientPublicKey: toHex(recipientPk),
        enc: toHex(enc),
        sharedSecret: toHex(dh),
        salt: toHex(salt),
        info: toHex(info),
        key: toHex(okm.slice(0, 32)),
        nonce: toHex(okm.slice(32)),
        ciphertext: toHex(sealed.ciphertext),
      };
    }
    case 'tenant-registration': {
      const unsigned = {
        tenant: get('tenant'),
        tenantKey: pub(get('tenantSecretKey')),
        pingKey: pub(get('pingSecretKey')),
        limits: {
          groups: get('groups').split(',') as VdfGroupName[],
          minIterations: num(i.minIterations),
          maxIterations: num(i.maxIterations),
          maxWallets: num(i.maxWallets),
          maxClaims: num(i.maxClaims),
        },
      };
      const r = signTenantRegistration(
        h(get('clusterId')),
        unsigned,
        h(get('operatorSecretKey')),
        h(get('aux')),
      );
      return {
        operatorKey: toHex(pub(get('operatorSecretKey'))),
        tenantKey: toHex(unsigned.tenantKey),
        pingKey: toHex(unsigned.pingKey),
        message: toHex(tenantRegistrationBytes(h(get('clusterId')), unsigned)),
        signature: toHex(r.signature),
      };
    }
    case 'deposit': {
      const scheme = get('scheme') as Scheme;
      const x1 = BigInt(`0x${get('x1')}`);
      const x2 = BigInt(`0x${get('x2')}`);
      const q1 = point(get('x1'));
      const q2 = point(get('x2'));
      const q =
        scheme === 'ecdsa-2p-mult'
          ? encodePoint(Point.BASE.multiply((x1 * x2) % CURVE_ORDER))
          : combinePublic(scheme, q1, q2);
      const clusterId = h(get('clusterId'));
      const header = {
        tenant: get('tenant'),
        seq: num(i.seq),
        walletId: h(get('walletId')),
        scheme,
        q,
        q1,
        q2,
        policy: { group: get('group') as VdfGroupName, iterations: num(i.iterations) },
      };
      const d = makeDeposit({
        clusterId,
        clusterKey: x25519.getPublicKey(h(get('clusterSecretKey'))),
        deposit: header,
        x2: scalarToBytes(x2),
        tenantSecretKey: h(get('tenantSecretKey')),
        senderSecret: h(get('senderSecret')),
        aux: h(get('aux')),
      });
      const { signature, ...unsigned } = d;
      return {
        q: toHex(q),
        q1: toHex(q1),
        q2: toHex(q2),
        aad: toHex(depositAad(clusterId, header)),
        enc: toHex(d.share.enc),
        ciphertext: toHex(d.share.ciphertext),
        shareProof: toHex(d.shareProof),
        message: toHex(depositBytes(clusterId, unsigned)),
        signature: toHex(signature),
        shareDigest: toHex(shareDigest(d.share)),
      };
    }
    case 'receipt': {
      const clusterId = h(get('clusterId'));
      const unsigned = {
        tenant: get('tenant'),
        walletId: h(get('walletId')),
        scheme: get('scheme') as Scheme,
        q: h(get('q')),
        q1: h(get('q1')),
        q2: h(get('q2')),
        policy: { group: get('group') as VdfGroupName, iterations: num(i.iterations) },
        logIndex: num(i.logIndex),
        shareDigest: h(get('shareDigest')),
      };
      const message = depositReceiptBytes(clusterId, unsigned);
      return {
        receiptKey: toHex(pub(get('receiptSecretKey'))),
        message: toHex(message),
        signature: toHex(signMessage(message, h(get('receiptSecretKey')), h(get('aux')))),
      };
    }
    case 'ping': {
      const p = { tenant: get('tenant'), nonce: h(get('nonce')) };
      const signed = signPing(h(get('clusterId')), p, h(get('pingSecretKey')), h(get('aux')));
      return {
        message: toHex(pingBytes(h(get('clusterId')), p)),
        signature: toHex(signed.signature),
      };
    }
    case 'claim': {
      const binding = {
        clusterId: h(get('clusterId')),
        walletId: h(get('walletId')),
        ephemeralKey: x25519.getPublicKey(h(get('ephemeralSecretKey'))),
        claimNonce: h(get('claimNonce')),
      };
      const q1 = point(get('x1'));
      const c = makeClaim({ ...binding, x1: h(get('x1')), q1, aux: h(get('aux')) });
      return {
        q1: toHex(q1),
        ephemeralKey: toHex(binding.ephemeralKey),
        r: toHex(c.proof.r),
        challengeMessage: toHex(claimProofMessage(binding, q1, c.proof.r)),
        s: toHex(c.proof.s),
      };
    }
    case 'challenge': {
      const args = {
        clusterId: h(get('clusterId')),
        epochId: h(get('epochId')),
        logIndex: num(i.logIndex),
        walletId: h(get('walletId')),
      };
      const claimId = claimIdFor(args);
      const seed = challengeSeed({
        ...args,
        epochSecret: h(get('epochSecret')),
        claimId,
        ephemeralKey: h(get('ephemeralKey')),
        claimNonce: h(get('claimNonce')),
        q1: h(get('q1')),
        group: get('group'),
        iterations: num(i.iterations),
      });
      return { claimId: toHex(claimId), seed: toHex(seed) };
    }
    case 'release': {
      const ephemeralKey = x25519.getPublicKey(h(get('ephemeralSecretKey')));
      const aad = releaseAad({
        clusterId: h(get('clusterId')),
        walletId: h(get('walletId')),
        claimId: h(get('claimId')),
        seed: h(get('seed')),
        ephemeralKey,
        q2: h(get('q2')),
      });
      const sealed = seal({
        purpose: 'release',
        recipientPublicKey: ephemeralKey,
        senderSecret: h(get('senderSecret')),
        aad,
        plaintext: h(get('x2')),
      });
      return { aad: toHex(aad), enc: toHex(sealed.enc), ciphertext: toHex(sealed.ciphertext) };
    }
    default:
      throw new Error(`unknown vector ${name}`);
  }
}

export function defaultVectors(): Vector[] {
  const clusterId = fixed('cluster id');
  const walletId = fixed('wallet id');
  const x1 = fixed('x1');
  const x2 = fixed('x2');
  const make = (name: string, inputs: Record<string, Hex | number>): Vector => ({
    name,
    inputs,
    outputs: computeVector(name, inputs),
  });
  const canonicalV = make('canonical', { tag: 'vigil/v1/example', field0: '0102', field1: '' });
  const hpke = make('hpke-deposit', {
    recipientSecretKey: fixed('cluster x25519'),
    senderSecret: fixed('sender'),
    aad: '616164',
    plaintext: x2,
  });
  const reg = make('tenant-registration', {
    clusterId,
    operatorSecretKey: fixed('operator'),
    tenant: 'acme-wallet',
    tenantSecretKey: fixed('tenant'),
    pingSecretKey: fixed('ping'),
    groups: 'class1024,rsa2048',
    minIterations: 1000000,
    maxIterations: 100000000000,
    maxWallets: 100000,
    maxClaims: 100,
    aux: fixed('aux'),
  });
  const deposits = (['ecdsa-2p-mult', 'additive', 'musig2'] as const).map((scheme) =>
    make('deposit', {
      clusterId,
      clusterSecretKey: fixed('cluster x25519'),
      tenant: 'acme-wallet',
      tenantSecretKey: fixed('tenant'),
      seq: 1,
      walletId,
      scheme,
      x1,
      x2,
      group: 'rsa2048',
      iterations: 5000000,
      senderSecret: fixed('sender'),
      aux: fixed('aux'),
    }),
  );
  const dep = deposits[0] as Vector;
  const receipt = make('receipt', {
    clusterId,
    receiptSecretKey: fixed('receipt'),
    tenant: 'acme-wallet',
    walletId,
    scheme: 'ecdsa-2p-mult',
    q: dep.outputs.q as Hex,
    q1: dep.outputs.q1 as Hex,
    q2: dep.outputs.q2 as Hex,
    group: 'rsa2048',
    iterations: 5000000,
    logIndex: 42,
    shareDigest: dep.outputs.shareDigest as Hex,
    aux: fixed('aux'),
  });
  const ping = make('ping', {
    clusterId,
    tenant: 'acme-wallet',
    nonce: fixed('ping nonce'),
    pingSecretKey: fixed('ping'),
    aux: fixed('aux'),
  });
  const claim = make('claim', {
    clusterId,
    walletId,
    ephemeralSecretKey: fixed('ephemeral'),
    claimNonce: fixed('claim nonce'),
    x1,
    aux: fixed('aux'),
  });
  const challenge = make('challenge', {
    clusterId,
    epochId: fixed('epoch id').slice(0, 32),
    epochSecret: fixed('epoch secret'),
    logIndex: 43,
    walletId,
    ephemeralKey: claim.outputs.ephemeralKey as Hex,
    claimNonce: fixed('claim nonce'),
    q1: dep.outputs.q1 as Hex,
    group: 'rsa2048',
    iterations: 5000000,
  });
  const release = make('release', {
    clusterId,
    walletId,
    claimId: challenge.outputs.claimId as Hex,
    seed: challenge.outputs.seed as Hex,
    ephemeralSecretKey: fixed('ephemeral'),
    q2: dep.outputs.q2 as Hex,
    senderSecret: fixed('release sender'),
    x2,
  });
  return [canonicalV, hpke, reg, ...deposits, receipt, ping, claim, challenge, release];
}
