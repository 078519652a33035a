import type { VdfGroup } from '../group.ts';
import { decodeForm, encodeForm, FORM_BYTES } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { type Form, formsEqual, generatorForm, identityForm } from './form.ts';
import { formOpsFor } from './ops.ts';
import { type FormOps, multiExp } from './pow.ts';
import { getB } from './verify.ts';

/**
 * The class1024 group for one challenge seed (DESIGN.md §4): D = −HashPrime(seed, 1024,
 * {0, 1, 2, 1023}), input x = the form (2, 1), elements as 100-byte BQFC, and ℓ = Chia's GetB(x, y),
 * which does not bind T — accepted for byte compatibility with chiavdf. `backend` defaults to the
 * native addon's operations where Node installed them (accelerators.ts), else the TypeScript
 * ones (the same forms).
 */
export function class1024Group(seed: Uint8Array, backend?: FormOps): VdfGroup<Form> {
  const D = discriminantFromSeed(seed);
  const ops = backend ?? formOpsFor(D);
  return {
    name: 'class1024',
    elementBytes: FORM_BYTES,
    input: generatorForm(D),
    encode: encodeForm,
    decode: (bytes) => decodeForm(D, bytes),
    equal: formsEqual,
    identity: () => identityForm(D),
    mul: (a, b) => ops.mul(a, b),
    square: (a) => ops.square(a),
    squareTimes(a, k) {
      if (!Number.isInteger(k) || k < 0) throw new RangeError('squareTimes: k must be a count');
      let r = a;
      for (let i = 0; i < k; i++) r = ops.square(r);
      return r;
    },
    pow(a, exponent) {
      if (exponent < 0n) throw new RangeError('pow: negative exponent');
      return multiExp(ops, [a], [exponent]) ?? identityForm(D);
    },
    challengePrime: (_iterations, x, y) => getB(x, y),
  };
}
