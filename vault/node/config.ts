/**
 * A vault node's configuration from flags and environment variables (docs/configuration.md),
 * validated in full at start: every problem is reported at once, nothing starts half-configured.
 */
import { join, resolve } from 'node:path';
import { VaultError } from '../errors.ts';
import { parseCorsOrigins } from '../http/cors.ts';
import { ConfigReader, type LogLevel, type RawFlags, readSealerChoice } from './config-reader.ts';

export interface VaultConfig {
  dataDir: string;
  host: string;
  port: number;
  operatorKey: Uint8Array | undefined;
  sealer:
    | { kind: 'key-file'; path: string }
    | { kind: 'aws-kms'; keyId: string; region: string | undefined; endpoint: string | undefined };
  insecureDevAttestation: boolean;
  /** Serve attested HTTPS (always, except a dev node that chose plain HTTP). */
  tls: boolean;
  transport: TransportConfig;
  rateLimitPerMinute: number;
  logLevel: LogLevel;
  /** Origins whose web pages may call the browser-facing routes (vault/http/cors.ts). */
  corsOrigins: string[];
}

/** How the node's sockets are opened (cluster/net/transport.ts). */
export type TransportConfig = { kind: 'tcp' } | { kind: 'vsock'; relayDir: string };

export const VAULT_ENV = {
  dataDir: 'VIGIL_DATA_DIR',
  host: 'VIGIL_HOST',
  port: 'VIGIL_PORT',
  operatorKey: 'VIGIL_OPERATOR_KEY',
  sealer: 'VIGIL_SEALER',
  keyFile: 'VIGIL_KEY_FILE',
  kmsKeyId: 'VIGIL_KMS_KEY_ID',
  kmsRegion: 'VIGIL_KMS_REGION',
  kmsEndpoint: 'VIGIL_KMS_ENDPOINT',
  insecureDevAttestation: 'VIGIL_INSECURE_DEV_ATTESTATION',
  tls: 'VIGIL_TLS',
  transport: 'VIGIL_TRANSPORT',
  relayDir: 'VIGIL_RELAY_DIR',
  rateLimit: 'VIGIL_RATE_LIMIT',
  logLevel: 'VIGIL_LOG_LEVEL',
  corsOrigins: 'VIGIL_CORS_ORIGINS',
} as const;

/** The settings a vault node and a cluster node read alike (same flags, same variables). */
type SharedKey = keyof typeof VAULT_ENV;

export function readOperatorKey(reader: ConfigReader<SharedKey>): Uint8Array | undefined {
  const opHex = reader.pick('operatorKey', 'operatorKey');
  if (opHex === undefined) return undefined;
  if (/^[0-9a-f]{64}$/.test(opHex)) return Buffer.from(opHex, 'hex');
  reader.problems.push('operator key must be 32 bytes of lowercase hex (a BIP-340 x-only key)');
  return undefined;
}

/** The sealer choice plus the KMS client's region and endpoint. */
export function readVaultSealer(
  reader: ConfigReader<SharedKey>,
  dataDir: string,
): VaultConfig['sealer'] {
  const choice = readSealerChoice(reader, dataDir);
  if (choice.kind === 'key-file') return choice;
  return {
    ...choice,
    region: reader.pick('kmsRegion', 'kmsRegion'),
    endpoint: reader.pick('kmsEndpoint', 'kmsEndpoint'),
  };
}

/** `--cors-origins` / VIGIL_CORS_ORIGINS: none unless given. */
export function readCorsOrigins(reader: ConfigReader<SharedKey>): string[] {
  try {
    return parseCorsOrigins(reader.pick('corsOrigins', 'corsOrigins') ?? '');
  } catch (err) {
    reader.problems.push((err as Error).message);
    return [];
  }
}

export function readInsecureDevAttestation(
  reader: ConfigReader<SharedKey>,
  flags: RawFlags,
  env: NodeJS.ProcessEnv,
): boolean {
  const insecureEnv = env[VAULT_ENV.insecureDevAttestation];
  if (insecureEnv !== undefined && insecureEnv !== '0' && insecureEnv !== '1') {
    reader.problems.push(`${VAULT_ENV.insecureDevAttestation} must be 0 or 1`);
  }
  return flags.insecureDevAttestation === true || insecureEnv === '1';
}

/**
 * `--tls on|off` (default: on, and off by default only with the insecure dev attestation, which
 * alone may serve plain HTTP) and `--transport tcp|vsock` with its `--relay-dir`.
 */
export function readTlsAndTransport(
  reader: ConfigReader<SharedKey>,
  insecureDevAttestation: boolean,
): { tls: boolean; transport: TransportConfig } {
  const tlsText = reader.pick('tls', 'tls') ?? (insecureDevAttestation ? 'off' : 'on');
  if (tlsText !== 'on' && tlsText !== 'off') {
    reader.problems.push(`--tls must be on or off, got "${tlsText.slice(0, 20)}"`);
  } else if (tlsText === 'off' && !insecureDevAttestation) {
    reader.problems.push(
      '--tls off (plain HTTP) needs --insecure-dev-attestation: a production node serves attested HTTPS',
    );
  }
  const kind = reader.pick('transport', 'transport') ?? 'tcp';
  if (kind === 'vsock') {
    return {
      tls: tlsText !== 'off',
      transport: { kind, relayDir: resolve(reader.pick('relayDir', 'relayDir') ?? '/run/vigil') },
    };
  }
  if (kind !== 'tcp') reader.problems.push(`--transport must be tcp or vsock, got "${kind}"`);
  return { tls: tlsText !== 'off', transport: { kind: 'tcp' } };
}

export function parseVaultConfig(flags: RawFlags, env: NodeJS.ProcessEnv): VaultConfig {
  const reader = new ConfigReader(flags, env, VAULT_ENV);
  const { problems } = reader;
  const pick = reader.pick.bind(reader);
  const integer = reader.integer.bind(reader);

  const dataDir = resolve(pick('dataDir', 'dataDir') ?? join('data', 'vault'));
  const host = pick('host', 'host') ?? '127.0.0.1';
  const port = integer('port', pick('port', 'port') ?? '7400', 0, 65_535);

  const operatorKey = readOperatorKey(reader);
  const sealer = readVaultSealer(reader, dataDir);
  const insecureDevAttestation = readInsecureDevAttestation(reader, flags, env);
  const { tls, transport } = readTlsAndTransport(reader, insecureDevAttestation);
  if (transport.kind === 'vsock' && port === 0) {
    problems.push('--port must be fixed with --transport vsock (the parent instance forwards it)');
  }

  const rateLimitPerMinute = integer(
    'rate limit',
    pick('rateLimit', 'rateLimit') ?? '600',
    1,
    1_000_000,
  );
  const logLevel = reader.logLevel(pick('logLevel', 'logLevel') ?? 'info');
  const corsOrigins = readCorsOrigins(reader);

  if (problems.length > 0) {
    throw new VaultError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, 500);
  }
  return {
    dataDir,
    host,
    port,
    operatorKey,
    sealer,
    insecureDevAttestation,
    tls,
    transport,
    rateLimitPerMinute,
    logLevel,
    corsOrigins,
  };
}
