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
constexpr int64_t kMaxEntry = static_cast<int64_t>(1) << 62;

// Euclid on the windows x >= y while each step is provably the full numbers' step (exact: the
// windows are the numbers themselves) and the remainder stays above stopAt.
Matrix lehmerBatch(limb x, limb y, limb stopAt, bool exact) {
  Matrix m;
  const limb margin = exact ? 0 : kMargin;
  while (y > stopAt && y != 0) {
    const limb q = x / y;
    const limb r = x - q * y;
    if (!exact && (r < margin || y - r < margin)) break;
    __int128 nc = static_cast<__int128>(m.a) - static_cast<__int128>(q) * m.c;
    __int128 nd = static_cast<__int128>(m.b) - static_cast<__int128>(q) * m.d;
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

// out = x·p + y·q, using t as scratch (out distinct from x, y and t).
inline void combine(Int& out, const Int& x, int64_t p, const Int& y, int64_t q, Int& t) {
  mulS(out, x, p);
  mulS(t, y, q);
  add(out, out, t);
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

}  // namespace

void euclid(EuclidState& e, const Int* bound) {
  Int n0, n1, t;
  while (e.r1.n != 0 && (bound == nullptr || cmp(e.r1, *bound) > 0)) {
    const int bits = e.r0.bits();
    const int k = bits > 64 ? bits - 64 : 0;
    const limb x = window(e.r0, k), y = window(e.r1, k);
    limb stopAt = 0;
    if (bound != nullptr) stopAt = bound->bits() > k + 64 ? ~static_cast<limb>(0) : window(*bound, k);
    const Matrix m = lehmerBatch(x, y, stopAt, k == 0);
    if (m.steps == 0) {
      exactStep(e);
      continue;
    }
    combine(n0, e.r0, m.a, e.r1, m.b, t);
    combine(n1, e.r0, m.c, e.r1, m.d, t);
    // Guard: a valid run of quotients leaves r0 > r1 >= 0.
    if (n0.neg || n1.neg || cmp(n0, n1) <= 0) {
      exactStep(e);
      continue;
    }
    e.r0.copy(n0);
    e.r1.copy(n1);
    combine(n0, e.s0, m.a, e.s1, m.b, t);
    combine(n1, e.s0, m.c, e.s1, m.d, t);
    e.s0.copy(n0);
    e.s1.copy(n1);
    e.steps += m.steps;
  }
}

}  // namespace vigil::cg
