#include "class_bqfc.h"

#include <cstring>

#include "class_xgcd.h"

namespace vigil::cg {

namespace {

constexpr size_t kABytes = 64;  // a' and g share these
constexpr size_t kTBytes = 32;  // t' and g share these
constexpr uint8_t kBNegative = 0x01, kTNegative = 0x02, kIdentity = 0x04, kGenerator = 0x08;

// r = a >> 1 for a >= 0 (r may alias a).
void shr1(Int& r, const Int& a) {
  for (int i = 0; i < a.n; i++) r.d[i] = (a.d[i] >> 1) | (i + 1 < a.n ? a.d[i + 1] << 63 : 0);
  r.n = normLen(r.d, a.n);
  r.neg = false;
}

// floor(sqrt(n)) for n >= 0 by Newton's iteration from above.
void isqrt(Int& r, const Int& n) {
  if (n.isZero()) {
    r.setU(0);  // writes d[0] too, which keeps GCC's uninitialised-read warning quiet
    return;
  }
  Int x, y, q;
  x.setU(1);
  shl(x, x, (n.bits() + 1) / 2);
  for (;;) {
    tdivQR(&q, nullptr, n, x);
    add(y, x, q);
    shr1(y, y);
    if (cmp(y, x) >= 0) break;
    x.copy(y);
  }
  r.copy(x);
}

// Euclid to the end on (m, x mod m) for m > 0 (x mod m in [0, m)): r0 = gcd(m, x), and
// s0·x ≡ r0 (mod m).
void euclidMod(EuclidState& e, const Int& m, const Int& x) {
  e.r0.copy(m);
  fdivQR(nullptr, &e.r1, x, m);
  e.s0.setZero();
  e.s1.setU(1);
  euclid(e, nullptr);
}

// |x| as `size` little-endian bytes; false when it does not fit.
bool writeLE(uint8_t* out, size_t size, const Int& x) {
  if (static_cast<size_t>((x.bits() + 7) / 8) > size) return false;
  for (size_t i = 0; i < size; i++) {
    const size_t w = i / 8;
    out[i] = w < static_cast<size_t>(x.n) ? static_cast<uint8_t>(x.d[w] >> (8 * (i % 8))) : 0;
  }
  return true;
}

void readLE(Int& x, const uint8_t* in, size_t size) {
  const int limbs = static_cast<int>((size + 7) / 8);
  for (int i = 0; i < limbs; i++) x.d[i] = 0;
  for (size_t i = 0; i < size; i++) x.d[i / 8] |= static_cast<limb>(in[i]) << (8 * (i % 8));
  x.n = normLen(x.d, limbs);
  x.neg = false;
}

// (a, b) with c = (b² - D)/4a; false unless a > 0 and 4a divides b² - D.
bool formFromAB(Form* f, const Int& D) {
  if (f->a.sign() <= 0) return false;
  Int num, fourA, rem;
  sqr(num, f->b);
  sub(num, num, D);
  shl(fourA, f->a, 2);
  tdivQR(&f->c, &rem, num, fourA);
  return rem.isZero();
}

// bqfc_decompr: (a, b) from (a', t, g, b0), before any canonical check.
bool decompress(Form* f, const Int& D, const Int& aPrime, const Int& t, const Int& g,
                const Int& b0, bool bNegative, const char** why) {
  if (t.isZero()) {
    f->a.copy(aPrime);
    f->b.copy(aPrime);
    return true;
  }
  if (aPrime.isZero()) {
    *why = "a' is zero";
    return false;
  }
  Int tInv, tmp, d, square, root;
  EuclidState e;
  euclidMod(e, aPrime, t);
  if (!e.r0.isOne()) {
    *why = "t is not invertible";
    return false;
  }
  fdivQR(nullptr, &tInv, e.s0, aPrime);
  fdivQR(nullptr, &d, D, aPrime);
  sqr(tmp, t);
  fdivQR(nullptr, &square, tmp, aPrime);
  mul(tmp, square, d);
  fdivQR(nullptr, &square, tmp, aPrime);
  isqrt(root, square);
  sqr(tmp, root);
  if (cmp(tmp, square) != 0) {
    *why = "no square root of t²·D";
    return false;
  }
  mul(tmp, root, tInv);
  fdivQR(nullptr, &f->b, tmp, aPrime);
  if (g.n > 1 || (g.n == 1 && g.d[0] > 1))  // g > 1
    mul(f->a, aPrime, g);
  else
    f->a.copy(aPrime);
  if (!b0.isZero()) {
    mul(tmp, aPrime, b0);
    add(f->b, f->b, tmp);
  }
  if (bNegative) f->b.negate();
  return true;
}

}  // namespace

bool encodeBqfc(const Form& f, uint8_t* out, const char** why) {
  std::memset(out, 0, kBqfcBytes);
  const Form& x = f;
  if (x.b.isOne() && x.a.n == 1 && x.a.d[0] <= 2) {
    out[0] = x.a.d[0] == 2 ? kGenerator : kIdentity;
    return true;
  }
  Int aPrime, t, g, b0, absB, bound;
  aPrime.copy(x.a);
  const bool bNegative = x.b.neg;
  if (cmp(x.a, x.b) != 0) {
    absB.copy(x.b);
    absB.neg = false;
    // t is the cofactor of the remainder where Euclid on (a, |b|) first reaches √a.
    isqrt(bound, x.a);
    EuclidState e;
    e.r0.copy(x.a);
    e.r1.copy(absB);
    e.s0.setZero();
    e.s1.setU(1);
    euclidTo(e, bound);
    t.copy(e.s1);
    // g = gcd(a, t), the sign of t aside.
    EuclidState h;
    euclidMod(h, x.a, t);
    g.copy(h.r0);
    if (!g.isOne()) {
      Int q;
      tdivQR(&aPrime, nullptr, x.a, g);
      tdivQR(&q, nullptr, t, g);
      t.copy(q);
      tdivQR(&b0, nullptr, absB, aPrime);
    }
  }
  const int gBytes = g.isZero() ? 1 : (g.bits() + 7) / 8;
  const size_t gSize = static_cast<size_t>(gBytes - 1);
  if (gSize >= kTBytes) {
    *why = "bqfc: g too large";
    return false;
  }
  out[0] = (bNegative ? kBNegative : 0) | (t.neg ? kTNegative : 0);
  out[1] = static_cast<uint8_t>(gSize);
  size_t at = 2;
  bool fits = writeLE(out + at, kABytes - gSize, aPrime);
  at += kABytes - gSize;
  fits = fits && writeLE(out + at, kTBytes - gSize, t);
  at += kTBytes - gSize;
  fits = fits && writeLE(out + at, gSize + 1, g);
  at += gSize + 1;
  fits = fits && writeLE(out + at, gSize + 1, b0);
  if (!fits) *why = "bqfc: field does not fit";
  return fits;
}

bool decodeBqfc(const uint8_t* bytes, const Int& D, Form* f, const char** why) {
  const uint8_t flags = bytes[0];
  if (flags & (kIdentity | kGenerator)) {
    f->a.setU(flags & kGenerator ? 2 : 1);
    f->b.setU(1);
  } else {
    const size_t gSize = bytes[1];
    if (gSize >= kTBytes) {
      *why = "g_size out of range";
      return false;
    }
    Int aPrime, t, g, b0;
    size_t at = 2;
    readLE(aPrime, bytes + at, kABytes - gSize);
    at += kABytes - gSize;
    readLE(t, bytes + at, kTBytes - gSize);
    at += kTBytes - gSize;
    readLE(g, bytes + at, gSize + 1);
    at += gSize + 1;
    readLE(b0, bytes + at, gSize + 1);
    if (flags & kTNegative) t.negate();
    if (!decompress(f, D, aPrime, t, g, b0, (flags & kBNegative) != 0, why)) return false;
    if (f->a.sign() <= 0) {
      *why = "a is not positive";
      return false;
    }
    if (cmpAbs(f->b, f->a) > 0) {
      *why = "|b| > a";
      return false;
    }
  }
  if (!formFromAB(f, D)) {
    *why = "4a does not divide b² − D";
    return false;
  }
  reduce(*f);
  uint8_t canonical[kBqfcBytes];
  if (!encodeBqfc(*f, canonical, why)) return false;
  if (std::memcmp(canonical, bytes, kBqfcBytes) != 0) {
    *why = "non-canonical encoding";
    return false;
  }
  return true;
}

}  // namespace vigil::cg
