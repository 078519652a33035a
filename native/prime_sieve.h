// Trial division of HashPrime candidates by the odd primes below 2000, on their big-endian bytes
// (as vdf/primes/bpsw.ts smallFactorOfBytes): most candidates stop here, before any BIGNUM.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::primes {

// The longest candidate the sieve takes (HashPrime's 4096 bits).
constexpr size_t kMaxSievedBytes = 512;

// Whether an odd prime below 2000 divides the big-endian integer (len <= kMaxSievedBytes); a
// candidate equal to such a prime counts as divisible, as in the TypeScript sieve.
bool hasSmallFactor(const uint8_t* bigEndian, size_t len);

// Exact primality of n (HashPrime candidates of at most 32 bits, which the TypeScript code
// decides by trial division and a BPSW test that is exact below 2^64).
bool isPrimeU32(uint32_t n);

}  // namespace vigil::primes
