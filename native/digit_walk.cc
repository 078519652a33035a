#include "digit_walk.h"

#include <cmath>
#include <cstring>

namespace vigil {

namespace {
using u128 = unsigned __int128;
constexpr double kMargin = 1.0 / (1 << 20);
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "limbs are read as little-endian bytes");

bool toLimbs(const BIGNUM* v, uint64_t* limbs, int n) {
  return BN_bn2lebinpad(v, reinterpret_cast<unsigned char*>(limbs), n * 8) == n * 8;
}
}  // namespace

DigitWalk::~DigitWalk() {
  BN_free(quotient_);
  BN_free(scratch_);
  BN_free(ellBn_);
  BN_CTX_free(ctx_);
}

bool DigitWalk::init(const BIGNUM* ell, const BIGNUM* rem, const BIGNUM* stepDown, unsigned k) {
  k_ = k;
  const int bits = BN_num_bits(ell);
  n_ = (bits + 63) / 64;
  if (n_ < 1 || n_ > kMaxLimbs) return false;
  ctx_ = BN_CTX_new();
  ellBn_ = BN_dup(ell);
  scratch_ = BN_new();
  quotient_ = BN_new();
  if (!ctx_ || !ellBn_ || !scratch_ || !quotient_) return false;
  // stepDown * R mod l with R = 2^(64 n), so a Montgomery product with it multiplies by stepDown.
  if (!BN_lshift(scratch_, stepDown, 64 * n_) || !BN_mod(scratch_, scratch_, ell, ctx_) ||
      !toLimbs(scratch_, stepMont_, n_) || !toLimbs(ell, ell_, n_) || !toLimbs(rem, rem_, n_))
    return false;
  uint64_t inv = ell_[0];  // Newton: each step doubles the correct low bits of l^-1 mod 2^64
  for (int i = 0; i < 6; i++) inv *= 2 - ell_[0] * inv;
  inv_ = 0 - inv;
  shift_ = bits > 64 ? bits - 64 : 0;
  if (!BN_rshift(scratch_, ell, shift_)) return false;
  scale_ = std::ldexp(1.0, static_cast<int>(k)) / static_cast<double>(BN_get_word(scratch_));
  return true;
}

// r = a * b / 2^(64 n) mod l for a, b < l (CIOS), reduced below l.
void DigitWalk::mulMont(uint64_t* r, const uint64_t* a, const uint64_t* b) const {
  uint64_t t[kMaxLimbs + 2] = {};
  const int n = n_;
  for (int i = 0; i < n; i++) {
    u128 c = 0;
    for (int j = 0; j < n; j++) {
      c += static_cast<u128>(a[j]) * b[i] + t[j];
      t[j] = static_cast<uint64_t>(c);
      c >>= 64;
    }
    c += t[n];
    t[n] = static_cast<uint64_t>(c);
    t[n + 1] = static_cast<uint64_t>(c >> 64);
    const uint64_t m = t[0] * inv_;
    c = (static_cast<u128>(m) * ell_[0] + t[0]) >> 64;
    for (int j = 1; j < n; j++) {
      c += static_cast<u128>(m) * ell_[j] + t[j];
      t[j - 1] = static_cast<uint64_t>(c);
      c >>= 64;
    }
    c += t[n];
    t[n - 1] = static_cast<uint64_t>(c);
    t[n] = t[n + 1] + static_cast<uint64_t>(c >> 64);
  }
  // t < 2l: subtract l once if t >= l.
  bool geq = t[n] != 0;
  if (!geq) {
    geq = true;
    for (int j = n - 1; j >= 0; j--) {
      if (t[j] != ell_[j]) {
        geq = t[j] > ell_[j];
        break;
      }
    }
  }
  if (geq) {
    uint64_t borrow = 0;
    for (int j = 0; j < n; j++) {
      const u128 d = static_cast<u128>(t[j]) - ell_[j] - borrow;
      t[j] = static_cast<uint64_t>(d);
      borrow = static_cast<uint64_t>(d >> 64) & 1;
    }
  }
  std::memcpy(r, t, n * sizeof(uint64_t));
}

bool DigitWalk::exactDigit(size_t* digit) {
  if (!BN_lebin2bn(reinterpret_cast<const unsigned char*>(rem_), n_ * 8, scratch_) ||
      !BN_lshift(scratch_, scratch_, static_cast<int>(k_)) ||
      !BN_div(quotient_, nullptr, scratch_, ellBn_, ctx_))
    return false;
  *digit = static_cast<size_t>(BN_get_word(quotient_));
  return true;
}

bool DigitWalk::next(size_t* digit) {
  bool estimated = false;
  if (shift_ > 0) {
    const int w = shift_ / 64, off = shift_ % 64;
    const uint64_t top = off == 0 ? rem_[w] : (rem_[w] >> off) | (rem_[w + 1] << (64 - off));
    const double x = static_cast<double>(top) * scale_;
    const double whole = std::floor(x);
    const double frac = x - whole;
    if (frac > kMargin && frac < 1 - kMargin) {
      *digit = static_cast<size_t>(whole);
      estimated = true;
    }
  }
  if (!estimated && !exactDigit(digit)) return false;
  mulMont(rem_, rem_, stepMont_);
  return true;
}

}  // namespace vigil
