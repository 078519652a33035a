/** Squaring-rate measurement per backend (CLI bench/calibrate and npm run bench). */
import {
  class1024Group,
  discriminantFromSeed,
  type Form,
  naiveOps,
  nativeFormChain,
  opsFor,
} from './class1024/index.ts';
import type { GroupName, VdfGroup } from './group.ts';
import { decodeRsa, encodeRsa, rsa2048Group } from './rsa2048/group.ts';
import { nativeAddon } from './rsa2048/native.ts';
import { nativeRsaSquareChain } from './rsa2048/native-chain.ts';

export interface Backend {
  group: GroupName;
  name: string;
  /** The baseline the others are judged against. */
  naive: boolean;
  make(seed: Uint8Array): VdfGroup<unknown>;
  /** Squarings per timed step (keeps clock reads and call overhead out of the figure). */
  step: number;
  /** False where the backend cannot run here (the native addon is not built). */
  available?: () => boolean;
}

/** The most squarings one native chain call takes. */
const CALL_MAX = 2 ** 24;

/** squareTimes over a native chain: `run(e, count)` squares e count times (count ≤ CALL_MAX). */
function chainedSquareTimes<E>(run: (e: E, count: number) => E): (a: E, k: number) => E {
  return (a, k) => {
    let e = a;
    for (let left = k; left > 0; left -= CALL_MAX) e = run(e, Math.min(left, CALL_MAX));
    return e;
  };
}

/** The solver's own rsa2048 evaluation: OpenSSL's squaring inside the native addon. */
function nativeRsa2048(seed: Uint8Array): VdfGroup<unknown> {
  const chain = nativeRsaSquareChain(nativeAddon()!);
  return {
    ...rsa2048Group(seed, 'openssl'),
    squareTimes: chainedSquareTimes<bigint>((v, count) =>
      decodeRsa(chain(encodeRsa(v), 0, count, 2 ** 53).pop()!),
    ),
  } as VdfGroup<unknown>;
}

/** The solver's own class1024 evaluation: NUDUPL in the native addon (native/class_form.cc). */
function nativeClass1024(seed: Uint8Array): VdfGroup<unknown> {
  const chain = nativeFormChain(nativeAddon()!, discriminantFromSeed(seed));
  return {
    ...class1024Group(seed),
    squareTimes: chainedSquareTimes<Form>((f, count) => chain(f, 0, count, 2 ** 53).pop()!),
  } as VdfGroup<unknown>;
}

export const BACKENDS: readonly Backend[] = [
  {
    group: 'rsa2048',
    name: 'native',
    naive: false,
    step: 2047 * 12,
    available: () => nativeAddon() !== undefined,
    make: nativeRsa2048,
  },
  {
    group: 'rsa2048',
    name: 'openssl',
    naive: false,
    step: 2047 * 4,
    make: (s) => rsa2048Group(s, 'openssl') as VdfGroup<unknown>,
  },
  {
    group: 'rsa2048',
    name: 'bigint-naive',
    naive: true,
    step: 2000,
    make: (s) => rsa2048Group(s, 'bigint') as VdfGroup<unknown>,
  },
  {
    group: 'class1024',
    name: 'native',
    naive: false,
    step: 4096,
    available: () => nativeAddon() !== undefined,
    make: nativeClass1024,
  },
  {
    group: 'class1024',
    name: 'ts-nudupl',
    naive: false,
    step: 200,
    // The TypeScript operations even where the addon is built (the group's default is native).
    make: (s) => class1024Group(s, opsFor(discriminantFromSeed(s))) as VdfGroup<unknown>,
  },
  {
    group: 'class1024',
    name: 'bigint-naive',
    naive: true,
    step: 50,
    make: (s) => class1024Group(s, naiveOps) as VdfGroup<unknown>,
  },
];

export function backendsFor(group?: GroupName): Backend[] {
  return BACKENDS.filter(
    (b) => (group === undefined || b.group === group) && (b.available?.() ?? true),
  );
}

/** The backend the solver uses for a group. */
export function fastestBackend(group: GroupName): Backend {
  return backendsFor(group).find((b) => !b.naive)!;
}

export function measureSquaringsPerSecond(
  b: Backend,
  seconds: number,
  now: () => number = () => performance.now(),
): number {
  const g = b.make(new Uint8Array([0x76, 0x64, 0x66]));
  let e = g.squareTimes(g.input, 1);
  const start = now();
  let done = 0;
  while (now() - start < seconds * 1000) {
    e = g.squareTimes(e, b.step);
    done += b.step;
  }
  return done / ((now() - start) / 1000);
}

/** Default attacker rates (shared/research/vdf.md §7): FPGA for RSA-2048, Chia's ASIC for class groups. */
export const DEFAULT_ATTACKER_RATE: Record<GroupName, number> = {
  rsa2048: 1.5e7,
  class1024: 714_720,
};

export function parseDelaySeconds(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([smhdw]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
    m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'
  ];
  const v = Number(m[1]) * unit;
  return v > 0 && Number.isFinite(v) ? v : undefined;
}

/** T = ⌈delay × attacker rate × margin⌉ (research §7). */
export function calibrateIterations(
  delaySeconds: number,
  attackerRate: number,
  margin: number,
): number {
  return Math.ceil(delaySeconds * attackerRate * margin);
}
