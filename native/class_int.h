// Fixed-capacity signed integers for the class-group arithmetic (class_form.cc): sign and
// magnitude in 64-bit limbs held inline, so a squaring allocates nothing. Sizes are bounded by
// the maths (discriminants of at most 1024 bits: no intermediate of NUDUPL or of the reduction
// exceeds 2100 bits), and kLimbs leaves a wide margin above that.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>

namespace vigil::cg {

using limb = uint64_t;
using u128 = unsigned __int128;

constexpr int kLimbs = 40;

// Magnitudes: little-endian limb arrays with an explicit length, normalised (top limb non-zero,
// zero has length 0).

inline int normLen(const limb* a, int n) {
  while (n > 0 && a[n - 1] == 0) n--;
  return n;
}

inline int cmpMag(const limb* a, int an, const limb* b, int bn) {
  if (an != bn) return an < bn ? -1 : 1;
  for (int i = an - 1; i >= 0; i--)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

inline int bitLen(const limb* a, int n) { return n == 0 ? 0 : 64 * n - __builtin_clzll(a[n - 1]); }

// r = a + b (r may alias a or b).
inline int addMag(limb* r, const limb* a, int an, const limb* b, int bn) {
  if (an < bn) {
    std::swap(a, b);
    std::swap(an, bn);
  }
  unsigned char carry = 0;
  int i = 0;
  for (; i < bn; i++) {
    u128 s = static_cast<u128>(a[i]) + b[i] + carry;
    r[i] = static_cast<limb>(s);
    carry = static_cast<unsigned char>(s >> 64);
  }
  for (; i < an; i++) {
    limb s = a[i] + carry;
    carry = s < carry;
    r[i] = s;
  }
  r[an] = carry;
  return an + carry;
}

// r = a - b for a >= b (r may alias a or b).
inline int subMag(limb* r, const limb* a, int an, const limb* b, int bn) {
  limb borrow = 0;
  int i = 0;
  for (; i < bn; i++) {
    limb ai = a[i], bi = b[i];
    limb d = ai - bi - borrow;
    borrow = (ai < bi) | ((ai == bi) & borrow);
    r[i] = d;
  }
  for (; i < an; i++) {
    limb ai = a[i];
    r[i] = ai - borrow;
    borrow = ai < borrow;
  }
  return normLen(r, an);
}

// r = a * m (r may alias a).
inline int mul1Mag(limb* r, const limb* a, int an, limb m) {
  if (an == 0 || m == 0) return 0;
  limb carry = 0;
  for (int i = 0; i < an; i++) {
    u128 p = static_cast<u128>(a[i]) * m + carry;
    r[i] = static_cast<limb>(p);
    carry = static_cast<limb>(p >> 64);
  }
  r[an] = carry;
  return an + (carry != 0);
}

// r = a * b; r must not alias a or b.
inline int mulMag(limb* r, const limb* a, int an, const limb* b, int bn) {
  if (an == 0 || bn == 0) return 0;
  if (an < bn) {
    std::swap(a, b);
    std::swap(an, bn);
  }
  for (int i = 0; i < an + bn; i++) r[i] = 0;
  for (int j = 0; j < bn; j++) {
    limb carry = 0;
    const limb bj = b[j];
    limb* rj = r + j;
    for (int i = 0; i < an; i++) {
      u128 p = static_cast<u128>(a[i]) * bj + rj[i] + carry;
      rj[i] = static_cast<limb>(p);
      carry = static_cast<limb>(p >> 64);
    }
    rj[an] = carry;
  }
  return normLen(r, an + bn);
}

// r = a * a; r must not alias a. Cross products once, doubled, plus the diagonal.
inline int sqrMag(limb* r, const limb* a, int an) {
  if (an == 0) return 0;
  const int n2 = 2 * an;
  for (int i = 0; i < n2; i++) r[i] = 0;
  for (int j = 0; j < an; j++) {
    limb carry = 0;
    const limb aj = a[j];
    limb* rj = r + 2 * j + 1;
    for (int i = j + 1; i < an; i++) {
      u128 p = static_cast<u128>(a[i]) * aj + rj[i - j - 1] + carry;
      rj[i - j - 1] = static_cast<limb>(p);
      carry = static_cast<limb>(p >> 64);
    }
    rj[an - j - 1] = carry;
  }
  limb top = 0;
  for (int i = 0; i < n2; i++) {
    limb v = r[i];
    r[i] = (v << 1) | top;
    top = v >> 63;
  }
  unsigned char carry = 0;
  for (int i = 0; i < an; i++) {
    u128 sq = static_cast<u128>(a[i]) * a[i];
    u128 lo = static_cast<u128>(r[2 * i]) + static_cast<limb>(sq) + carry;
    r[2 * i] = static_cast<limb>(lo);
    u128 hi = static_cast<u128>(r[2 * i + 1]) + static_cast<limb>(sq >> 64) +
              static_cast<limb>(lo >> 64);
    r[2 * i + 1] = static_cast<limb>(hi);
    carry = static_cast<unsigned char>(hi >> 64);
  }
  return normLen(r, n2);
}

// 128-by-64 division with hi < d: the quotient fits in one limb.
inline limb div2by1(limb hi, limb lo, limb d, limb* rem) {
#if defined(__x86_64__)
  limb q, r;
  __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
  *rem = r;
  return q;
#else
  u128 n = (static_cast<u128>(hi) << 64) | lo;
  *rem = static_cast<limb>(n % d);
  return static_cast<limb>(n / d);
#endif
}

// q = a / b, r = a % b (Knuth, TAOCP 4.3.1 Algorithm D). bn >= 1. q needs an - bn + 1 limbs,
// r needs bn limbs; neither may alias a or b. Lengths come back normalised.
void divMag(limb* q, int* qn, limb* r, int* rn, const limb* a, int an, const limb* b, int bn);

struct Int {
  int n = 0;
  bool neg = false;
  limb d[kLimbs];

  bool isZero() const { return n == 0; }
  int sign() const { return n == 0 ? 0 : (neg ? -1 : 1); }
  void setZero() {
    n = 0;
    neg = false;
  }
  void setU(limb v) {
    d[0] = v;
    n = v != 0;
    neg = false;
  }
  void setS(int64_t v) {
    setU(v < 0 ? 0 - static_cast<limb>(v) : static_cast<limb>(v));
    neg = v < 0;
  }
  void copy(const Int& o) {
    n = o.n;
    neg = o.neg;
    std::memcpy(d, o.d, sizeof(limb) * o.n);
  }
  void negate() {
    if (n != 0) neg = !neg;
  }
  bool isOdd() const { return n != 0 && (d[0] & 1); }
  bool isOne() const { return n == 1 && d[0] == 1 && !neg; }
  int bits() const { return bitLen(d, n); }
};

inline int cmpAbs(const Int& a, const Int& b) { return cmpMag(a.d, a.n, b.d, b.n); }

inline int cmp(const Int& a, const Int& b) {
  if (a.sign() != b.sign()) return a.sign() < b.sign() ? -1 : 1;
  const int m = cmpAbs(a, b);
  return a.neg ? -m : m;
}

// r = a + (negB ? -|b| : |b|) with b's sign given separately (r may alias a or b).
inline void addSigned(Int& r, const Int& a, const limb* b, int bn, bool negB) {
  if (bn == 0) {
    if (&r != &a) r.copy(a);
    return;
  }
  if (a.n == 0) {
    if (r.d != b) std::memmove(r.d, b, sizeof(limb) * bn);
    r.n = bn;
    r.neg = negB;
    return;
  }
  if (a.neg == negB) {
    r.n = addMag(r.d, a.d, a.n, b, bn);
    r.neg = negB;
    return;
  }
  if (cmpMag(a.d, a.n, b, bn) >= 0) {
    const bool neg = a.neg;
    r.n = subMag(r.d, a.d, a.n, b, bn);
    r.neg = r.n != 0 && neg;
  } else {
    r.n = subMag(r.d, b, bn, a.d, a.n);
    r.neg = negB;
  }
}

inline void add(Int& r, const Int& a, const Int& b) { addSigned(r, a, b.d, b.n, b.neg); }
inline void sub(Int& r, const Int& a, const Int& b) {
  addSigned(r, a, b.d, b.n, b.n != 0 && !b.neg);
}

// r = a * b; r must not alias a or b.
inline void mul(Int& r, const Int& a, const Int& b) {
  r.n = a.n < b.n ? mulMag(r.d, b.d, b.n, a.d, a.n) : mulMag(r.d, a.d, a.n, b.d, b.n);
  r.neg = r.n != 0 && (a.neg != b.neg);
}

// r = a²; r must not alias a.
inline void sqr(Int& r, const Int& a) {
  r.n = sqrMag(r.d, a.d, a.n);
  r.neg = false;
}

// r = a * m (r may alias a).
inline void mulS(Int& r, const Int& a, int64_t m) {
  const limb mag = m < 0 ? 0 - static_cast<limb>(m) : static_cast<limb>(m);
  const bool neg = a.neg != (m < 0);
  r.n = mul1Mag(r.d, a.d, a.n, mag);
  r.neg = r.n != 0 && neg;
}

// r = a + b * m, with scratch t (r may alias a; t distinct from everything).
inline void addMulS(Int& r, const Int& a, const Int& b, int64_t m, Int& t) {
  mulS(t, b, m);
  add(r, a, t);
}

// r = a << s (r may alias a), for a >= 0 magnitudes; the sign is kept.
inline void shl(Int& r, const Int& a, int s) {
  const int w = s / 64, bsh = s % 64;
  if (a.n == 0) {
    r.setZero();
    return;
  }
  const int n = a.n;
  if (bsh == 0) {
    r.d[n + w] = 0;  // normLen below reads it
    for (int i = n - 1; i >= 0; i--) r.d[i + w] = a.d[i];
  } else {
    r.d[n + w] = a.d[n - 1] >> (64 - bsh);
    for (int i = n - 1; i > 0; i--) r.d[i + w] = (a.d[i] << bsh) | (a.d[i - 1] >> (64 - bsh));
    r.d[w] = a.d[0] << bsh;
  }
  for (int i = 0; i < w; i++) r.d[i] = 0;
  r.neg = a.neg;
  r.n = normLen(r.d, n + w + 1);
}

// Truncating division: q = trunc(a / b), r = a - q·b (sign of a), b != 0. Outputs distinct
// from the inputs and from each other; either may be null.
void tdivQR(Int* q, Int* r, const Int& a, const Int& b);

// Floor division q = floor(a / b) for b > 0; r = a - q·b in [0, b). Either may be null.
void fdivQR(Int* q, Int* r, const Int& a, const Int& b);

// Big-endian bytes <-> magnitude. fromBytes fails (false) when the value needs more than
// maxLimbs limbs.
bool fromBytes(Int& r, const uint8_t* be, size_t len, int maxLimbs);
// Writes |a| as exactly len big-endian bytes; false when it does not fit.
bool toBytes(const Int& a, uint8_t* be, size_t len);

}  // namespace vigil::cg
