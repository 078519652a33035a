#include "bucket_pass.h"

namespace vigil {

namespace {
// A bucket is renormalised to Montgomery form after this many products, which bounds the table
// of powers of R (kMaxLag + 2 elements) whatever the digit distribution.
constexpr int32_t kMaxLag = 255;
}  // namespace

BucketPass::BucketPass(const BIGNUM* modulus, const BIGNUM* ell, const BIGNUM* rem,
                       const BIGNUM* stepDown, unsigned k)
    : k_(k) {
  elementBytes_ = static_cast<size_t>(BN_num_bytes(modulus));
  ctx_ = BN_CTX_new();
  mont_ = BN_MONT_CTX_new();
  ellMont_ = BN_MONT_CTX_new();
  n_ = BN_dup(modulus);
  halfN_ = BN_new();
  ell_ = BN_dup(ell);
  rem_ = BN_dup(rem);
  stepMont_ = BN_new();
  scratch_ = BN_new();
  digit_ = BN_new();
  element_ = BN_new();
  if (!ctx_ || !mont_ || !ellMont_ || !n_ || !halfN_ || !ell_ || !rem_ || !stepMont_ ||
      !scratch_ || !digit_ || !element_) {
    fail("out of memory");
    return;
  }
  if (!BN_MONT_CTX_set(mont_, n_, ctx_) || !BN_MONT_CTX_set(ellMont_, ell_, ctx_) ||
      !BN_rshift1(halfN_, n_) || !BN_to_montgomery(stepMont_, stepDown, ellMont_, ctx_)) {
    fail("OpenSSL Montgomery set-up failed");
    return;
  }
  const int ellBits = BN_num_bits(ell_);
  ellShift_ = ellBits > 64 ? ellBits - 64 : 0;
  if (!BN_rshift(scratch_, ell_, ellShift_)) {
    fail("OpenSSL arithmetic failed");
    return;
  }
  ellTop_ = BN_get_word(scratch_);
  buckets_.assign(size_t{1} << k_, nullptr);
  lag_.assign(size_t{1} << k_, 0);
}

BucketPass::~BucketPass() {
  for (BIGNUM* b : buckets_) BN_free(b);
  for (BIGNUM* p : rPowers_) BN_free(p);
  BN_free(element_);
  BN_free(digit_);
  BN_free(scratch_);
  BN_free(stepMont_);
  BN_free(rem_);
  BN_free(ell_);
  BN_free(halfN_);
  BN_free(n_);
  BN_MONT_CTX_free(ellMont_);
  BN_MONT_CTX_free(mont_);
  BN_CTX_free(ctx_);
}

bool BucketPass::fail(const char* what) {
  if (error_.empty()) error_ = what;
  done_ = true;
  return false;
}

const BIGNUM* BucketPass::rPower(uint32_t exponent) {
  // rPowers_[i] = R^(i+1): R = Mont(1), R^2 = Mont(R), R^(m+1) = MontMul(R^m, R^2).
  while (rPowers_.size() < exponent) {
    BIGNUM* next = BN_new();
    if (!next) return nullptr;
    bool ok;
    if (rPowers_.empty()) {
      ok = BN_to_montgomery(next, BN_value_one(), mont_, ctx_);
    } else if (rPowers_.size() == 1) {
      ok = BN_to_montgomery(next, rPowers_[0], mont_, ctx_);
    } else {
      ok = BN_mod_mul_montgomery(next, rPowers_.back(), rPowers_[1], mont_, ctx_);
    }
    if (!ok) {
      BN_free(next);
      return nullptr;
    }
    rPowers_.push_back(next);
  }
  return rPowers_[exponent - 1];
}

// Y * R^(-lag) -> Y * R (Montgomery form, lag -1): one product with R^(lag + 2).
bool BucketPass::normalise(size_t b) {
  if (lag_[b] < 0) return true;
  const BIGNUM* r = rPower(static_cast<uint32_t>(lag_[b] + 2));
  if (!r || !BN_mod_mul_montgomery(buckets_[b], buckets_[b], r, mont_, ctx_)) return false;
  lag_[b] = -1;
  return true;
}

// digit = floor(2^k * rem / l) < 2^k (rem < l); then rem <- rem * stepDown mod l. With
// r = rem >> s and t = l >> s (t has 64 bits), rem / l lies in (r / (t + 1), (r + 1) / t), so
// when both ends give the same floor that is the digit.
bool BucketPass::nextDigit(size_t* digit) {
  bool exact = false;
  if (ellShift_ > 0 && BN_rshift(scratch_, rem_, ellShift_)) {
    using u128 = unsigned __int128;
    const u128 r = BN_get_word(scratch_);
    const u128 low = (r << k_) / (static_cast<u128>(ellTop_) + 1);
    const u128 high = ((r + 1) << k_) / ellTop_;
    if (low == high) {
      *digit = static_cast<size_t>(low);
      exact = true;
    }
  }
  if (!exact) {
    if (!BN_lshift(scratch_, rem_, static_cast<int>(k_)) ||
        !BN_div(digit_, nullptr, scratch_, ell_, ctx_))
      return false;
    *digit = static_cast<size_t>(BN_get_word(digit_));
  }
  return BN_mod_mul_montgomery(rem_, rem_, stepMont_, ellMont_, ctx_) == 1;
}

bool BucketPass::feed(const uint8_t* elements, size_t count, size_t* bad) {
  if (done_) return fail("pass already finished");
  const int len = static_cast<int>(elementBytes_);
  for (size_t i = 0; i < count; i++) {
    // Every element is checked, even one whose digit is zero, as decoding it would be.
    if (!BN_bin2bn(elements + i * elementBytes_, len, element_))
      return fail("OpenSSL arithmetic failed");
    if (BN_is_zero(element_) || BN_ucmp(element_, halfN_) > 0) {
      *bad = i;
      return fail("element is not canonical (1 <= v <= (N-1)/2)");
    }
    size_t digit = 0;
    if (!nextDigit(&digit)) return fail("OpenSSL arithmetic failed");
    if (digit == 0) continue;
    BIGNUM*& bucket = buckets_[digit];
    if (bucket == nullptr) {
      bucket = BN_dup(element_);
      if (!bucket) return fail("out of memory");
      lag_[digit] = 0;
      continue;
    }
    if (!BN_mod_mul_montgomery(bucket, bucket, element_, mont_, ctx_))
      return fail("OpenSSL arithmetic failed");
    if (++lag_[digit] >= kMaxLag && !normalise(digit)) return fail("OpenSSL arithmetic failed");
  }
  return true;
}

bool BucketPass::finish(uint8_t* out, bool* empty) {
  if (done_) return fail("pass already finished");
  done_ = true;
  // Sum over b of b * Y_b by running products, highest bucket first, all in Montgomery form.
  BIGNUM* running = nullptr;
  BIGNUM* total = nullptr;
  bool ok = true;
  for (size_t b = buckets_.size() - 1; ok && b >= 1; b--) {
    if (buckets_[b] != nullptr) {
      ok = normalise(b);
      if (ok && running == nullptr) {
        running = buckets_[b];
        buckets_[b] = nullptr;
      } else if (ok) {
        ok = BN_mod_mul_montgomery(running, running, buckets_[b], mont_, ctx_);
      }
    }
    if (ok && running != nullptr) {
      if (total == nullptr) {
        total = BN_dup(running);
        ok = total != nullptr;
      } else {
        ok = BN_mod_mul_montgomery(total, total, running, mont_, ctx_);
      }
    }
  }
  *empty = total == nullptr;
  if (ok && total != nullptr) {
    ok = BN_from_montgomery(total, total, mont_, ctx_) &&
         BN_bn2binpad(total, out, static_cast<int>(elementBytes_)) ==
             static_cast<int>(elementBytes_);
  }
  BN_free(running);
  BN_free(total);
  for (BIGNUM*& b : buckets_) {
    BN_free(b);
    b = nullptr;
  }
  if (!ok) {
    error_ = "OpenSSL arithmetic failed";
    return false;
  }
  return true;
}

}  // namespace vigil
