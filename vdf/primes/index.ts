export { isProbablePrime, isqrt, jacobi } from './bpsw.ts';
export { HASH_PRIME_MAX_BITS, hashPrime } from './hash-prime.ts';
export { modPow, modPowBigint } from './modpow.ts';
