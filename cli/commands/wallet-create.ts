/** `vigil wallet create`: two-party keygen with a cosigner, the backup checked, the file written. */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  type AttestationTrust,
  ClientError,
  createWallet,
  describeTimeLock,
  makeEcdsaSetup,
  measureThisMachine,
  passwordStrength,
  policyFigures,
  policyIterations,
  readPassword,
  STRICT_MARGIN,
  saveWallet,
  systemRandom,
  WEAK_BELOW_SCORE,
  walletAddresses,
} from '../../client-lib/index.ts';
import { POLICY_KINDS } from '../../vault/index.ts';
import {
  calibrateIterations,
  DEFAULT_ATTACKER_RATE,
  type GroupName,
  isGroupName,
  MAX_ITERATIONS,
  parseDelaySeconds,
} from '../../vdf/index.ts';
import { CliExit } from '../exit.ts';
import { readStack } from '../stack.ts';
import {
  humanDuration,
  policyFiguresLines,
  policyRangeLines,
  timeLockLines,
} from '../time-lock-report.ts';
import { EXIT, exitFor } from './user-options.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
/** Past a month of solving on the user's own machine, creation warns (it still proceeds). */
const LONG_WAIT_SECONDS = 30 * 86_400;

interface CreateFlags {
  cosigner?: string;
  stack?: string;
  out: string;
  scheme: string;
  group: string;
  iterations?: string;
  delay?: string;
  policy: string;
  vault?: string[];
  devAttestationKey?: string[];
  pcr?: string[];
  ringPedersenBits: string;
  scryptLogN: string;
  passwordFile?: string;
  json?: boolean;
}

function trustFrom(o: CreateFlags, usage: (m: string) => CliExit): AttestationTrust {
  const dev = o.devAttestationKey ?? [];
  const pcrs = o.pcr ?? [];
  if (dev.length > 0 && pcrs.length > 0)
    throw usage('give --dev-attestation-key or --pcr, not both');
  if (dev.length > 0) {
    if (dev.some((k) => !/^[0-9a-f]{64}$/.test(k)))
      throw usage('--dev-attestation-key is 32 bytes of lowercase hex');
    process.stderr.write(
      'WARNING: trusting INSECURE development attestation; never use with real funds\n',
    );
    return { kind: 'insecure-dev', devKeys: dev.map((k) => new Uint8Array(Buffer.from(k, 'hex'))) };
  }
  if (pcrs.length === 0)
    throw usage('say which vault to trust: --pcr index=hex (Nitro) or --dev-attestation-key');
  const out: Record<number, Uint8Array> = {};
  for (const p of pcrs) {
    const m = /^(\d{1,2})=([0-9a-f]{96})$/.exec(p);
    if (!m) throw usage('--pcr must be index=<96 lowercase hex digits>');
    out[Number(m[1])] = new Uint8Array(Buffer.from(m[2] as string, 'hex'));
  }
  return { kind: 'aws-nitro', pcrs: out };
}

/**
 * Fills what the flags leave out from a running local stack's stack.json: the stack prints these
 * too, but a user should not have to copy a 64-digit key to try the story.
 */
async function withStack(
  o: CreateFlags,
  usage: (m: string) => CliExit,
): Promise<CreateFlags & { cosigner: string }> {
  if (o.stack === undefined) {
    if (o.cosigner === undefined)
      throw usage('give --cosigner URL (or --stack DIR for `npm start`)');
    return { ...o, cosigner: o.cosigner };
  }
  const stack = await readStack(o.stack);
  if (!stack) {
    throw usage(
      `no running local stack in ${o.stack} (no stack.json): start one with \`npm start\``,
    );
  }
  const pinned = (o.pcr?.length ?? 0) > 0 || (o.devAttestationKey?.length ?? 0) > 0;
  return {
    ...o,
    cosigner: o.cosigner ?? stack.cosignerUrl,
    vault: o.vault?.length ? o.vault : stack.vaultUrls,
    ...(pinned ? {} : { devAttestationKey: [stack.devAttestationKey] }),
  };
}

export function registerWalletCreateCommand(wallet: Command): void {
  wallet
    .command('create')
    .description(
      'create a wallet with a cosigner: two-party keygen, the cosigner deposits its share in the ' +
        'vault, and this device checks the backup against its own attestation pin',
    )
    .option('--cosigner <url>', "the wallet provider's cosigner URL (or --stack)")
    .option(
      '--stack <dir>',
      "a running local stack's data folder (`npm start`: data): its cosigner, every vault node " +
        'and its INSECURE dev attestation key, unless given by the flags',
    )
    .requiredOption('--out <file>', 'where to write the encrypted wallet file (must not exist)')
    .option(
      '--scheme <scheme>',
      'ecdsa-2p (two-party ECDSA) or musig2 (BIP-340/Taproot)',
      'ecdsa-2p',
    )
    .option('--group <group>', 'VDF group of the time lock: rsa2048 or class1024', 'rsa2048')
    .option('--iterations <T>', 'time lock in squarings')
    .option(
      '--delay <d>',
      'time lock as the least time the fastest known attacker needs, e.g. 30d (x2 margin); ' +
        'an honest user waits longer, and wallet create shows how long first',
    )
    .option(
      '--policy <kind>',
      'strict (T against the fastest attacker) or clock-gated (T for a typical desktop, and ' +
        "--delay on the vault's quorum clock; the provider must offer it)",
      'strict',
    )
    .option(
      '--vault <url>',
      'vault URL to record and verify against (repeatable; default: the one the cosigner uses)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--dev-attestation-key <hex>',
      'INSECURE: trust vault dev attestations signed by this Ed25519 key (local runs; repeatable)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--pcr <index=hex>',
      'trust AWS Nitro attestations with this PCR value (repeatable, e.g. 0=<96 hex>)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--ring-pedersen-bits <n>',
      'ECDSA setup modulus size (the cosigner sets the minimum)',
      '2048',
    )
    .option(
      '--password-file <file>',
      'read the new password from this file (else VIGIL_WALLET_PASSWORD or a prompt)',
    )
    .option(
      '--scrypt-log-n <n>',
      'password hardening: scrypt memory 2^n·1 KiB (10..20; default 17 = 128 MiB)',
      '17',
    )
    .option('--json', 'print one JSON object')
    .action(async (flags: CreateFlags) => {
      const usage = (m: string) => new CliExit(EXIT.usage, `vigil wallet create: ${m}`);
      const o = await withStack(flags, usage);
      if (o.scheme !== 'ecdsa-2p' && o.scheme !== 'musig2')
        throw usage('--scheme is ecdsa-2p or musig2');
      if (!isGroupName(o.group)) throw usage('--group is rsa2048 or class1024');
      if (o.policy !== 'strict' && o.policy !== 'clock-gated')
        throw usage('--policy is strict or clock-gated');
      let iterations: number;
      let gate: { kind: 'clock-gated'; delaySeconds: number } | undefined;
      if (o.policy === 'clock-gated') {
        const seconds = o.delay === undefined ? undefined : parseDelaySeconds(o.delay);
        if (seconds === undefined || o.iterations !== undefined)
          throw usage('--policy clock-gated takes --delay (like 90s, 12h, 30d), not --iterations');
        gate = { kind: 'clock-gated', delaySeconds: Math.max(1, Math.round(seconds)) };
        iterations = policyIterations('clock-gated', o.group, seconds);
      } else if (o.iterations !== undefined) {
        if (!/^\d+$/.test(o.iterations) || Number(o.iterations) < 1)
          throw usage('--iterations must be a positive integer');
        iterations = Number(o.iterations);
      } else if (o.delay !== undefined) {
        const seconds = parseDelaySeconds(o.delay);
        if (seconds === undefined) throw usage('--delay must look like 90s, 12h, 30d or 2w');
        iterations = calibrateIterations(seconds, DEFAULT_ATTACKER_RATE[o.group], 2);
        if (iterations > MAX_ITERATIONS) {
          const most = describeTimeLock(o.group, MAX_ITERATIONS);
          throw usage(
            `a ${o.delay} delay against the fastest attacker is beyond any solver's cap ` +
              `(at most ${humanDuration(most.attackerSeconds)} for the attacker, which is ` +
              `${humanDuration(most.desktopSeconds)} of solving on a typical desktop)`,
          );
        }
      } else throw usage('give --iterations or --delay');
      const attestation = trustFrom(o, usage);
      const bits = Number(o.ringPedersenBits);
      if (!Number.isInteger(bits) || bits < 512 || bits % 2 !== 0)
        throw usage('--ring-pedersen-bits');
      const logN = Number(o.scryptLogN);
      if (!Number.isInteger(logN) || logN < 10 || logN > 20)
        throw usage('--scrypt-log-n is 10..20');
      if (existsSync(o.out)) throw usage(`${o.out} exists; refusing to overwrite a wallet`);
      // Before anything slow (password hardening, keygen, safe primes): what this lock means.
      const here = measureThisMachine(o.group);
      const timeLock = describeTimeLock(o.group, iterations, here);
      for (const line of timeLockLines(timeLock)) process.stderr.write(`${line}\n`);
      const delay =
        gate?.delaySeconds ?? iterations / (DEFAULT_ATTACKER_RATE[o.group] * STRICT_MARGIN);
      for (const line of policyKindLines(o.group, delay, { kind: o.policy, iterations }, here))
        process.stderr.write(`${line}\n`);
      if ((timeLock.here?.seconds ?? 0) > LONG_WAIT_SECONDS) {
        process.stderr.write(
          `WARNING: recovering this wallet without the provider would take about ` +
            `${humanDuration(timeLock.here!.seconds)} of solving on this machine; ` +
            'choose a shorter delay, or plan to solve on a faster machine\n',
        );
      }
      try {
        const password = await readPassword({
          ...(o.passwordFile ? { passwordFile: o.passwordFile } : {}),
          confirm: true,
          prompt: 'New wallet password: ',
        });
        await warnIfWeak(password, o.out);
        const w = await createWallet({
          cosignerUrl: o.cosigner,
          kind: o.scheme,
          policy: { group: o.group, iterations, ...gate },
          attestation,
          random: systemRandom,
          // Made only after the cosigner accepted the registration and the policy: a cosigner
          // that is down or refuses the policy is known before the safe primes.
          ...(o.scheme === 'ecdsa-2p'
            ? {
                setup: () => {
                  process.stderr.write(
                    `the cosigner accepted the policy; generating this device's ${bits}-bit ` +
                      'ECDSA setup (safe primes, up to a minute)…\n',
                  );
                  return makeEcdsaSetup(bits, systemRandom);
                },
              }
            : {}),
          ...(bits < 2048
            ? { securityPolicy: { paillierBits: 2048, ringPedersenBits: bits } }
            : {}),
          ...(o.vault?.length ? { vaultUrls: o.vault } : {}),
        });
        await saveWallet(o.out, w, password, {
          random: systemRandom,
          scrypt: { n: 2 ** logN, r: 8, p: 1 },
        });
        const a = walletAddresses(w.scheme, w.q);
        if (o.json) {
          out(
            JSON.stringify({
              wallet: o.out,
              scheme: w.scheme,
              iterations,
              timeLock: {
                attackerSeconds: timeLock.attackerSeconds,
                desktopSeconds: timeLock.desktopSeconds,
                hereSeconds: timeLock.here?.seconds ?? null,
              },
              ...a,
            }),
          );
          return;
        }
        out(`wallet written to ${o.out} (encrypted; keep a copy and the password)`);
        out(`backup verified at ${w.vaultUrls.join(', ')}: ${iterations} squarings (${o.group})`);
        out(`public key: ${a.publicKey}`);
        out(`bitcoin:    ${a.bitcoin}`);
        if (a.ethereum) out(`ethereum:   ${a.ethereum}`);
      } catch (err) {
        exitFor('vigil wallet create', withPolicyInTime(err, o.group));
      }
    });
}

/**
 * The same delay under each policy kind, machine by machine: a provider may offer clock-gated
 * policies, whose honest wait is about the delay instead of the attacker's multiple.
 */
function policyKindLines(
  group: GroupName,
  delay: number,
  chosen: { kind: string; iterations: number },
  here: { rate: number; backend: string },
): string[] {
  const lines = [`the same delay (${humanDuration(delay)}) under each policy kind:`];
  for (const kind of POLICY_KINDS) {
    const f = policyFigures(kind, group, delay, {
      here,
      ...(kind === chosen.kind ? { iterations: chosen.iterations } : {}),
    });
    lines.push(...policyFiguresLines(f).map((l) => `  ${l}`));
  }
  return lines;
}

/** A weak password is the user's call, but it must be an informed one: warn, never refuse. */
async function warnIfWeak(password: string, out: string): Promise<void> {
  const s = await passwordStrength(password, [basename(out), 'vigil', 'wallet']);
  if (s.score >= WEAK_BELOW_SCORE) return;
  const advice = [s.warning, ...s.suggestions].filter(Boolean).join(' ');
  process.stderr.write(
    `WARNING: this password is easy to guess (strength ${s.score} of 4). ${advice}\n` +
      '  Anyone who copies the wallet file can try passwords offline, and the file holds your ' +
      'share of the key.\n',
  );
}

/**
 * The cosigner states its iteration bounds ("iterations must be in [a, b]"); a person needs
 * them as times. Only the message is rewritten: the code and status stay the cosigner's.
 */
function withPolicyInTime(err: unknown, group: GroupName): unknown {
  if (!(err instanceof ClientError) || err.vaultCode !== 'COSIGNER_POLICY_REJECTED') return err;
  const m = /iterations must be in \[(\d+), (\d+)\]/.exec(err.message);
  if (!m) return err;
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  const range = policyRangeLines(group, lo, hi)[0]!.trim();
  return new ClientError(err.code, `${err.message}; the provider offers ${range}`, {
    ...(err.status === undefined ? {} : { status: err.status }),
    vaultCode: err.vaultCode,
    cause: err,
  });
}
