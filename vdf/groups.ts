/** Group instances by name: the one place that knows every group. */

import { discriminantFromSeed } from './class1024/discriminant.ts';
import { opsFor } from './class1024/fast.ts';
import { class1024Group } from './class1024/group.ts';
import { VdfError } from './errors.ts';
import type { GroupName, VdfGroup } from './group.ts';
import { rsa2048Group } from './rsa2048/group.ts';

export const GROUP_NAMES: readonly GroupName[] = ['rsa2048', 'class1024'];

export function isGroupName(v: unknown): v is GroupName {
  return typeof v === 'string' && (GROUP_NAMES as readonly string[]).includes(v);
}

/** `native` false keeps class1024 on the TypeScript operations (the solver's `native: false`). */
export function groupFor(name: GroupName, seed: Uint8Array, native = true): VdfGroup<unknown> {
  if (name === 'rsa2048') return rsa2048Group(seed) as VdfGroup<unknown>;
  if (name === 'class1024')
    return class1024Group(
      seed,
      native ? undefined : opsFor(discriminantFromSeed(seed)),
    ) as VdfGroup<unknown>;
  throw new VdfError('VDF_UNKNOWN_GROUP', `unknown VDF group ${String(name)}`);
}

/** Encoded element sizes, known before any group work. */
export const ELEMENT_BYTES: Record<GroupName, number> = { rsa2048: 256, class1024: 100 };
