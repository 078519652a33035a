/**
 * `vigil recover --export-challenge FILE` and `--proof FILE`: the claim's challenge leaves this
 * device for a solver elsewhere (docs/client.md, "Solving elsewhere"), and its proof comes back.
 */
import {
  ClientError,
  encodeChallengeFile,
  prepareChallenge,
  type RecoveryFiles,
  readBoundedFile,
  systemRandom,
  type VaultClient,
  type Wallet,
  writeFileAtomic,
} from '../../client-lib/index.ts';
import { MAX_PROOF_FILE_BYTES, parseProofFile, VdfError } from '../../vdf/index.ts';
import { CliExit } from '../exit.ts';
import { EXIT, exitFor } from './user-options.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

export async function readProof(path: string) {
  let text: string | undefined;
  try {
    text = await readBoundedFile(path, MAX_PROOF_FILE_BYTES);
  } catch (err) {
    if (err instanceof ClientError) throw new CliExit(EXIT.usage, `vigil recover: ${err.message}`);
    throw err;
  }
  if (text === undefined) throw new CliExit(EXIT.usage, `vigil recover: no proof file ${path}`);
  try {
    return parseProofFile(text);
  } catch (err) {
    if (err instanceof VdfError) {
      throw new CliExit(EXIT.usage, `vigil recover: ${path}: ${err.message} (${err.code})`);
    }
    throw err;
  }
}

export async function exportChallenge(args: {
  wallet: Wallet;
  vault: VaultClient;
  files: RecoveryFiles;
  to: string;
  o: { newClaim?: boolean; json?: boolean; wallet: string };
}): Promise<void> {
  try {
    const challenge = await prepareChallenge({
      wallet: args.wallet,
      vault: args.vault,
      files: args.files,
      random: systemRandom,
      ...(args.o.newClaim ? { fresh: true } : {}),
    });
    await writeFileAtomic(args.to, encodeChallengeFile(challenge), 0o644);
    const claimId = Buffer.from(challenge.claimId).toString('hex');
    if (args.o.json) {
      out(
        JSON.stringify({
          challengeFile: args.to,
          claimId,
          group: challenge.group,
          iterations: challenge.iterations,
        }),
      );
      return;
    }
    out(`wrote the challenge of claim ${claimId} to ${args.to}`);
    out(`  ${challenge.group}, ${challenge.iterations} squarings; it holds no secret`);
    out(`solve it elsewhere:  vigil vdf solve --challenge ${args.to} --out proof.json`);
    if (challenge.group === 'class1024') {
      out(
        '  (or with chiavdf, then `vigil vdf from-chiavdf`: docs/client.md, "Solving elsewhere")',
      );
    }
    out(`then here:           vigil recover --wallet ${args.o.wallet} --proof proof.json`);
  } catch (err) {
    exitFor('vigil recover', err);
  }
}
