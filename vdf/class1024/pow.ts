import type { Form } from './form.ts';

/** The two group operations an exponentiation needs; results are reduced forms. */
export interface FormOps {
  square(f: Form): Form;
  mul(f: Form, g: Form): Form;
  /** A backend's own multiExp (same contract as the function below), when it has one. */
  multiExp?(bases: readonly Form[], exps: readonly bigint[]): Form | undefined;
}

const WINDOW = 4;

/** (end bit, odd window value) pairs of a left-to-right sliding-window decomposition of e ≥ 0. */
function slidingWindows(e: bigint): Map<number, number> {
  const bits = e.toString(2);
  const top = bits.length - 1;
  const bit = (i: number): number => (bits.charCodeAt(top - i) === 49 ? 1 : 0);
  const out = new Map<number, number>();
  let i = top;
  while (i >= 0) {
    if (bit(i) === 0) {
      i--;
      continue;
    }
    let j = Math.max(i - WINDOW + 1, 0);
    while (bit(j) === 0) j++;
    let value = 0;
    for (let k = i; k >= j; k--) value = value * 2 + bit(k);
    out.set(j, value);
    i = j - 1;
  }
  return out;
}

/** f, f³, f⁵, …, f^(2^WINDOW − 1). */
function oddPowers(ops: FormOps, f: Form): Form[] {
  const table = [f];
  const f2 = ops.square(f);
  for (let k = 1; k < 1 << (WINDOW - 1); k++) table.push(ops.mul(table[k - 1]!, f2));
  return table;
}

/**
 * ∏ bases[i]^exps[i] by interleaved sliding windows (width 4): one shared run of squarings and
 * about e.bits/5 multiplications per exponent. Returns undefined for the identity (all exponents 0).
 */
export function multiExp(
  ops: FormOps,
  bases: readonly Form[],
  exps: readonly bigint[],
): Form | undefined {
  if (ops.multiExp) return ops.multiExp(bases, exps);
  const windows = exps.map((e) => (e === 0n ? new Map<number, number>() : slidingWindows(e)));
  const tables = bases.map((f, i) => (exps[i] === 0n ? [] : oddPowers(ops, f)));
  const top = Math.max(...exps.map((e) => e.toString(2).length)) - 1;
  let acc: Form | undefined;
  for (let i = top; i >= 0; i--) {
    if (acc !== undefined) acc = ops.square(acc);
    for (let k = 0; k < bases.length; k++) {
      const w = windows[k]!.get(i);
      if (w === undefined) continue;
      const term = tables[k]![(w - 1) >> 1]!;
      acc = acc === undefined ? term : ops.mul(acc, term);
    }
  }
  return acc;
}
