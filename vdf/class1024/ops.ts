import { accelerators } from '../accelerators.ts';
import { opsFor } from './fast.ts';
import type { FormOps } from './pow.ts';

/** The class-group operations in use here: the native addon's where Node installed them. */
export function formOpsFor(D: bigint): FormOps {
  return accelerators().class1024Ops?.(D) ?? opsFor(D);
}
