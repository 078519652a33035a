// Montgomery arithmetic on a table of residues mod an odd N, behind one interface so the bucket
// pass (bucket_pass.cc) runs on OpenSSL's BN code everywhere and on an AVX-512 IFMA multiplier
// where the CPU has one. Slots are addressed by index; a slot holds a value < 2N that the caller
// reads only through toPlainBytes. Every method returns false only when OpenSSL fails (allocation).
#pragma once

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vigil {

class Residues {
 public:
  virtual ~Residues() = default;
  virtual const char* name() const = 0;
  // slot <- v, a plain big-endian integer below N (the caller has checked the range).
  virtual bool load(size_t slot, const uint8_t* bigEndian, size_t len) = 0;
  // slot <- R^m mod N for m in {1, 2}, R being this arithmetic's Montgomery radix.
  virtual bool loadRadixPower(size_t slot, unsigned m) = 0;
  // r <- a * b / R mod N (r may alias a or b).
  virtual bool mul(size_t r, size_t a, size_t b) = 0;
  // r[i] <- a[i] * b[i] / R for i < count. r[i] may be a[i] or b[i]; the r[i] are distinct and
  // no r[i] is an input of another product.
  virtual bool mulMany(const size_t* r, const size_t* a, const size_t* b, size_t count) {
    for (size_t i = 0; i < count; i++)
      if (!mul(r[i], a[i], b[i])) return false;
    return true;
  }
  virtual bool copy(size_t r, size_t a) = 0;
  // A hint that slot will be used soon (the bucket pass knows its next buckets ahead of time).
  virtual void prefetch(size_t /*slot*/) const {}
  // Writes slot / R mod N, fully reduced, as `len` big-endian bytes.
  virtual bool fromMontgomery(size_t slot, uint8_t* bigEndian, size_t len) = 0;
};

enum class Arithmetic { kAuto, kOpenSsl, kIfma52 };

// Whether this build and this CPU can run the IFMA multiplier.
bool ifma52Supported();

// `slots` residues mod `modulus`; kAuto picks IFMA when supported and the modulus fits. Returns
// nullptr with *error set when the choice is impossible or allocation fails.
std::unique_ptr<Residues> makeResidues(const BIGNUM* modulus, size_t slots, Arithmetic choice,
                                       std::string* error);

std::unique_ptr<Residues> makeOpenSslResidues(const BIGNUM* modulus, size_t slots,
                                              std::string* error);
// nullptr when unsupported (CPU, build) or when the modulus has more than kIfma52MaxBits bits.
std::unique_ptr<Residues> makeIfma52Residues(const BIGNUM* modulus, size_t slots,
                                             std::string* error);
constexpr int kIfma52MaxBits = 2078;
// Products the IFMA multiplier interleaves; callers batch up to this many independent products.
constexpr size_t kIfma52Ways = 4;

}  // namespace vigil
