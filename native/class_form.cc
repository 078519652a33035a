#include "class_form.h"

#include "class_xgcd.h"

namespace vigil::cg {

namespace {

// A reduced form of a 1024-bit discriminant has a, |b| < 2^512 and c < 2^1024; past that (an
// unreduced chain), the next squaring would grow the operands, so the chain reduces first.
constexpr int kDeferredLimbs = 8;

inline const Int& two() {
  static const Int value = [] {
    Int t;
    t.setU(2);
    return t;
  }();
  return value;
}

inline void swapInts(Int& x, Int& y) {
  const int n = x.n > y.n ? x.n : y.n;
  for (int i = 0; i < n; i++) {
    const limb t = x.d[i];
    x.d[i] = y.d[i];
    y.d[i] = t;
  }
  const int tn = x.n;
  x.n = y.n;
  y.n = tn;
  const bool tneg = x.neg;
  x.neg = y.neg;
  y.neg = tneg;
}

// |b| > a, or b = -a: b is outside (-a, a].
inline bool outsideNormal(const Form& f) {
  const int m = cmpAbs(f.b, f.a);
  return m > 0 || (m == 0 && f.b.neg);
}

// Euclid on (r0, r1) carrying the cofactors of r1 from (0, 1): to the end (bound == nullptr), or
// NUDUPL/NUCOMP's partial run stopped at the bound, after which r1 and s1 are negated when the
// number of steps is odd (the sign convention of their formulas, as in vdf/class1024/fast.ts).
void cofactorEuclid(EuclidState& e, const Int& r0, const Int& r1, const Int* bound) {
  e.r0.copy(r0);
  e.r1.copy(r1);
  e.s0.setZero();
  e.s1.setU(1);
  euclid(e, bound);
  if (bound != nullptr && (e.steps & 1)) {
    e.s1.negate();
    e.r1.negate();
  }
}

}  // namespace

void reduce(Form& f) {
  Int twoA, num, r, t, u;
  for (;;) {
    if (outsideNormal(f)) {
      // b <- b + 2ra with r = floor((a - b) / 2a) brings b into (-a, a]; c follows.
      shl(twoA, f.a, 1);
      sub(num, f.a, f.b);
      fdivQR(&r, nullptr, num, twoA);
      mul(t, f.a, r);
      add(t, t, f.b);
      mul(u, r, t);
      add(f.c, f.c, u);
      mul(t, twoA, r);
      add(f.b, f.b, t);
    }
    const int ac = cmp(f.a, f.c);
    if (ac > 0) {
      swapInts(f.a, f.c);
      f.b.negate();
      continue;
    }
    if (ac == 0 && f.b.neg) f.b.negate();
    return;
  }
}

void nudupl(Form& f, const Int& L) {
  Int absB, x, t, u, A, B, C;
  absB.copy(f.b);
  absB.neg = false;
  // u·b ≡ d1 (mod a), d1 = gcd(a, b).
  tdivQR(nullptr, &x, absB, f.a);
  EuclidState g;
  cofactorEuclid(g, f.a, x, nullptr);
  const Int& d1 = g.r0;
  u.copy(g.s0);
  if (f.b.neg) u.negate();
  const bool unitD1 = d1.isOne();
  if (unitD1) {
    A.copy(f.a);
    B.copy(f.b);
  } else {
    tdivQR(&A, nullptr, f.a, d1);
    tdivQR(&B, nullptr, f.b, d1);
  }
  // C = -c·u mod A, in [0, A).
  mul(t, f.c, u);
  t.negate();
  fdivQR(nullptr, &C, t, A);

  EuclidState p;
  cofactorEuclid(p, A, C, &L);
  Int& d = p.r0;
  Int& v3 = p.r1;
  Int& v = p.s0;
  Int& v2 = p.s1;
  Int e, gg, s, w;
  if (p.steps == 0) {
    // g = (B·v3 + c) / d; a2 = d²; c2 = v3² + g·d1; b2 = b + 2·d·v3.
    mul(t, B, v3);
    add(t, t, f.c);
    tdivQR(&gg, nullptr, t, d);
    mul(s, d, v3);
    shl(s, s, 1);
    add(f.b, f.b, s);
    sqr(f.a, d);
    sqr(f.c, v3);
    mul(t, gg, d1);
    add(f.c, f.c, t);
    return;
  }
  // e = (c·v + B·d) / A; g = (e·v2 - B) / v.
  mul(t, f.c, v);
  mul(s, B, d);
  add(t, t, s);
  tdivQR(&e, nullptr, t, A);
  mul(t, e, v2);
  sub(w, t, B);
  tdivQR(&gg, nullptr, w, v);
  // b2 = (e·v2 + v·g)·d1 + 2·d·v3 (t still holds e·v2).
  mul(s, v, gg);
  add(f.b, t, s);
  if (!unitD1) {
    mul(t, f.b, d1);
    f.b.copy(t);
    mul(t, v, d1);
    v.copy(t);
    mul(t, v2, d1);
    v2.copy(t);
  }
  mul(s, d, v3);
  shl(s, s, 1);
  add(f.b, f.b, s);
  // a2 = d² + e·v; c2 = v3² + g·v2.
  sqr(f.a, d);
  mul(t, e, v);
  add(f.a, f.a, t);
  sqr(f.c, v3);
  mul(t, gg, v2);
  add(f.c, f.c, t);
}

namespace {

// [g, x] with x·a + y·b = g = gcd(a, b) >= 0 for some y: plain Euclid on signed values (the rare
// path of NUCOMP, as vdf/class1024/xgcd.ts egcd).
void egcd(Int& g, Int& x, const Int& a, const Int& b) {
  Int r0, r1, x0, x1, q, r, t;
  r0.copy(a);
  r1.copy(b);
  x0.setU(1);
  x1.setZero();
  while (!r1.isZero()) {
    tdivQR(&q, &r, r0, r1);
    r0.copy(r1);
    r1.copy(r);
    mul(t, q, x1);
    sub(t, x0, t);
    x0.copy(x1);
    x1.copy(t);
  }
  if (r0.neg) {
    r0.negate();
    x0.negate();
  }
  g.copy(r0);
  x.copy(x0);
}

// t mod d in [0, d) for d > 0.
void modPos(Int& out, const Int& t, const Int& d) { fdivQR(nullptr, &out, t, d); }

}  // namespace

void nucomp(Form& out, const Form& f1, const Form& f2, const Int& L) {
  const Form* x = &f1;
  const Form* y = &f2;
  if (cmp(x->a, y->a) < 0) {
    x = &f2;
    y = &f1;
  }
  Int a1, a2, s, n, A, d, d1, t, u2, w;
  a1.copy(x->a);
  a2.copy(y->a);
  const Int& c1 = x->c;
  const Int& b2 = y->b;
  const Int& c2 = y->c;
  // s = (b1 + b2) / 2 (exact: b1 ≡ b2 mod 2), n = b2 - s.
  add(t, x->b, b2);
  tdivQR(&s, nullptr, t, two());
  sub(n, b2, s);
  d1.setU(1);
  // u·a2 ≡ g0 (mod a1).
  modPos(t, a2, a1);
  EuclidState g;
  cofactorEuclid(g, a1, t, nullptr);
  const Int& g0 = g.r0;
  const Int& u = g.s0;
  if (g0.isOne()) {
    d.setU(1);
    mul(A, u, n);
    A.negate();
  } else {
    // v = (g0 - u·a2) / a1; d = g0; [d1, u1] = egcd(s, d).
    Int v, u1, l, m1, m2;
    mul(t, u, a2);
    sub(t, g0, t);
    tdivQR(&v, nullptr, t, a1);
    d.copy(g0);
    egcd(d1, u1, s, d);
    if (!d1.isOne()) {
      tdivQR(&t, nullptr, a1, d1);
      a1.copy(t);
      tdivQR(&t, nullptr, a2, d1);
      a2.copy(t);
      tdivQR(&t, nullptr, s, d1);
      s.copy(t);
      tdivQR(&t, nullptr, d, d1);
      d.copy(t);
    }
    // l = (-u1·(u·(c1 mod d) + v·(c2 mod d))) mod d.
    modPos(m1, c1, d);
    modPos(m2, c2, d);
    mul(t, u, m1);
    mul(w, v, m2);
    add(t, t, w);
    mul(w, u1, t);
    w.negate();
    modPos(l, w, d);
    // A = -u·trunc(n/d) + l·trunc(a1/d).
    tdivQR(&t, nullptr, n, d);
    mul(A, u, t);
    A.negate();
    tdivQR(&t, nullptr, a1, d);
    mul(w, l, t);
    add(A, A, w);
  }
  // The partial Euclid stops at sqrt(a1/a2)·L, which is NUDUPL's L for operands of one size and
  // grows as a2 shrinks: stopping at L past a small a2 (the generator (2, 1) and its low powers,
  // which the verifier's multi-exponentiation multiplies by) left the product ~90 reduction
  // steps from reduced instead of ~2. Any stopping point gives an equivalent form, so a power of
  // two near the bound does.
  modPos(t, A, a1);
  Int bound;
  shl(bound, L, (a1.bits() - a2.bits()) / 2);
  EuclidState p;
  cofactorEuclid(p, a1, t, &bound);
  Int& dd = p.r0;
  Int& v3 = p.r1;
  Int& v = p.s0;
  Int& v2 = p.s1;
  Int q1, q2, ff, gg, bb, e, q3, q4;
  if (p.steps == 0) {
    // a = dd·a2, b = 2·q1 + b2, c = v3·f + g·d1 with q1 = a2·v3, f = (q1 + n)/dd,
    // g = (v3·s + c2)/dd.
    mul(q1, a2, v3);
    add(q2, q1, n);
    tdivQR(&ff, nullptr, q2, dd);
    mul(t, v3, s);
    add(t, t, c2);
    tdivQR(&gg, nullptr, t, dd);
    mul(out.a, dd, a2);
    shl(t, q1, 1);
    add(out.b, t, b2);
    mul(out.c, v3, ff);
    mul(t, gg, d1);
    add(out.c, out.c, t);
    reduce(out);
    return;
  }
  // bb = (a2·dd + n·v)/a1; q1 = bb·v3; f = (q1 + n)/dd; e = (s·dd + c2·v)/a1;
  // q3 = e·v2; q4 = q3 - s; g = q4/v.
  mul(t, a2, dd);
  mul(w, n, v);
  add(t, t, w);
  tdivQR(&bb, nullptr, t, a1);
  mul(q1, bb, v3);
  add(q2, q1, n);
  tdivQR(&ff, nullptr, q2, dd);
  mul(t, s, dd);
  mul(w, c2, v);
  add(t, t, w);
  tdivQR(&e, nullptr, t, a1);
  mul(q3, e, v2);
  sub(q4, q3, s);
  tdivQR(&gg, nullptr, q4, v);
  if (!d1.isOne()) {
    mul(t, v2, d1);
    v2.copy(t);
    mul(t, v, d1);
    v.copy(t);
  }
  // a = dd·bb + e·v; b = q1 + q2 + d1·(q3 + q4); c = v3·f + g·v2.
  mul(out.a, dd, bb);
  mul(t, e, v);
  add(out.a, out.a, t);
  add(t, q3, q4);
  mul(w, d1, t);
  add(t, q1, q2);
  add(out.b, t, w);
  mul(out.c, v3, ff);
  mul(t, gg, v2);
  add(out.c, out.c, t);
  reduce(out);
}

namespace {

constexpr int kWindow = 4;

struct Exponent {
  const std::vector<uint8_t>* bytes;
  int bits() const {
    const auto& b = *bytes;
    for (size_t i = 0; i < b.size(); i++)
      if (b[i] != 0) return static_cast<int>((b.size() - i) * 8) - __builtin_clz(b[i]) + 24;
    return 0;
  }
  int bit(int i) const {
    const auto& b = *bytes;
    const size_t byte = b.size() - 1 - static_cast<size_t>(i / 8);
    return (b[byte] >> (i % 8)) & 1;
  }
};

// window[j] = the odd value of the sliding window ending at bit j (0 where none ends).
std::vector<uint8_t> slidingWindows(const Exponent& e) {
  const int top = e.bits() - 1;
  std::vector<uint8_t> out(static_cast<size_t>(top + 1), 0);
  int i = top;
  while (i >= 0) {
    if (e.bit(i) == 0) {
      i--;
      continue;
    }
    int j = i - kWindow + 1 > 0 ? i - kWindow + 1 : 0;
    while (e.bit(j) == 0) j++;
    int value = 0;
    for (int k = i; k >= j; k--) value = value * 2 + e.bit(k);
    out[static_cast<size_t>(j)] = static_cast<uint8_t>(value);
    i = j - 1;
  }
  return out;
}

void square(Form& f, const Int& L) {
  nudupl(f, L);
  reduce(f);
}

}  // namespace

void multiExp(Form& out, const Form* bases, const std::vector<std::vector<uint8_t>>& exps,
              const Form& identity, const Int& L) {
  const size_t count = exps.size();
  std::vector<std::vector<uint8_t>> windows(count);
  constexpr size_t kTable = 1 << (kWindow - 1);
  std::vector<Form> tables(count * kTable);
  int top = -1;
  for (size_t k = 0; k < count; k++) {
    const Exponent e{&exps[k]};
    const int bits = e.bits();
    if (bits == 0) continue;
    windows[k] = slidingWindows(e);
    if (bits - 1 > top) top = bits - 1;
    // f, f³, f⁵, …, f^(2^kWindow − 1)
    Form* table = &tables[k * kTable];
    table[0] = bases[k];
    Form f2 = bases[k];
    square(f2, L);
    for (size_t i = 1; i < kTable; i++) nucomp(table[i], table[i - 1], f2, L);
  }
  bool started = false;
  Form next;
  for (int i = top; i >= 0; i--) {
    if (started) square(out, L);
    for (size_t k = 0; k < count; k++) {
      if (static_cast<size_t>(i) >= windows[k].size()) continue;
      const uint8_t w = windows[k][static_cast<size_t>(i)];
      if (w == 0) continue;
      const Form& term = tables[k * kTable + ((w - 1) >> 1)];
      if (started) {
        nucomp(next, out, term, L);
        out = next;
      } else {
        out = term;
        started = true;
      }
    }
  }
  if (!started) out = identity;
}

bool formFromRecord(const uint8_t* record, const Int& D, Form* f, std::string* error) {
  const uint8_t sign = record[kFormHalfBytes];
  if (!fromBytes(f->a, record, kFormHalfBytes, kFormHalfBytes / 8) ||
      !fromBytes(f->b, record + kFormHalfBytes + 1, kFormHalfBytes, kFormHalfBytes / 8) ||
      sign > 1) {
    *error = "form record: sign byte must be 0 or 1";
    return false;
  }
  if (sign == 1) f->b.negate();
  if (f->a.isZero()) {
    *error = "form record: a must be positive";
    return false;
  }
  // c = (b² - D) / 4a, exactly.
  Int t, fourA, rem;
  sqr(t, f->b);
  sub(t, t, D);
  shl(fourA, f->a, 2);
  tdivQR(&f->c, &rem, t, fourA);
  if (!rem.isZero()) {
    *error = "form record: 4a does not divide b² - D";
    return false;
  }
  Form check;
  check.a.copy(f->a);
  check.b.copy(f->b);
  check.c.copy(f->c);
  reduce(check);
  if (cmp(check.a, f->a) != 0 || cmp(check.b, f->b) != 0) {
    *error = "form record: form is not reduced";
    return false;
  }
  return true;
}

bool formToRecord(const Form& f, uint8_t* record) {
  record[kFormHalfBytes] = f.b.neg ? 1 : 0;
  return toBytes(f.a, record, kFormHalfBytes) &&
         toBytes(f.b, record + kFormHalfBytes + 1, kFormHalfBytes);
}

bool squareChain(const Int& L, Form f, uint64_t offset, uint64_t count, uint64_t interval,
                 std::vector<uint8_t>* out, std::string* error) {
  auto record = [&]() {
    reduce(f);
    const size_t at = out->size();
    out->resize(at + kFormRecordBytes);
    if (formToRecord(f, out->data() + at)) return true;
    *error = "a reduced form does not fit 512 bits: the discriminant is too large";
    return false;
  };
  uint64_t untilCheckpoint = interval - offset % interval;
  for (uint64_t i = 1; i <= count; i++) {
    if (f.a.n > kDeferredLimbs || f.b.n > kDeferredLimbs || f.c.n > 2 * kDeferredLimbs + 1)
      reduce(f);
    nudupl(f, L);
    if (--untilCheckpoint == 0) {
      untilCheckpoint = interval;
      if (!record()) return false;
    }
  }
  return record();
}

}  // namespace vigil::cg
