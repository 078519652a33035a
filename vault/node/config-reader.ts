import { join, resolve } from 'node:path';
/**
 * Reading a service's configuration from flags and environment variables, collecting every
 * problem instead of stopping at the first, so a bad start names all that is wrong at once.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Flag values as commander hands them over (strings, booleans, or absent). */
export type RawFlags = Record<string, string | boolean | undefined>;

export class ConfigReader<Key extends string> {
  readonly problems: string[] = [];
  readonly #flags: RawFlags;
  readonly #env: NodeJS.ProcessEnv;
  readonly #envNames: Record<Key, string>;

  constructor(flags: RawFlags, env: NodeJS.ProcessEnv, envNames: Record<Key, string>) {
    this.#flags = flags;
    this.#env = env;
    this.#envNames = envNames;
  }

  /** The flag's value if given, else its environment variable's. */
  pick(flag: string, key: Key): string | undefined {
    const f = this.#flags[flag];
    if (typeof f === 'string') return f;
    return this.#env[this.#envNames[key]];
  }

  integer(name: string, text: string, min: number, max: number): number {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      this.problems.push(`${name} must be an integer in [${min}, ${max}], got "${text}"`);
      return min;
    }
    return n;
  }

  logLevel(text: string): LogLevel {
    if ((LOG_LEVELS as readonly string[]).includes(text)) return text as LogLevel;
    this.problems.push(`log level must be one of ${LOG_LEVELS.join(', ')}`);
    return 'info';
  }
}

/** Where a service's storage key comes from: a local key file (development) or AWS KMS. */
export type SealerChoice = { kind: 'key-file'; path: string } | { kind: 'aws-kms'; keyId: string };

/** Reads `--sealer`, `--key-file` and `--kms-key-id` the same way for every service. */
export function readSealerChoice(
  reader: ConfigReader<'sealer' | 'keyFile' | 'kmsKeyId'>,
  dataDir: string,
): SealerChoice {
  const kind = reader.pick('sealer', 'sealer') ?? 'key-file';
  if (kind === 'aws-kms') {
    const keyId = reader.pick('kmsKeyId', 'kmsKeyId');
    if (!keyId) reader.problems.push('the aws-kms sealer needs --kms-key-id');
    return { kind: 'aws-kms', keyId: keyId ?? '' };
  }
  if (kind !== 'key-file')
    reader.problems.push(`--sealer must be key-file or aws-kms, got "${kind}"`);
  return {
    kind: 'key-file',
    path: resolve(reader.pick('keyFile', 'keyFile') ?? join(dataDir, 'storage.key')),
  };
}
