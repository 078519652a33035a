#include "class_int.h"

namespace vigil::cg {

void divMag(limb* q, int* qn, limb* r, int* rn, const limb* a, int an, const limb* b, int bn) {
  if (cmpMag(a, an, b, bn) < 0) {
    if (q) *qn = 0;
    if (r) {
      for (int i = 0; i < an; i++) r[i] = a[i];
      *rn = an;
    }
    return;
  }
  if (bn == 1) {
    limb rem = 0;
    const limb d = b[0];
    for (int i = an - 1; i >= 0; i--) {
      limb qi = div2by1(rem, a[i], d, &rem);
      if (q) q[i] = qi;
    }
    if (q) *qn = normLen(q, an);
    if (r) {
      r[0] = rem;
      *rn = rem != 0;
    }
    return;
  }
  // Normalise so that the divisor's top bit is set.
  const int s = __builtin_clzll(b[bn - 1]);
  limb v[kLimbs];
  limb u[kLimbs + 1];
  if (s == 0) {
    for (int i = 0; i < bn; i++) v[i] = b[i];
    for (int i = 0; i < an; i++) u[i] = a[i];
    u[an] = 0;
  } else {
    for (int i = bn - 1; i > 0; i--) v[i] = (b[i] << s) | (b[i - 1] >> (64 - s));
    v[0] = b[0] << s;
    u[an] = a[an - 1] >> (64 - s);
    for (int i = an - 1; i > 0; i--) u[i] = (a[i] << s) | (a[i - 1] >> (64 - s));
    u[0] = a[0] << s;
  }
  const limb v1 = v[bn - 1], v2 = v[bn - 2];
  for (int j = an - bn; j >= 0; j--) {
    const limb uTop = u[j + bn], uNext = u[j + bn - 1], uThird = u[j + bn - 2];
    limb qhat, rhat;
    bool rhatOverflow = false;
    if (uTop >= v1) {
      // The quotient digit is at most 2^64 - 1; rhat = uTop·2^64 + uNext - qhat·v1.
      qhat = ~static_cast<limb>(0);
      u128 rr = ((static_cast<u128>(uTop) << 64) | uNext) - static_cast<u128>(qhat) * v1;
      rhatOverflow = (rr >> 64) != 0;
      rhat = static_cast<limb>(rr);
    } else {
      qhat = div2by1(uTop, uNext, v1, &rhat);
    }
    while (!rhatOverflow &&
           static_cast<u128>(qhat) * v2 > ((static_cast<u128>(rhat) << 64) | uThird)) {
      qhat--;
      limb old = rhat;
      rhat += v1;
      rhatOverflow = rhat < old;
    }
    // u[j .. j+bn] -= qhat · v
    limb borrow = 0, carry = 0;
    for (int i = 0; i < bn; i++) {
      u128 p = static_cast<u128>(qhat) * v[i] + carry;
      carry = static_cast<limb>(p >> 64);
      limb pl = static_cast<limb>(p);
      limb ui = u[i + j];
      limb t = ui - pl - borrow;
      borrow = (ui < pl) | ((ui == pl) & borrow);
      u[i + j] = t;
    }
    limb top = u[j + bn];
    limb t = top - carry - borrow;
    bool negative = (top < carry) || (top - carry < borrow);
    u[j + bn] = t;
    if (negative) {
      qhat--;
      unsigned char c = 0;
      for (int i = 0; i < bn; i++) {
        u128 sum = static_cast<u128>(u[i + j]) + v[i] + c;
        u[i + j] = static_cast<limb>(sum);
        c = static_cast<unsigned char>(sum >> 64);
      }
      u[j + bn] += c;
    }
    if (q) q[j] = qhat;
  }
  if (q) *qn = normLen(q, an - bn + 1);
  if (r) {
    if (s == 0) {
      for (int i = 0; i < bn; i++) r[i] = u[i];
    } else {
      for (int i = 0; i < bn - 1; i++) r[i] = (u[i] >> s) | (u[i + 1] << (64 - s));
      r[bn - 1] = u[bn - 1] >> s;
    }
    *rn = normLen(r, bn);
  }
}

void tdivQR(Int* q, Int* r, const Int& a, const Int& b) {
  int qn = 0, rn = 0;
  divMag(q ? q->d : nullptr, &qn, r ? r->d : nullptr, &rn, a.d, a.n, b.d, b.n);
  if (q) {
    q->n = qn;
    q->neg = qn != 0 && (a.neg != b.neg);
  }
  if (r) {
    r->n = rn;
    r->neg = rn != 0 && a.neg;
  }
}

void fdivQR(Int* q, Int* r, const Int& a, const Int& b) {
  Int rr;
  Int* rp = r ? r : &rr;
  tdivQR(q, rp, a, b);
  if (rp->neg) {
    // a < 0 with a non-zero remainder: floor is one below the truncated quotient.
    if (q) {
      Int one;
      one.setU(1);
      sub(*q, *q, one);
    }
    add(*rp, *rp, b);
  }
}

bool fromBytes(Int& r, const uint8_t* be, size_t len, int maxLimbs) {
  while (len > 0 && be[0] == 0) {
    be++;
    len--;
  }
  const size_t limbs = (len + 7) / 8;
  if (limbs > static_cast<size_t>(maxLimbs)) return false;
  for (size_t i = 0; i < limbs; i++) r.d[i] = 0;
  for (size_t i = 0; i < len; i++) {
    const size_t bit = (len - 1 - i) * 8;
    r.d[bit / 64] |= static_cast<limb>(be[i]) << (bit % 64);
  }
  r.n = static_cast<int>(limbs);
  r.neg = false;
  return true;
}

bool toBytes(const Int& a, uint8_t* be, size_t len) {
  if (static_cast<size_t>((a.bits() + 7) / 8) > len) return false;
  for (size_t i = 0; i < len; i++) {
    const size_t bit = (len - 1 - i) * 8;
    const size_t w = bit / 64;
    be[i] = w < static_cast<size_t>(a.n) ? static_cast<uint8_t>(a.d[w] >> (bit % 64)) : 0;
  }
  return true;
}

}  // namespace vigil::cg
