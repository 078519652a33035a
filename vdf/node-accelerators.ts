/**
 * Node's accelerators (accelerators.ts): OpenSSL's Montgomery exponentiation through node:crypto,
 * and the native addon's HashPrime and class-group operations where it is built. The Node face
 * (index.ts) and the solver's processes and workers install them; the portable face (portable.ts)
 * never loads this file, so a browser bundle carries none of it.
 */
import { type Accelerators, useAccelerators } from './accelerators.ts';
import { class1024Ops as addonOrTypeScriptOps } from './class1024/native.ts';
import { nativeHashPrime } from './primes/native-hash-prime.ts';
import { opensslOddPow } from './primes/openssl-pow.ts';
import { opensslPow, opensslSquareTimes } from './rsa2048/openssl.ts';

export const nodeAccelerators: Accelerators = {
  oddModPow: opensslOddPow,
  hashPrime: nativeHashPrime,
  rsa2048: { pow: opensslPow, squareTimes: opensslSquareTimes },
  class1024Ops: addonOrTypeScriptOps,
};

export function installNodeAccelerators(): void {
  useAccelerators(nodeAccelerators);
}
