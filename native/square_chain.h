// The evaluation's inner loop for rsa2048: v <- v^2 mod N in OpenSSL's Montgomery arithmetic
// (bn_sqr8x_mont, the code behind the raw RSA operation the TypeScript path calls), recording the
// canonical element min(v, N - v) every `interval` squarings. One call runs many checkpoints, so a
// checkpoint costs a conversion out of Montgomery form instead of a JS -> OpenSSL round trip.
#pragma once

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

// x: `len` big-endian bytes, 0 < x < N (len = N's byte length). After squaring number i
// (1 <= i <= count), when (offset + i) is a multiple of interval, appends the canonical element
// (len bytes) to *out; finally appends the canonical element after `count` squarings. Returns
// false with *error set when OpenSSL fails.
bool squareChain(const BIGNUM* modulus, const uint8_t* x, size_t len, uint64_t offset,
                 uint64_t count, uint64_t interval, std::vector<uint8_t>* out,
                 std::string* error);

}  // namespace vigil
