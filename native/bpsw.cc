#include "bpsw.h"

#include <cstdint>
#include <memory>

namespace vigil::primes {

namespace {

struct MontFree {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};

// OpenSSL failures (allocation) abort a test as kFailed; the macros keep each step one line.
#define BPSW_TRY(x) \
  if (!(x)) return Verdict::kFailed

// Scoped BN_CTX frame: BN_CTX_get's temporaries are released when the test returns.
class Frame {
 public:
  explicit Frame(BN_CTX* ctx) : ctx_(ctx) { BN_CTX_start(ctx); }
  ~Frame() { BN_CTX_end(ctx_); }
  BIGNUM* get() { return BN_CTX_get(ctx_); }

 private:
  BN_CTX* ctx_;
};

// n - 1 = d * 2^s (or n + 1, for Lucas) with d odd.
int oddPart(BIGNUM* d, int s) {
  while (!BN_is_odd(d)) {
    BN_rshift1(d, d);
    s++;
  }
  return s;
}

Verdict strongBase2(const BIGNUM* n, BN_MONT_CTX* mont, BN_CTX* ctx) {
  Frame f(ctx);
  BIGNUM* nMinus1 = f.get();
  BIGNUM* d = f.get();
  BIGNUM* x = f.get();
  BPSW_TRY(x && BN_copy(nMinus1, n) && BN_sub_word(nMinus1, 1) && BN_copy(d, nMinus1));
  if (BN_is_zero(d)) return Verdict::kComposite;  // n = 1
  const int s = oddPart(d, 0);
  BPSW_TRY(BN_mod_exp_mont_word(x, 2, d, n, ctx, mont));
  if (BN_is_one(x) || BN_cmp(x, nMinus1) == 0) return Verdict::kProbablePrime;
  for (int i = 1; i < s; i++) {
    BPSW_TRY(BN_mod_sqr(x, x, n, ctx));
    if (BN_cmp(x, nMinus1) == 0) return Verdict::kProbablePrime;
    if (BN_is_one(x)) return Verdict::kComposite;
  }
  return Verdict::kComposite;
}

// Newton's integer square root from above, as bpsw.ts isqrt.
Verdict perfectSquare(const BIGNUM* n, BN_CTX* ctx, bool* square) {
  Frame f(ctx);
  BIGNUM* x = f.get();
  BIGNUM* y = f.get();
  BIGNUM* q = f.get();
  BPSW_TRY(q && BN_set_word(x, 0) && BN_set_bit(x, BN_num_bits(n) / 2 + 1));
  for (;;) {
    BPSW_TRY(BN_div(q, nullptr, n, x, ctx) && BN_add(y, x, q) && BN_rshift1(y, y));
    if (BN_cmp(y, x) >= 0) break;
    BPSW_TRY(BN_copy(x, y));
  }
  BPSW_TRY(BN_sqr(y, x, ctx));
  *square = BN_cmp(y, n) == 0;
  return Verdict::kProbablePrime;
}

// r <- k * a mod n for a small signed k and 0 <= a < n (also in Montgomery form: k is plain).
bool mulSmall(BIGNUM* r, const BIGNUM* a, int64_t k, const BIGNUM* n, BN_CTX* ctx) {
  const uint64_t magnitude = k < 0 ? static_cast<uint64_t>(-k) : static_cast<uint64_t>(k);
  if (!BN_copy(r, a) || !BN_mul_word(r, magnitude) || !BN_nnmod(r, r, n, ctx)) return false;
  return k >= 0 || BN_is_zero(r) || BN_sub(r, n, r);
}

// x/2 mod n for odd n and 0 <= x < n.
bool half(BIGNUM* x, const BIGNUM* n) {
  return (!BN_is_odd(x) || BN_add(x, x, n)) && BN_rshift1(x, x);
}

// r <- v^2 - 2q mod n, for Montgomery v and q.
bool doubleV(BIGNUM* r, const BIGNUM* v, const BIGNUM* q, BIGNUM* tmp, const BIGNUM* n,
             BN_MONT_CTX* mont, BN_CTX* ctx) {
  return BN_mod_mul_montgomery(r, v, v, mont, ctx) && BN_mod_lshift1_quick(tmp, q, n) &&
         BN_mod_sub_quick(r, r, tmp, n);
}

// Selfridge's method A and the strong Lucas test, as bpsw.ts isStrongLucasProbablePrime: D the
// first of 5, -7, 9, -11, ... with (D/n) = -1, P = 1, Q = (1 - D)/4; the U, V and Q^k chain runs
// in Montgomery form, where multiplying by the small D or Q and halving need no conversion.
Verdict strongLucas(const BIGNUM* n, BN_MONT_CTX* mont, BN_CTX* ctx) {
  Frame f(ctx);
  BIGNUM* dd = f.get();
  BIGNUM* d = f.get();
  BIGNUM* u = f.get();
  BIGNUM* v = f.get();
  BIGNUM* qk = f.get();
  BIGNUM* t = f.get();
  BIGNUM* w = f.get();
  BPSW_TRY(w);
  int64_t dAbs = 5;
  int sign = 1;
  for (;;) {
    BPSW_TRY(BN_set_word(dd, static_cast<BN_ULONG>(dAbs)));
    BN_set_negative(dd, sign < 0);
    const int j = BN_kronecker(dd, n, ctx);
    if (j == -2) return Verdict::kFailed;
    if (j == -1) break;
    if (j == 0 && !BN_abs_is_word(n, static_cast<BN_ULONG>(dAbs))) return Verdict::kComposite;
    dAbs += 2;
    sign = -sign;
    if (dAbs == 1001) {
      bool square = false;
      if (perfectSquare(n, ctx, &square) == Verdict::kFailed) return Verdict::kFailed;
      if (square) return Verdict::kComposite;
    }
  }
  const int64_t D = sign * dAbs;
  const int64_t Q = (1 - D) / 4;
  BPSW_TRY(BN_copy(d, n) && BN_add_word(d, 1));
  const int s = oddPart(d, 0);
  BPSW_TRY(BN_to_montgomery(u, BN_value_one(), mont, ctx) && BN_copy(v, u) &&
           mulSmall(qk, u, Q, n, ctx));
  for (int i = BN_num_bits(d) - 2; i >= 0; i--) {
    // doubling: U_2k = U_k V_k, V_2k = V_k^2 - 2Q^k
    BPSW_TRY(BN_mod_mul_montgomery(u, u, v, mont, ctx) && doubleV(v, v, qk, t, n, mont, ctx) &&
             BN_mod_mul_montgomery(qk, qk, qk, mont, ctx));
    if (BN_is_bit_set(d, i)) {
      // increment: U_{k+1} = (P U + V)/2, V_{k+1} = (D U + P V)/2
      BPSW_TRY(mulSmall(t, u, D, n, ctx) && BN_mod_add_quick(t, t, v, n) &&
               BN_mod_add_quick(u, u, v, n) && half(u, n) && half(t, n) && BN_copy(v, t) &&
               mulSmall(qk, qk, Q, n, ctx));
    }
  }
  if (BN_is_zero(u) || BN_is_zero(v)) return Verdict::kProbablePrime;
  for (int r = 1; r < s; r++) {
    BPSW_TRY(doubleV(v, v, qk, t, n, mont, ctx));
    if (BN_is_zero(v)) return Verdict::kProbablePrime;
    BPSW_TRY(BN_mod_mul_montgomery(qk, qk, qk, mont, ctx));
  }
  return Verdict::kComposite;
}

}  // namespace

Verdict bpsw(const BIGNUM* n, BN_CTX* ctx) {
  std::unique_ptr<BN_MONT_CTX, MontFree> mont(BN_MONT_CTX_new());
  BPSW_TRY(mont && BN_MONT_CTX_set(mont.get(), n, ctx));
  const Verdict mr = strongBase2(n, mont.get(), ctx);
  if (mr != Verdict::kProbablePrime) return mr;
  bool square = false;
  if (perfectSquare(n, ctx, &square) == Verdict::kFailed) return Verdict::kFailed;
  if (square) return Verdict::kComposite;
  return strongLucas(n, mont.get(), ctx);
}

}  // namespace vigil::primes
