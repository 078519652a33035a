/**
 * `vigil cosigner start` configuration from flags and environment variables (docs/cosigner.md),
 * validated in full at start: every problem is reported at once, nothing starts half-configured.
 */
import { join, resolve } from 'node:path';
import { ConfigReader, type LogLevel, type RawFlags, readSealerChoice } from '../../vault/index.ts';
import { CosignerError } from '../errors.ts';

export interface CosignerConfig {
  dataDir: string;
  host: string;
  port: number;
  vaultUrl: string;
  tenant: string;
  pingIntervalMs: number;
  insecureDevAttestation: boolean;
  /** Ed25519 public keys of trusted dev vault nodes (dev attestation only). */
  devAttestationKeys: Uint8Array[];
  /** Expected Nitro PCRs (production). */
  expectedPcrs: Record<number, string>;
  sealer: { kind: 'key-file'; path: string } | { kind: 'aws-kms'; keyId: string };
  groups: ('rsa2048' | 'class1024')[];
  /** Policy kinds offered to wallets (docs/protocol.md §Deposit). */
  kinds: ('strict' | 'clock-gated')[];
  minIterations: number;
  maxIterations: number;
  poolSize: number;
  maxSessions: number;
  sessionTtlMs: number;
  rateLimitPerMinute: number;
  keygenQuotaPerWallet: number;
  keygenQuotaPerClient: number;
  registrationQuotaPerClient: number;
  vaultWalletLimit: number;
  refreshHeadroom: number;
  logLevel: LogLevel;
}

export const COSIGNER_ENV = {
  dataDir: 'VIGIL_COSIGNER_DATA_DIR',
  host: 'VIGIL_COSIGNER_HOST',
  port: 'VIGIL_COSIGNER_PORT',
  vault: 'VIGIL_COSIGNER_VAULT_URL',
  tenant: 'VIGIL_COSIGNER_TENANT',
  pingInterval: 'VIGIL_COSIGNER_PING_INTERVAL',
  insecureDevAttestation: 'VIGIL_INSECURE_DEV_ATTESTATION',
  devAttestationKey: 'VIGIL_COSIGNER_DEV_ATTESTATION_KEY',
  pcr0: 'VIGIL_COSIGNER_PCR0',
  sealer: 'VIGIL_COSIGNER_SEALER',
  keyFile: 'VIGIL_COSIGNER_KEY_FILE',
  kmsKeyId: 'VIGIL_COSIGNER_KMS_KEY_ID',
  groups: 'VIGIL_COSIGNER_GROUPS',
  policyKinds: 'VIGIL_COSIGNER_POLICY_KINDS',
  minIterations: 'VIGIL_COSIGNER_MIN_ITERATIONS',
  maxIterations: 'VIGIL_COSIGNER_MAX_ITERATIONS',
  poolSize: 'VIGIL_COSIGNER_POOL_SIZE',
  maxSessions: 'VIGIL_COSIGNER_MAX_SESSIONS',
  sessionTtl: 'VIGIL_COSIGNER_SESSION_TTL',
  rateLimit: 'VIGIL_COSIGNER_RATE_LIMIT',
  keygenQuotaWallet: 'VIGIL_COSIGNER_KEYGEN_QUOTA_WALLET',
  keygenQuotaClient: 'VIGIL_COSIGNER_KEYGEN_QUOTA_CLIENT',
  walletQuotaClient: 'VIGIL_COSIGNER_WALLET_QUOTA_CLIENT',
  vaultWalletLimit: 'VIGIL_COSIGNER_VAULT_WALLET_LIMIT',
  refreshHeadroom: 'VIGIL_COSIGNER_REFRESH_HEADROOM',
  logLevel: 'VIGIL_LOG_LEVEL',
} as const;

const GROUPS = ['rsa2048', 'class1024'] as const;

export function parseCosignerConfig(flags: RawFlags, env: NodeJS.ProcessEnv): CosignerConfig {
  const reader = new ConfigReader(flags, env, COSIGNER_ENV);
  const { problems } = reader;
  const pick = reader.pick.bind(reader);
  const integer = reader.integer.bind(reader);
  /** An integer flag whose camelCase name is also its COSIGNER_ENV key. */
  const count = (
    flag: string,
    key: keyof typeof COSIGNER_ENV,
    dflt: string,
    min: number,
    max: number,
  ) => integer(flag, pick(key, key) ?? dflt, min, max);

  const dataDir = resolve(pick('dataDir', 'dataDir') ?? join('data', 'cosigner'));
  const host = pick('host', 'host') ?? '127.0.0.1';
  const port = integer('port', pick('port', 'port') ?? '7500', 0, 65_535);
  const vaultUrl = pick('vault', 'vault') ?? '';
  // one node's URL or several, comma-separated: the cluster's other members are learned from them
  if (!vaultUrl.split(',').every((u) => /^https?:\/\/[^\s,]+$/.test(u))) {
    problems.push(
      '--vault (VIGIL_COSIGNER_VAULT_URL) must be http(s) URLs of vault nodes, comma-separated',
    );
  }
  const tenant = pick('tenant', 'tenant') ?? '';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant)) {
    problems.push('--tenant (VIGIL_COSIGNER_TENANT) must be 1-63 of [a-z0-9-], as registered');
  }
  const pingIntervalMs =
    integer('ping-interval', pick('pingInterval', 'pingInterval') ?? '5', 1, 3600) * 1000;
  const insecureDevAttestation =
    flags.insecureDevAttestation === true || env[COSIGNER_ENV.insecureDevAttestation] === '1';
  const devKeys = (pick('devAttestationKey', 'devAttestationKey') ?? '')
    .split(',')
    .filter((k) => k.length > 0);
  const devAttestationKeys: Uint8Array[] = [];
  for (const k of devKeys) {
    if (/^[0-9a-f]{64}$/.test(k)) devAttestationKeys.push(new Uint8Array(Buffer.from(k, 'hex')));
    else problems.push('--dev-attestation-key must be 32-byte Ed25519 public keys in hex');
  }
  if (insecureDevAttestation && devAttestationKeys.length === 0) {
    problems.push(
      "--insecure-dev-attestation needs --dev-attestation-key (the dev vault nodes' public keys)",
    );
  }
  const expectedPcrs: Record<number, string> = {};
  const pcr0 = pick('pcr0', 'pcr0');
  if (pcr0 !== undefined) {
    if (/^[0-9a-f]{96}$/.test(pcr0)) expectedPcrs[0] = pcr0;
    else problems.push('--pcr0 must be 48 bytes in hex');
  }
  if (!insecureDevAttestation && pcr0 === undefined) {
    problems.push('production attestation needs --pcr0 (the vault enclave image measurement)');
  }
  const sealer: CosignerConfig['sealer'] = readSealerChoice(reader, dataDir);
  const groups = (pick('groups', 'groups') ?? 'class1024,rsa2048').split(',');
  for (const g of groups) {
    if (!(GROUPS as readonly string[]).includes(g)) problems.push(`unknown VDF group "${g}"`);
  }
  const kinds = (pick('policyKinds', 'policyKinds') ?? 'strict').split(',');
  for (const k of kinds) {
    if (k !== 'strict' && k !== 'clock-gated') problems.push(`unknown policy kind "${k}"`);
  }
  const minIterations = integer(
    'min-iterations',
    pick('minIterations', 'minIterations') ?? '1000000',
    1,
    2 ** 48,
  );
  const maxIterations = integer(
    'max-iterations',
    pick('maxIterations', 'maxIterations') ?? String(2 ** 40),
    1,
    2 ** 48,
  );
  if (maxIterations < minIterations) problems.push('max-iterations is below min-iterations');
  const poolSize = integer('pool-size', pick('poolSize', 'poolSize') ?? '4', 0, 64);
  const maxSessions = integer('max-sessions', pick('maxSessions', 'maxSessions') ?? '1000', 1, 1e6);
  const sessionTtlMs =
    integer('session-ttl', pick('sessionTtl', 'sessionTtl') ?? '60', 1, 3600) * 1000;
  const rateLimitPerMinute = integer(
    'rate-limit',
    pick('rateLimit', 'rateLimit') ?? '1200',
    1,
    1e7,
  );
  const keygenQuotaPerWallet = count('keygen-quota-wallet', 'keygenQuotaWallet', '10', 1, 1e6);
  const keygenQuotaPerClient = count('keygen-quota-client', 'keygenQuotaClient', '60', 1, 1e6);
  const registrationQuotaPerClient = count(
    'wallet-quota-client',
    'walletQuotaClient',
    '20',
    1,
    1e6,
  );
  const vaultWalletLimit = count('vault-wallet-limit', 'vaultWalletLimit', '0', 0, 1e9);
  const refreshHeadroom = count('refresh-headroom', 'refreshHeadroom', '10', 0, 1e9);
  if (vaultWalletLimit > 0 && refreshHeadroom >= vaultWalletLimit) {
    problems.push('--refresh-headroom must be below --vault-wallet-limit');
  }
  const logLevel = reader.logLevel(pick('logLevel', 'logLevel') ?? 'info');
  if (problems.length > 0) {
    throw new CosignerError(
      'COSIGNER_MALFORMED',
      `invalid configuration:\n  ${problems.join('\n  ')}`,
    );
  }
  return {
    dataDir,
    host,
    port,
    vaultUrl,
    tenant,
    pingIntervalMs,
    insecureDevAttestation,
    devAttestationKeys,
    expectedPcrs,
    sealer,
    groups: groups as CosignerConfig['groups'],
    kinds: kinds as CosignerConfig['kinds'],
    minIterations,
    maxIterations,
    poolSize,
    maxSessions,
    sessionTtlMs,
    rateLimitPerMinute,
    keygenQuotaPerWallet,
    keygenQuotaPerClient,
    registrationQuotaPerClient,
    vaultWalletLimit,
    refreshHeadroom,
    logLevel,
  };
}
