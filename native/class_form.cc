#include "class_form.h"

#include "class_xgcd.h"

namespace vigil::cg {

namespace {

// A reduced form of a 1024-bit discriminant has a, |b| < 2^512 and c < 2^1024; past that (an
// unreduced chain), the next squaring would grow the operands, so the chain reduces first.
constexpr int kDeferredLimbs = 8;

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
  g.r0.copy(f.a);
  g.r1.copy(x);
  g.s0.setZero();
  g.s1.setU(1);
  euclid(g, nullptr);
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
  p.r0.copy(A);
  p.r1.copy(C);
  p.s0.setZero();
  p.s1.setU(1);
  euclid(p, &L);
  Int& d = p.r0;
  Int& v3 = p.r1;
  Int& v = p.s0;
  Int& v2 = p.s1;
  if (p.steps & 1) {
    v2.negate();
    v3.negate();
  }
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
