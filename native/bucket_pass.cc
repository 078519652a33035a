#include "bucket_pass.h"

#include <climits>
#include <cstring>

namespace vigil {

namespace {
// A bucket is renormalised to Montgomery form after this many products, which bounds the table
// of powers of R (kMaxLag + 2 elements) whatever the digit distribution.
constexpr int32_t kMaxLag = 255;
}  // namespace

BucketPass::BucketPass(const BIGNUM* modulus, const BIGNUM* ell, const BIGNUM* rem,
                       const BIGNUM* stepDown, unsigned k, Arithmetic arithmetic)
    : k_(k) {
  elementBytes_ = static_cast<size_t>(BN_num_bytes(modulus));
  const size_t buckets = size_t{1} << k_;
  elementSlot_ = buckets;
  runningSlot_ = elementSlot_ + kBatch;
  totalSlot_ = runningSlot_ + kBatch;
  scratchSlot_ = totalSlot_ + kBatch;
  sumSlot_ = scratchSlot_ + 1;
  rPowerSlot_ = sumSlot_ + 1;
  std::string why;
  residues_ = makeResidues(modulus, rPowerSlot_ + kMaxLag + 2, arithmetic, &why);
  if (!residues_) {
    fail(why.c_str());
    return;
  }
  if (!digits_.init(ell, rem, stepDown, k)) {
    fail("OpenSSL set-up of the digit walk failed");
    return;
  }
  halfN_.resize(elementBytes_);
  BIGNUM* half = BN_new();
  const bool ok = half && BN_rshift1(half, modulus) &&
                  BN_bn2binpad(half, halfN_.data(), static_cast<int>(elementBytes_)) ==
                      static_cast<int>(elementBytes_);
  BN_free(half);
  if (!ok) fail("OpenSSL arithmetic failed");
  lag_.assign(buckets, kEmpty);
}

BucketPass::~BucketPass() = default;

bool BucketPass::fail(const char* what) {
  if (error_.empty()) error_ = what;
  done_ = true;
  return false;
}

// 1 <= v <= (N-1)/2, compared as fixed-length big-endian bytes.
bool BucketPass::canonical(const uint8_t* element) const {
  bool zero = true;
  for (size_t i = 0; i < elementBytes_ && zero; i++) zero = element[i] == 0;
  return !zero && std::memcmp(element, halfN_.data(), elementBytes_) <= 0;
}

// *slot <- the slot of R^exponent: R = Mont(1), R^2 = Mont(R), R^(m+1) = MontMul(R^m, R^2).
bool BucketPass::rPower(uint32_t exponent, size_t* slot) {
  while (rPowers_ < exponent) {
    const size_t next = rPowerSlot_ + rPowers_;
    const bool ok = rPowers_ < 2 ? residues_->loadRadixPower(next, rPowers_ + 1)
                                 : residues_->mul(next, next - 1, rPowerSlot_ + 1);
    if (!ok) return false;
    rPowers_++;
  }
  *slot = rPowerSlot_ + exponent - 1;
  return true;
}

// Y * R^(-lag) -> Y * R (Montgomery form, lag -1): one product with R^(lag + 2).
bool BucketPass::normalise(size_t b) {
  if (lag_[b] < 0) return true;
  size_t r = 0;
  if (!rPower(static_cast<uint32_t>(lag_[b] + 2), &r) || !residues_->mul(b, b, r)) return false;
  lag_[b] = -1;
  return true;
}

// Pending products go out together so that an arithmetic that interleaves independent products
// (IFMA) can; a digit already pending ends the batch first, as its products depend on each other.
bool BucketPass::flush() {
  if (pending_ == 0) return true;
  if (!residues_->mulMany(pendingBucket_, pendingBucket_, pendingElement_, pending_)) return false;
  for (size_t i = 0; i < pending_; i++) {
    const size_t b = pendingBucket_[i];
    if (++lag_[b] >= kMaxLag && !normalise(b)) return false;
  }
  pending_ = 0;
  return true;
}

bool BucketPass::feed(const uint8_t* elements, size_t count, size_t* bad) {
  if (done_) return fail("pass already finished");
  for (size_t i = 0; i < count; i++) {
    const uint8_t* element = elements + i * elementBytes_;
    // Every element is checked, even one whose digit is zero, as decoding it would be.
    if (!canonical(element)) {
      *bad = i;
      return fail("element is not canonical (1 <= v <= (N-1)/2)");
    }
    size_t digit = 0;
    if (!digits_.next(&digit)) return fail("OpenSSL arithmetic failed");
    if (digit == 0) continue;
    // The bucket table (2^16 buckets) is far larger than L2; its product waits for a batch.
    residues_->prefetch(digit);
    if (lag_[digit] == kEmpty) {
      if (!residues_->load(digit, element, elementBytes_)) return fail("out of memory");
      lag_[digit] = 0;
      continue;
    }
    for (size_t p = 0; p < pending_; p++)
      if (pendingBucket_[p] == digit && !flush()) return fail("OpenSSL arithmetic failed");
    const size_t slot = elementSlot_ + pending_;
    if (!residues_->load(slot, element, elementBytes_)) return fail("out of memory");
    pendingBucket_[pending_] = digit;
    pendingElement_[pending_] = slot;
    if (++pending_ == kBatch && !flush()) return fail("OpenSSL arithmetic failed");
  }
  // The caller's bytes are gone after this call, but the loaded slots are not: flushing here
  // only keeps each call self-contained.
  if (!flush()) return fail("OpenSSL arithmetic failed");
  return true;
}

// Buckets split into kBatch contiguous ranges [lo, hi), folded side by side so the products of
// different ranges can be interleaved: range w yields running = prod Y_b and
// total = prod Y_b^(b - lo + 1), and prod_b Y_b^b over the range is total * running^(lo - 1).
bool BucketPass::finish(uint8_t* out, bool* empty) {
  if (done_) return fail("pass already finished");
  done_ = true;
  const size_t buckets = lag_.size() - 1;  // bucket 0 never counts
  size_t lo[kBatch], len[kBatch], longest = 0;
  for (size_t w = 0; w < kBatch; w++) {
    lo[w] = 1 + buckets * w / kBatch;
    len[w] = 1 + buckets * (w + 1) / kBatch - lo[w];
    if (len[w] > longest) longest = len[w];
  }
  bool haveRunning[kBatch] = {}, haveTotal[kBatch] = {}, ok = true;
  size_t r[kBatch], a[kBatch], x[kBatch], n = 0;
  // One step for every range: normalise its bucket, fold it into running, running into total.
  for (size_t s = 0; ok && s < longest; s++) {
    n = 0;
    for (size_t w = 0; w < kBatch; w++) {
      if (s >= len[w]) continue;
      const size_t bucket = lo[w] + len[w] - 1 - s;
      if (lag_[bucket] == kEmpty || lag_[bucket] < 0) continue;
      size_t power = 0;
      ok = ok && rPower(static_cast<uint32_t>(lag_[bucket] + 2), &power);
      r[n] = bucket, a[n] = bucket, x[n++] = power;
      lag_[bucket] = -1;
    }
    ok = ok && residues_->mulMany(r, a, x, n);
    n = 0;
    for (size_t w = 0; ok && w < kBatch; w++) {
      if (s >= len[w]) continue;
      const size_t bucket = lo[w] + len[w] - 1 - s;
      if (lag_[bucket] == kEmpty) continue;
      if (!haveRunning[w]) {
        ok = residues_->copy(runningSlot_ + w, bucket);
        haveRunning[w] = true;
      } else {
        r[n] = runningSlot_ + w, a[n] = runningSlot_ + w, x[n++] = bucket;
      }
    }
    ok = ok && residues_->mulMany(r, a, x, n);
    n = 0;
    for (size_t w = 0; ok && w < kBatch; w++) {
      if (!haveRunning[w] || s >= len[w]) continue;
      if (!haveTotal[w]) {
        ok = residues_->copy(totalSlot_ + w, runningSlot_ + w);
        haveTotal[w] = true;
      } else {
        r[n] = totalSlot_ + w, a[n] = totalSlot_ + w, x[n++] = runningSlot_ + w;
      }
    }
    ok = ok && residues_->mulMany(r, a, x, n);
  }
  // S = product over ranges of total * running^(lo - 1), by square and multiply.
  bool haveSum = false;
  for (size_t w = 0; ok && w < kBatch; w++) {
    if (!haveTotal[w]) continue;
    const size_t e = lo[w] - 1;
    if (e > 0) {
      const size_t base = runningSlot_ + w, acc = scratchSlot_;
      ok = residues_->copy(acc, base);
      for (int bit = 62 - __builtin_clzll(e); ok && bit >= 0; bit--) {
        ok = residues_->mul(acc, acc, acc);
        if (ok && ((e >> bit) & 1)) ok = residues_->mul(acc, acc, base);
      }
      ok = ok && residues_->mul(totalSlot_ + w, totalSlot_ + w, acc);
    }
    if (ok && haveSum) ok = residues_->mul(sumSlot_, sumSlot_, totalSlot_ + w);
    else if (ok) ok = residues_->copy(sumSlot_, totalSlot_ + w);
    haveSum = true;
  }
  *empty = !haveSum;
  if (ok && haveSum) ok = residues_->fromMontgomery(sumSlot_, out, elementBytes_);
  residues_.reset();
  if (!ok) return fail("OpenSSL arithmetic failed");
  return true;
}

}  // namespace vigil
