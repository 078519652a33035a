/**
 * GMP's mpz_powm on this machine, for the "at least as fast as GMP" target: compiled and run only
 * when a C compiler and GMP's headers are installed (`apt-get install libgmp-dev`); otherwise the
 * bench says it was not measured. Bench-only: nothing of Vigil depends on GMP.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = `
#include <gmp.h>
#include <stdio.h>
#include <time.h>
int main(int argc, char **argv) {
  mpz_t n, x, e; mpz_inits(n, x, e, NULL);
  mpz_set_str(n, argv[1], 16);
  mpz_set_ui(x, 3);
  unsigned long k = 1UL << 20;
  mpz_setbit(e, k);
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < 3; i++) mpz_powm(x, x, e, n);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%f\\n", 3.0 * k / s);
  return 0;
}
`;

/** Squarings per second of GMP's mpz_powm at 2048 bits, or null when GMP is not installed. */
export function gmpSquaringsPerSecond(modulus: bigint): number | null {
  const headers = [
    '/usr/include/gmp.h',
    '/usr/include/x86_64-linux-gnu/gmp.h',
    '/usr/include/aarch64-linux-gnu/gmp.h',
  ];
  if (!headers.some((h) => existsSync(h))) return null;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-gmp-'));
  try {
    writeFileSync(join(dir, 'powm.c'), SOURCE);
    execFileSync('cc', ['-O2', join(dir, 'powm.c'), '-o', join(dir, 'powm'), '-lgmp'], {
      stdio: 'ignore',
    });
    return Number(
      execFileSync(join(dir, 'powm'), [modulus.toString(16)])
        .toString()
        .trim(),
    );
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
