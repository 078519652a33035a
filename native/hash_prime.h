// chiavdf's HashPrime as vdf/primes/hash-prime.ts implements it (the reference; docs/vdf.md §1):
// a counter starting at the seed, incremented as a fixed-width big-endian integer before each
// SHA-256; bits/8 bytes of digests, bit 0 and the listed bits set; the first candidate that
// passes trial division and BPSW. OpenSSL's SHA-256 and BN, through the symbols Node exports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vigil::primes {

constexpr unsigned kMaxHashPrimeBits = 4096;

enum class HashPrimeResult {
  kFound,
  // A seed of at most 6 bytes counted through all its values without a prime (hash-prime.ts
  // throws there rather than loop for ever).
  kCounterWrapped,
  kFailed,  // OpenSSL failed (*error says where)
};

// seed non-empty; bits a multiple of 8 in 8..4096; every set bit below `bits` (the caller has
// checked). On kFound, *prime holds bits/8 big-endian bytes.
HashPrimeResult hashPrime(const uint8_t* seed, size_t seedLen, unsigned bits,
                          const std::vector<unsigned>& setBits, std::vector<uint8_t>* prime,
                          std::string* error);

}  // namespace vigil::primes
