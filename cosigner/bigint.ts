/** Integer arithmetic on bigint that the Paillier and ring-Pedersen proofs need. */

export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** a⁻¹ mod m; throws when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('value is not invertible modulo m');
  return mod(oldS, m);
}

/** Jacobi symbol (a | n) for odd positive n. */
export function jacobi(a: bigint, n: bigint): -1 | 0 | 1 {
  if (n <= 0n || n % 2n === 0n) throw new RangeError('jacobi needs an odd positive modulus');
  let x = mod(a, n);
  let y = n;
  let result: -1 | 1 = 1;
  while (x !== 0n) {
    while (x % 2n === 0n) {
      x /= 2n;
      const r = y % 8n;
      if (r === 3n || r === 5n) result = result === 1 ? -1 : 1;
    }
    [x, y] = [y, x];
    if (x % 4n === 3n && y % 4n === 3n) result = result === 1 ? -1 : 1;
    x %= y;
  }
  return y === 1n ? result : 0;
}

export function bitLength(a: bigint): number {
  return a === 0n ? 0 : (a < 0n ? -a : a).toString(2).length;
}

export function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/** Integer square root (floor). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** Big-endian unsigned bytes, minimal length unless `length` is given. */
export function bigIntToBytes(value: bigint, length?: number): Uint8Array {
  if (value < 0n) throw new RangeError('cannot encode a negative number as unsigned bytes');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (value === 0n) hex = '';
  const raw = Buffer.from(hex, 'hex');
  if (length === undefined) return new Uint8Array(raw);
  if (raw.length > length) throw new RangeError('value does not fit the requested length');
  const out = new Uint8Array(length);
  out.set(raw, length - raw.length);
  return out;
}
