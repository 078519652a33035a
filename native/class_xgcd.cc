#include "class_xgcd.h"

namespace vigil::cg {

namespace {

struct Matrix {
  int64_t a = 1, b = 0, c = 0, d = 1;
  uint64_t steps = 0;
};

// Bits k .. k+63 of |x|.
inline limb window(const Int& x, int k) {
  const int w = k / 64, s = k % 64;
  if (w >= x.n) return 0;
  limb lo = x.d[w] >> s;
  if (s != 0 && w + 1 < x.n) lo |= x.d[w + 1] << (64 - s);
  return lo;
}

// A gap that the error of a 64-bit window cannot close: with cofactors below 2^30, the full
// remainders differ from 2^k times the window's by less than 2^31·2^k.
constexpr limb kMargin = static_cast<limb>(1) << 34;
constexpr int64_t kMaxEntry = static_cast<int64_t>(1) << 61;

// Euclid on the windows x >= y while each step is provably the full numbers' step and the
// remainder stays above stopAt. Approximate windows: the margins bound the cofactors below 2^30,
// so nothing overflows.
Matrix lehmerApprox(limb x, limb y, limb stopAt) {
  int64_t a = 1, b = 0, c = 0, d = 1;
  uint64_t steps = 0;
  while (y > stopAt) {
    // One division per step: branching on small quotients mispredicts more than it saves.
    const limb q = x / y;
    const limb r = x - q * y;
    if (r < kMargin || y - r < kMargin) break;
    const int64_t nc = a - static_cast<int64_t>(q) * c;
    const int64_t nd = b - static_cast<int64_t>(q) * d;
    a = c;
    b = d;
    c = nc;
    d = nd;
    x = y;
    y = r;
    steps++;
  }
  return Matrix{a, b, c, d, steps};
}

// The same on exact single-limb operands, where cofactors may grow until they would pass 2^61.
Matrix lehmerExact(limb x, limb y, limb stopAt) {
  Matrix m;
  while (y > stopAt && y != 0) {
    const limb q = x / y;
    const limb r = x - q * y;
    const __int128 nc = static_cast<__int128>(m.a) - static_cast<__int128>(q) * m.c;
    const __int128 nd = static_cast<__int128>(m.b) - static_cast<__int128>(q) * m.d;
    if (nc > kMaxEntry || nc < -kMaxEntry || nd > kMaxEntry || nd < -kMaxEntry) break;
    m.a = m.c;
    m.b = m.d;
    m.c = static_cast<int64_t>(nc);
    m.d = static_cast<int64_t>(nd);
    x = y;
    y = r;
    m.steps++;
  }
  return m;
}

// out = ±p·|x| ± q·|y| (signs from the template), p, q < 2^62, in one pass with a signed
// 128-bit accumulator; x has no more limbs than y.
template <bool kNegP, bool kNegQ>
void combineMag(Int& out, const Int& x, limb p, const Int& y, limb q) {
  __int128 acc = 0;
  int i = 0;
  for (; i < x.n; i++) {
    const __int128 tp = static_cast<__int128>(static_cast<u128>(p) * x.d[i]);
    const __int128 tq = static_cast<__int128>(static_cast<u128>(q) * y.d[i]);
    acc += (kNegP ? -tp : tp) + (kNegQ ? -tq : tq);
    out.d[i] = static_cast<limb>(acc);
    acc >>= 64;
  }
  for (; i < y.n; i++) {
    const __int128 tq = static_cast<__int128>(static_cast<u128>(q) * y.d[i]);
    acc += kNegQ ? -tq : tq;
    out.d[i] = static_cast<limb>(acc);
    acc >>= 64;
  }
  out.d[i] = static_cast<limb>(acc);
  const int n = i + 1;
  if (acc < 0) {
    // Two's complement across the limbs: the magnitude of a negative result.
    limb borrow = 0;
    for (int j = 0; j < n; j++) {
      const limb v = out.d[j];
      out.d[j] = 0 - v - borrow;
      borrow = (v != 0) | borrow;
    }
    out.neg = true;
  } else {
    out.neg = false;
  }
  out.n = normLen(out.d, n);
  if (out.n == 0) out.neg = false;
}

// out = p·x + q·y for |p|, |q| < 2^62 (out distinct from x and y).
void combine(Int& out, const Int& x, int64_t p, const Int& y, int64_t q) {
  const bool negP = (p < 0) != x.neg, negQ = (q < 0) != y.neg;
  const limb mp = p < 0 ? 0 - static_cast<limb>(p) : static_cast<limb>(p);
  const limb mq = q < 0 ? 0 - static_cast<limb>(q) : static_cast<limb>(q);
  const bool swap = x.n > y.n;
  const Int& lo = swap ? y : x;
  const Int& hi = swap ? x : y;
  const limb ml = swap ? mq : mp, mh = swap ? mp : mq;
  const bool negL = swap ? negQ : negP, negH = swap ? negP : negQ;
  if (negL) {
    if (negH)
      combineMag<true, true>(out, lo, ml, hi, mh);
    else
      combineMag<true, false>(out, lo, ml, hi, mh);
  } else if (negH) {
    combineMag<false, true>(out, lo, ml, hi, mh);
  } else {
    combineMag<false, false>(out, lo, ml, hi, mh);
  }
}

inline limb limbAt(const Int& x, int i) { return i < x.n ? x.d[i] : 0; }

// Bits k .. k+127 of |x|.
inline u128 window128(const Int& x, int k) {
  const int w = k / 64, s = k % 64;
  limb lo = limbAt(x, w), hi = limbAt(x, w + 1);
  if (s != 0) {
    lo = (lo >> s) | (hi << (64 - s));
    hi = (hi >> s) | (limbAt(x, w + 2) << (64 - s));
  }
  return (static_cast<u128>(hi) << 64) | lo;
}

// Bits k .. k+63 of the bound, saturated when the bound does not fit there.
inline limb boundWindow(const Int* bound, int k) {
  if (bound == nullptr) return 0;
  return bound->bits() > k + 64 ? ~static_cast<limb>(0) : window(*bound, k);
}

// Two 64-bit runs on a 128-bit window (r0 longer than 128 bits): the first on the window's top
// half; its matrix, applied to the whole window (exact modulo 2^128, since the results lie in
// [0, 2^128)), gives the operands of the second. The product of the two matrices has entries
// below 2^61. *first receives the first run alone, the fallback when the product fails the
// guard.
Matrix lehmerDouble(const Int& r0, const Int& r1, const Int* bound, Matrix* first) {
  const int k = r0.bits() - 128;
  const u128 X = window128(r0, k), Y = window128(r1, k);
  const Matrix m1 = lehmerApprox(static_cast<limb>(X >> 64), static_cast<limb>(Y >> 64),
                                 boundWindow(bound, k + 64));
  *first = m1;
  if (m1.steps == 0) return m1;
  const u128 X2 = static_cast<u128>(static_cast<__int128>(m1.a)) * X +
                  static_cast<u128>(static_cast<__int128>(m1.b)) * Y;
  const u128 Y2 = static_cast<u128>(static_cast<__int128>(m1.c)) * X +
                  static_cast<u128>(static_cast<__int128>(m1.d)) * Y;
  const limb x2hi = static_cast<limb>(X2 >> 64);
  if (x2hi == 0 || X2 <= Y2) return m1;
  const int s2 = 64 - __builtin_clzll(x2hi);
  const Matrix m2 = lehmerApprox(static_cast<limb>(X2 >> s2), static_cast<limb>(Y2 >> s2),
                                 boundWindow(bound, k + s2));
  if (m2.steps == 0) return m1;
  return Matrix{m2.a * m1.a + m2.b * m1.c, m2.a * m1.b + m2.b * m1.d,
                m2.c * m1.a + m2.d * m1.c, m2.c * m1.b + m2.d * m1.d, m1.steps + m2.steps};
}

// One plain Euclid step with a full division.
void exactStep(EuclidState& e) {
  Int q, r, t;
  tdivQR(&q, &r, e.r0, e.r1);
  e.r0.copy(e.r1);
  e.r1.copy(r);
  mul(t, q, e.s1);
  sub(t, e.s0, t);
  e.s0.copy(e.s1);
  e.s1.copy(t);
  e.steps++;
}

// Applies m to (r0, r1) when the result is a valid Euclid state (r0 > r1 >= 0), then to the
// cofactors; false (nothing changed) otherwise.
bool apply(EuclidState& e, const Matrix& m, Int& n0, Int& n1) {
  combine(n0, e.r0, m.a, e.r1, m.b);
  combine(n1, e.r0, m.c, e.r1, m.d);
  // A run of positive quotients that leaves r0 > r1 >= 0 is a prefix of the true continued
  // fraction, so this guard alone makes any batch exact.
  if (n0.neg || n1.neg || cmp(n0, n1) <= 0) return false;
  e.r0.copy(n0);
  e.r1.copy(n1);
  combine(n0, e.s0, m.a, e.s1, m.b);
  combine(n1, e.s0, m.c, e.s1, m.d);
  e.s0.copy(n0);
  e.s1.copy(n1);
  e.steps += m.steps;
  return true;
}

}  // namespace

void euclid(EuclidState& e, const Int* bound) {
  Int n0, n1;
  while (e.r1.n != 0 && (bound == nullptr || cmp(e.r1, *bound) > 0)) {
    const int bits = e.r0.bits();
    if (bits > 128) {
      Matrix first;
      const Matrix m = lehmerDouble(e.r0, e.r1, bound, &first);
      if (m.steps != 0 && apply(e, m, n0, n1)) continue;
      if (first.steps != m.steps && first.steps != 0 && apply(e, first, n0, n1)) continue;
      exactStep(e);
      continue;
    }
    const int k = bits > 64 ? bits - 64 : 0;
    const limb x = window(e.r0, k), y = window(e.r1, k);
    const limb stopAt = boundWindow(bound, k);
    const Matrix m = k == 0 ? lehmerExact(x, y, stopAt) : lehmerApprox(x, y, stopAt);
    if (m.steps == 0 || !apply(e, m, n0, n1)) exactStep(e);
  }
}

void euclidTo(EuclidState& e, const Int& bound) {
  // Lehmer batches down to 2^64·bound: a batch's cofactors stay below 2^62, so it cannot pass
  // the bound itself from there; exact steps finish. A state that did pass it is redone exactly.
  const EuclidState start = e;
  Int wide;
  shl(wide, bound, 64);
  euclid(e, &wide);
  if (e.r1.n != 0 && cmp(e.r1, bound) <= 0) e = start;
  while (e.r1.n != 0 && cmp(e.r1, bound) > 0) exactStep(e);
}

}  // namespace vigil::cg
