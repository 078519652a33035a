/** `vigil vault start`: one vault node (configuration in docs/configuration.md). */
import type { Command } from 'commander';
import { parseVaultConfig, startVaultServer, VaultError } from '../../vault/index.ts';
import { CliExit } from '../exit.ts';
import { runUntilSignal } from '../signals.ts';
import { withTransportOptions } from './transport-options.ts';

export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault').description('run and inspect a vault node');

  withTransportOptions(vault.command('start'))
    .description('start a vault node: sealed LevelDB storage, attestation, the HTTP API under /v1')
    .option('--data-dir <dir>', 'where the node keeps its data (env VIGIL_DATA_DIR)', undefined)
    .option('--host <host>', 'listen address (env VIGIL_HOST; default 127.0.0.1)')
    .option('--port <port>', 'listen port (env VIGIL_PORT; default 7400)')
    .option(
      '--operator-key <hex>',
      "the operator's BIP-340 key; required for a new vault (env VIGIL_OPERATOR_KEY)",
    )
    .option('--sealer <kind>', 'key-file (development) or aws-kms (env VIGIL_SEALER)')
    .option('--key-file <path>', 'storage key file for the key-file sealer (env VIGIL_KEY_FILE)')
    .option('--kms-key-id <id>', 'KMS key for the aws-kms sealer (env VIGIL_KMS_KEY_ID)')
    .option('--kms-region <region>', 'KMS region (env VIGIL_KMS_REGION)')
    .option(
      '--kms-endpoint <url>',
      'KMS endpoint, e.g. the enclave vsock proxy (env VIGIL_KMS_ENDPOINT)',
    )
    .option(
      '--insecure-dev-attestation',
      'use the INSECURE development attestation (env VIGIL_INSECURE_DEV_ATTESTATION=1)',
    )
    .option(
      '--rate-limit <n>',
      'requests per minute per client (env VIGIL_RATE_LIMIT; default 600)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env VIGIL_LOG_LEVEL)')
    .option(
      '--cors-origins <list>',
      'origins whose web pages may call the read-only and claim routes (env VIGIL_CORS_ORIGINS; default none)',
    )
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      let running: Awaited<ReturnType<typeof startVaultServer>>;
      try {
        running = await startVaultServer(parseVaultConfig(flags, process.env));
      } catch (err) {
        if (err instanceof VaultError) throw new CliExit(2, `vigil vault start: ${err.message}`);
        throw err;
      }
      process.stdout.write(`vault listening on ${running.url}\n`);
      await runUntilSignal(() => running.close());
    });
}
