// A wallet app's recovery, as a web page runs it with the browser bundle of the client SDK
// (served beside this file as sdk.js). test/sdk-browser.test.ts drives it in Chromium; every call
// to the vault is a cross-origin fetch from the page, under the vault's CORS rules.
import * as sdk from './sdk.js';

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const random = sdk.webCryptoRandom;
// the claim state is kept sealed, as an app keeps it in its storage
const fastScrypt = { n: 1024, r: 8, p: 1 };
let kept;

/** Opens the wallet file's text, verifies the backup, claims, and watches the claim once. */
async function backupAndClaim({ walletText, password }) {
  const wallet = await sdk.openWallet(walletText, password);
  const vault = new sdk.VaultClient(wallet.vaultUrls);
  const backup = await sdk.verifyBackup({ wallet, vault, random });
  const fresh = sdk.newClaimState(wallet, random);
  kept = await sdk.sealClaimState(fresh, password, { random, scrypt: fastScrypt });
  const sent = await sdk.sendClaim({ wallet, vault, state: fresh, random });
  kept = await sdk.sealClaimState(sent.state, password, { random, scrypt: fastScrypt });
  const watched = await new Promise((resolve, reject) => {
    const watch = sdk.watchClaim({
      vault,
      claimId: sent.state.claim.claimId,
      intervalMs: 100,
      events: {
        onReachable: () => {
          watch.stop();
          resolve('live');
        },
        onEnded: (status) => {
          watch.stop();
          reject(new Error(`the claim ended: ${status}`));
        },
      },
    });
  });
  const { claim } = sent.state;
  // the challenge leaves the device as a file for a solver elsewhere (it holds no secret)
  const challengeFile = sdk.encodeChallengeFile(
    sdk.challengeFor({
      claim,
      walletId: wallet.walletId,
      clusterId: wallet.cluster.clusterId,
      vaultUrls: vault.urls,
    }),
  );
  return {
    challengeFile,
    backup: {
      kind: backup.attestationKind,
      insecure: backup.insecure,
      tenant: backup.receipt.tenant,
      released: backup.status.released,
    },
    claim: {
      claimId: hex(claim.claimId),
      group: claim.group,
      iterations: claim.iterations,
      seed: hex(claim.seed),
    },
    watched,
  };
}

/** Checks a proof file made elsewhere against the kept claim, sending nothing. */
async function checkProof({ password, proofText }) {
  const state = await sdk.openClaimState(kept, password);
  const started = performance.now();
  try {
    sdk.checkProofFile(state.claim, proofText);
    return { accepted: true, ms: performance.now() - started };
  } catch (e) {
    return { accepted: false, code: e.code, message: e.message };
  }
}

/**
 * Checks the proof file made elsewhere, submits it as an app would (submitUntilReleased: a
 * clock-gated wallet would wait here; this strict one releases at once), opens the release and
 * rebuilds the key, in the page.
 */
async function finish({ walletText, password, proofText }) {
  const wallet = await sdk.openWallet(walletText, password);
  const vault = new sdk.VaultClient(wallet.vaultUrls);
  const state = await sdk.openClaimState(kept, password);
  const solution = sdk.checkProofFile(state.claim, proofText);
  const waits = [];
  const release = await sdk.submitUntilReleased({
    vault,
    claim: state.claim,
    solution,
    signal: AbortSignal.timeout(120_000),
    events: { onWaiting: (seconds) => waits.push(seconds) },
  });
  const secretKey = sdk.recoverKey(wallet, { ...state, release });
  const exported = sdk.exportPrivateKey(secretKey);
  return { hex: exported.hex, wif: exported.wif, publicKey: exported.publicKey, waits };
}

globalThis.vigilApp = { backupAndClaim, checkProof, finish };
globalThis.vigilAppReady = true;
