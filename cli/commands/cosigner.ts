/** `vigil cosigner start`: the wallet provider's cosigner (configuration in docs/cosigner.md). */
import type { Command } from 'commander';
import { CosignerError, parseCosignerConfig, startCosignerServer } from '../../cosigner/index.ts';
import { CliExit } from '../exit.ts';
import { runUntilSignal } from '../signals.ts';
import { policyRangeLines } from '../time-lock-report.ts';

export function registerCosignerCommands(program: Command): void {
  const cosigner = program.command('cosigner').description("run the wallet provider's cosigner");

  cosigner
    .command('start')
    .description('start the cosigner: two-party ECDSA/MuSig2 API, vault deposits and pings')
    .option('--data-dir <dir>', 'LevelDB and key file (env VIGIL_COSIGNER_DATA_DIR)')
    .option('--host <host>', 'listen address (env VIGIL_COSIGNER_HOST; default 127.0.0.1)')
    .option('--port <port>', 'listen port (env VIGIL_COSIGNER_PORT; default 7500)')
    .option(
      '--vault <url,...>',
      'vault node URLs; the rest of the cluster is learned (env VIGIL_COSIGNER_VAULT_URL); required',
    )
    .option('--tenant <name>', 'tenant name at the vault (env VIGIL_COSIGNER_TENANT); required')
    .option('--ping-interval <s>', 'seconds between pings (env VIGIL_COSIGNER_PING_INTERVAL; 5)')
    .option(
      '--insecure-dev-attestation',
      'accept INSECURE dev attestation from the vault (env VIGIL_INSECURE_DEV_ATTESTATION=1)',
    )
    .option(
      '--dev-attestation-key <hex,...>',
      'pinned Ed25519 keys of dev vault nodes (env VIGIL_COSIGNER_DEV_ATTESTATION_KEY)',
    )
    .option(
      '--pcr0 <hex>',
      'expected vault enclave PCR0 for Nitro attestation (env VIGIL_COSIGNER_PCR0)',
    )
    .option('--sealer <kind>', 'key-file or aws-kms (env VIGIL_COSIGNER_SEALER; key-file)')
    .option('--key-file <path>', 'storage key file (env VIGIL_COSIGNER_KEY_FILE)')
    .option('--kms-key-id <id>', 'KMS key for aws-kms (env VIGIL_COSIGNER_KMS_KEY_ID)')
    .option('--groups <list>', 'VDF groups offered to wallets (env VIGIL_COSIGNER_GROUPS)')
    .option(
      '--policy-kinds <list>',
      'policy kinds offered to wallets: strict, clock-gated (env VIGIL_COSIGNER_POLICY_KINDS; strict)',
    )
    .option('--min-iterations <n>', 'least VDF iterations a wallet may choose')
    .option('--max-iterations <n>', 'most VDF iterations a wallet may choose')
    .option('--pool-size <n>', 'pre-generated Paillier keys (env VIGIL_COSIGNER_POOL_SIZE; 4)')
    .option('--max-sessions <n>', 'live protocol sessions at once (default 1000)')
    .option('--session-ttl <s>', 'seconds a protocol session may live (default 60)')
    .option('--rate-limit <n>', 'requests per minute per client address (default 1200)')
    .option(
      '--keygen-quota-wallet <n>',
      'keygens and refreshes a wallet may start an hour (env VIGIL_COSIGNER_KEYGEN_QUOTA_WALLET; 10)',
    )
    .option(
      '--keygen-quota-client <n>',
      'keygens and refreshes a client address may start an hour (env VIGIL_COSIGNER_KEYGEN_QUOTA_CLIENT; 60)',
    )
    .option(
      '--wallet-quota-client <n>',
      'wallets a client address may register an hour (env VIGIL_COSIGNER_WALLET_QUOTA_CLIENT; 20)',
    )
    .option(
      '--vault-wallet-limit <n>',
      "the tenant's maxWallets at the vault, to keep room for refreshes (env VIGIL_COSIGNER_VAULT_WALLET_LIMIT)",
    )
    .option(
      '--refresh-headroom <n>',
      'vault deposits new wallets may not take (env VIGIL_COSIGNER_REFRESH_HEADROOM; 10)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env VIGIL_LOG_LEVEL)')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      let running: Awaited<ReturnType<typeof startCosignerServer>>;
      let config: ReturnType<typeof parseCosignerConfig>;
      try {
        config = parseCosignerConfig(flags, process.env);
        running = await startCosignerServer(config);
      } catch (err) {
        if (err instanceof CosignerError) {
          throw new CliExit(2, `vigil cosigner start: ${err.message}`);
        }
        throw err;
      }
      const t = running.cosigner.tenantKeys;
      process.stdout.write(
        `cosigner listening on ${running.url}\ntenant ${t.tenant}\ntenant key ${t.tenantKey}\nping key ${t.pingKey}\n`,
      );
      // What the offered policies mean for the provider's users, in time rather than squarings.
      process.stdout.write(
        [
          'time locks offered to wallets:',
          ...config.groups.flatMap((g) =>
            policyRangeLines(g, config.minIterations, config.maxIterations),
          ),
          '',
        ].join('\n'),
      );
      await runUntilSignal(() => running.close());
    });
}
