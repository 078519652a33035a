// The bucket pass's digits (docs/vdf.md §6): b_i = floor(2^k * rem_i / l) with
// rem_(i+1) = rem_i * stepDown mod l. l has at most 512 bits, so rem lives in a few 64-bit limbs
// with a fixed-width Montgomery product; OpenSSL is used only for set-up and the rare exact digit.
#pragma once

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>

namespace vigil {

class DigitWalk {
 public:
  static constexpr int kMaxLimbs = 8;

  DigitWalk() = default;
  ~DigitWalk();
  DigitWalk(const DigitWalk&) = delete;
  DigitWalk& operator=(const DigitWalk&) = delete;

  // l odd, 1 < l < 2^512; rem, stepDown < l; 1 <= k <= 20. False when OpenSSL fails.
  bool init(const BIGNUM* ell, const BIGNUM* rem, const BIGNUM* stepDown, unsigned k);
  // The next digit; false when OpenSSL fails (exact path only).
  bool next(size_t* digit);

 private:
  void mulMont(uint64_t* r, const uint64_t* a, const uint64_t* b) const;
  bool exactDigit(size_t* digit);

  unsigned k_ = 0;
  int n_ = 0;
  uint64_t ell_[kMaxLimbs] = {};
  uint64_t rem_[kMaxLimbs] = {};
  uint64_t stepMont_[kMaxLimbs] = {};  // stepDown * 2^(64 n) mod l
  uint64_t inv_ = 0;                   // -l^-1 mod 2^64
  // The estimate: x = (rem >> shift_) * scale_ with scale_ = 2^k / (l >> shift_), within 2^-35
  // of 2^k * rem / l; unless x is within kMargin of an integer its floor is the digit.
  int shift_ = 0;
  double scale_ = 0;
  BN_CTX* ctx_ = nullptr;
  BIGNUM* ellBn_ = nullptr;
  BIGNUM* scratch_ = nullptr;
  BIGNUM* quotient_ = nullptr;
};

}  // namespace vigil
