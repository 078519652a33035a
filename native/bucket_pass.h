// One j-pass of the Wesolowski prover's bucket method (docs/vdf.md §6) in Montgomery arithmetic
// (residues.h: OpenSSL's, or AVX-512 IFMA where the CPU has it): digits b_i = floor(2^k * rem_i / l) with rem_(i+1) = rem_i * stepDown mod l, bucket
// Y_b = product of the checkpoints with digit b, then S = product over b of Y_b^b by running
// products. The caller (addon.cc) validates every input; this file assumes valid arguments.
#pragma once

#include <openssl/bn.h>

#include "digit_walk.h"
#include "residues.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

class BucketPass {
 public:
  // modulus: odd, > 1; ell: odd, > 1; rem, stepDown < ell; 1 <= k <= kMaxBucketBits.
  BucketPass(const BIGNUM* modulus, const BIGNUM* ell, const BIGNUM* rem, const BIGNUM* stepDown,
             unsigned k, Arithmetic arithmetic);
  ~BucketPass();
  BucketPass(const BucketPass&) = delete;
  BucketPass& operator=(const BucketPass&) = delete;

  static constexpr unsigned kMaxBucketBits = 20;

  // Set by the constructor when OpenSSL fails (allocation); every method then refuses.
  const std::string& error() const { return error_; }
  size_t elementBytes() const { return elementBytes_; }
  const char* arithmetic() const { return residues_ ? residues_->name() : "none"; }

  // Folds `count` big-endian elements of elementBytes() each into the buckets. Returns false with
  // error() set (and index of the offending element in *bad) when an element is not canonical
  // (1 <= v <= (N-1)/2) or OpenSSL fails; the pass is then unusable.
  bool feed(const uint8_t* elements, size_t count, size_t* bad);

  // Combines the buckets into S (big-endian, elementBytes() bytes, a plain residue mod N) and
  // frees them; *empty says every digit was zero (S is the identity, out untouched). Returns
  // false with error() set when OpenSSL fails or the pass was already finished.
  bool finish(uint8_t* out, bool* empty);

 private:
  bool fail(const char* what);
  bool normalise(size_t b);
  bool flush();
  bool rPower(uint32_t exponent, size_t* slot);
  bool canonical(const uint8_t* element) const;

  std::string error_;
  unsigned k_;
  size_t elementBytes_ = 0;
  bool done_ = false;
  DigitWalk digits_;
  std::vector<uint8_t> halfN_;  // (N-1)/2, big-endian, elementBytes_ long
  // Slots of residues_: buckets 0 .. 2^k - 1, then kBatch each of elements being fed, running
  // products and totals (finish() folds kBatch bucket ranges side by side), a scratch slot, the
  // sum, and the table of powers of R.
  std::unique_ptr<Residues> residues_;
  static constexpr size_t kBatch = kIfma52Ways;
  size_t pendingBucket_[kBatch] = {}, pendingElement_[kBatch] = {}, pending_ = 0;
  size_t elementSlot_ = 0, runningSlot_ = 0, totalSlot_ = 0, scratchSlot_ = 0, sumSlot_ = 0,
         rPowerSlot_ = 0;
  // Bucket b holds Y_b * R^(-lag_[b]) mod N: each Montgomery product of a plain checkpoint lowers
  // the power of R by one, so no checkpoint needs converting; finish() corrects once per bucket.
  // kEmpty marks a bucket no checkpoint has reached.
  static constexpr int32_t kEmpty = INT32_MIN;
  std::vector<int32_t> lag_;
  uint32_t rPowers_ = 0;  // slots rPowerSlot_ + i hold R^(i+1) mod N for i < rPowers_
};

}  // namespace vigil
