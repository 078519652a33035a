/**
 * `vigil host`: the host agent on the parent instance of an enclave node (docs/operator-guide.md,
 * "The host agent"). It keeps the node's Raft directories in LevelDB on the parent's disk and,
 * with --pass-aws-credentials, hands the parent role's temporary credentials to the node for its
 * KMS calls. It sees only sealed values; the node checks every answer.
 */
import { resolve } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Command } from 'commander';
import { HostAgent, HostError, parseHostAddress } from '../../cluster/index.ts';
import { encodeAwsCredentials } from '../../vault/index.ts';
import { CliExit } from '../exit.ts';
import { runUntilSignal } from '../signals.ts';

interface HostFlags {
  dataDir?: string;
  listen?: string;
  passAwsCredentials?: boolean;
  awsRegion?: string;
}

/** The parent role's credentials from the SDK's default provider chain (refreshed by the SDK). */
function parentCredentials(region: string | undefined): () => Promise<Uint8Array> {
  const kms = new KMSClient(region ? { region } : {});
  return async () => encodeAwsCredentials(await kms.config.credentials());
}

export function registerHostCommand(program: Command): void {
  program
    .command('host')
    .description(
      "run the host agent beside an enclave node: the node's storage on this machine's disk " +
        '(sealed by the node), and optionally the instance role credentials for its KMS calls',
    )
    .option(
      '--data-dir <dir>',
      'where the stores live (env VIGIL_HOST_DATA_DIR; default data/host)',
    )
    .option(
      '--listen <address>',
      'unix:/path or host:port the node dials (env VIGIL_HOST_LISTEN; default unix:data/host.sock)',
    )
    .option(
      '--pass-aws-credentials',
      "pass this machine's AWS credentials (the SDK's default chain) to the node (env VIGIL_HOST_PASS_AWS_CREDENTIALS=1)",
    )
    .option('--aws-region <region>', 'region for the credential chain (env AWS_REGION)')
    .action(async (flags: HostFlags) => {
      const env = process.env;
      const dataDir = resolve(flags.dataDir ?? env.VIGIL_HOST_DATA_DIR ?? 'data/host');
      let address: ReturnType<typeof parseHostAddress>;
      try {
        address = parseHostAddress(flags.listen ?? env.VIGIL_HOST_LISTEN ?? 'unix:data/host.sock');
      } catch (e) {
        throw new CliExit(2, `vigil host: --listen: ${(e as Error).message}`);
      }
      const pass = flags.passAwsCredentials === true || env.VIGIL_HOST_PASS_AWS_CREDENTIALS === '1';
      let agent: HostAgent;
      try {
        agent = await HostAgent.start({
          dir: dataDir,
          address,
          ...(pass ? { credentials: parentCredentials(flags.awsRegion ?? env.AWS_REGION) } : {}),
        });
      } catch (e) {
        const why = e instanceof HostError ? e.message : (e as Error).message;
        throw new CliExit(
          2,
          `vigil host: cannot listen on ${flags.listen ?? 'the default'}: ${why}`,
        );
      }
      console.log(
        `vigil host: serving ${dataDir} on ${address.kind === 'unix' ? `unix:${address.path}` : `${address.host}:${agent.port}`}` +
          (pass ? ', passing AWS credentials' : ''),
      );
      await runUntilSignal(() => agent.close());
    });
}
