/** The flags `vigil vault start` and `vigil cluster node` share for TLS and the transport seam. */
import type { Command } from 'commander';

export function withTransportOptions(command: Command): Command {
  return command
    .option(
      '--tls <on|off>',
      'serve attested HTTPS (env VIGIL_TLS; default on; off only with --insecure-dev-attestation)',
    )
    .option(
      '--transport <kind>',
      'tcp, or vsock in an enclave: Unix sockets in --relay-dir bridged by socat (env VIGIL_TRANSPORT)',
    )
    .option(
      '--relay-dir <dir>',
      'relay sockets of the vsock transport (env VIGIL_RELAY_DIR; default /run/vigil)',
    );
}
