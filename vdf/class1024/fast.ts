import { reduce } from './form.ts';
import { naiveCompose, naiveSquare } from './naive.ts';
import type { FormOps } from './pow.ts';

export const naiveOps: FormOps = { square: naiveSquare, mul: naiveCompose };
/** Replaced by NUDUPL/NUCOMP below once tested. */
export const fastOps: FormOps = { square: (f) => reduce(naiveSquare(f)), mul: naiveCompose };
