#include "prime_sieve.h"

#include <vector>

namespace vigil::primes {

namespace {

constexpr uint32_t kSieveLimit = 2000;
constexpr size_t kMaxChunks = kMaxSievedBytes / 4;

// n mod p = sum of chunk_k * (2^(32k) mod p) over the 32-bit chunks of n: each term is below
// 2^43 and at most 128 are added, so the sum is exact in 64 bits and one test per prime
// replaces a multi-word division. Divisibility of that sum is n * p^-1 mod 2^64 <= (2^64-1)/p
// (p odd), a multiplication instead of a division.
struct SmallPrime {
  uint64_t inverse;  // p^-1 mod 2^64
  uint64_t limit;    // floor((2^64 - 1) / p)
  uint16_t weights[kMaxChunks];
};

std::vector<SmallPrime> buildTable() {
  std::vector<bool> composite(kSieveLimit);
  std::vector<SmallPrime> table;
  for (uint32_t p = 3; p < kSieveLimit; p += 2) {
    if (composite[p]) continue;
    for (uint32_t j = p * p; j < kSieveLimit; j += 2 * p) composite[j] = true;
    SmallPrime s{};
    uint64_t inv = p;  // Newton's iteration doubles the correct low bits: 3 -> 6 -> ... -> 96
    for (int i = 0; i < 5; i++) inv *= 2 - p * inv;
    s.inverse = inv;
    s.limit = UINT64_MAX / p;
    uint64_t w = 1;
    for (size_t k = 0; k < kMaxChunks; k++) {
      s.weights[k] = static_cast<uint16_t>(w);
      w = (w << 32) % p;
    }
    table.push_back(s);
  }
  return table;
}

}  // namespace

bool hasSmallFactor(const uint8_t* bigEndian, size_t len) {
  static const std::vector<SmallPrime> table = buildTable();
  uint32_t chunks[kMaxChunks];
  const size_t count = (len + 3) / 4;
  for (size_t k = 0; k < count; k++) {
    const size_t end = len - 4 * k;
    uint32_t v = 0;
    for (size_t j = end >= 4 ? end - 4 : 0; j < end; j++) v = (v << 8) | bigEndian[j];
    chunks[k] = v;
  }
  for (const SmallPrime& s : table) {
    uint64_t sum = 0;
    for (size_t k = 0; k < count; k++) sum += static_cast<uint64_t>(chunks[k]) * s.weights[k];
    if (sum * s.inverse <= s.limit) return true;
  }
  return false;
}

bool isPrimeU32(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

}  // namespace vigil::primes
