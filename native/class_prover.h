// The class1024 prover's bucket passes (docs/vdf.md §6, the TypeScript reference is
// vdf/wesolowski/prove.ts bucketSum): for each pass, digits b_i = floor(2^k * rem_i / l) with
// rem_(i+1) = rem_i * stepDown mod l, bucket Y_b = product of the checkpoints with digit b, then
// S = product over b of Y_b^b by running products. Several passes share one sweep over the
// checkpoints, which arrive as BQFC encodings and are decoded (strictly) once each.
// The caller (addon.cc) validates every argument.
#pragma once

#include <openssl/bn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "class_form.h"
#include "digit_walk.h"

namespace vigil::cg {

// A reduced form of a discriminant of at most 1024 bits, stored compactly: a, |b| < 2^512 and
// c < 2^1024, so a bucket costs about a quarter of a Form.
struct PackedForm {
  limb a[8], b[8], c[16];
  uint8_t an = 0, bn = 0, cn = 0, bneg = 0;
};

class ClassBucketPass {
 public:
  static constexpr unsigned kMaxBucketBits = 16;

  // ell odd, 1 < ell < 2^512; rem, stepDown < ell; 1 <= k <= kMaxBucketBits; `count` checkpoints.
  ClassBucketPass(const BIGNUM* ell, const BIGNUM* rem, const BIGNUM* stepDown, unsigned k,
                  uint64_t count);
  bool ok() const { return ok_; }
  uint64_t count() const { return count_; }

  // Folds the next checkpoint (reduced) into its bucket; false when OpenSSL fails.
  bool add(const Form& checkpoint, const Int& L);
  // S (reduced) into *out, or *empty when every digit was zero. Frees the buckets.
  void finish(Form* out, bool* empty, const Int& L);

 private:
  bool ok_ = false;
  uint64_t count_;
  DigitWalk digits_;
  std::vector<PackedForm> buckets_;
  std::vector<uint8_t> used_;
};

struct PassPlan {
  BIGNUM* rem;
  BIGNUM* stepDown;
  uint64_t count;
};

class ClassProver {
 public:
  // D < 0 of at most 1024 bits, L its NUDUPL bound.
  ClassProver(const Int& D, const Int& L, const BIGNUM* ell, unsigned k,
              const std::vector<PassPlan>& plans);
  const std::string& error() const { return error_; }
  uint64_t longest() const { return longest_; }
  uint64_t fed() const { return fed_; }

  // Decodes `count` BQFC checkpoints and feeds each to every pass that still wants it. False
  // with error() set (*bad: the element's index) when one is not a canonical encoding of a form
  // of D, or when more come than the longest pass wants; the prover is then unusable.
  bool feed(const uint8_t* bqfc, size_t count, size_t* bad);
  // S of every pass (empty[i]: the identity). Only once, after the last feed.
  bool finish(std::vector<Form>* out, std::vector<uint8_t>* empty);

 private:
  bool fail(const std::string& why);

  Int D_, L_;
  std::vector<std::unique_ptr<ClassBucketPass>> passes_;
  uint64_t longest_ = 0, fed_ = 0;
  bool done_ = false;
  std::string error_;
};

}  // namespace vigil::cg
