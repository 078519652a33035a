// Montgomery multiplication in radix 2^52 with AVX-512 IFMA (vpmadd52luq/vpmadd52huq), the
// "almost Montgomery multiplication" of Gueron and Krasnov: a residue is 40 limbs of 52 bits
// (R = 2^2080), values stay below 2N between products and are fully reduced only on output.
// A 2048-bit product costs about a third of OpenSSL 3.0's bn_mulx4x_mont, which is what brings
// the prover's bucket pass under 5 % of the evaluation (docs/vdf.md §8).
#include <cstdlib>
#include <cstring>

#include "residues.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VIGIL_IFMA52 1
// GCC 12 warns about the intrinsics headers' own deliberately undefined vectors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace vigil {

#if VIGIL_IFMA52

namespace {

constexpr int kLimbs = 40;  // 40 * 52 = 2080 bits
constexpr int kLimbBits = 52;
constexpr uint64_t kMask52 = (uint64_t{1} << kLimbBits) - 1;
constexpr size_t kRadixBytes = kLimbs * kLimbBits / 8;  // 260

// Big-endian bytes (at most 260) -> 40 limbs of 52 bits, least significant first.
void toLimbs(const uint8_t* be, size_t len, uint64_t* limbs) {
  uint64_t words[kLimbs * kLimbBits / 64 + 2] = {};  // little-endian 64-bit words, zero padded
  size_t whole = len / 8;
  for (size_t w = 0; w < whole; w++) {
    uint64_t v;
    std::memcpy(&v, be + len - 8 * (w + 1), 8);
    words[w] = __builtin_bswap64(v);
  }
  for (size_t i = 0; i < len % 8; i++)
    words[whole] |= static_cast<uint64_t>(be[len % 8 - 1 - i]) << (8 * i);
  for (int j = 0; j < kLimbs; j++) {
    const int bit = j * kLimbBits, w = bit / 64, off = bit % 64;
    uint64_t v = words[w] >> off;
    if (off > 64 - kLimbBits) v |= words[w + 1] << (64 - off);
    limbs[j] = v & kMask52;
  }
}

// 40 normalised limbs -> 260 big-endian bytes.
void fromLimbs(const uint64_t* limbs, uint8_t* be) {
  for (size_t i = 0; i < kRadixBytes; i++) {
    const size_t bit = 8 * (kRadixBytes - 1 - i);
    const size_t j = bit / kLimbBits, off = bit % kLimbBits;
    uint64_t v = limbs[j] >> off;
    if (off > kLimbBits - 8 && j + 1 < kLimbs) v |= limbs[j + 1] << (kLimbBits - off);
    be[i] = static_cast<uint8_t>(v);
  }
}

// W independent products r_w = a_w * b_w / R (mod N, below 2N), interleaved: one product is a
// chain of 40 dependent steps whose latency would leave the multipliers idle most of the time.
template <int W>
__attribute__((target("avx512f,avx512ifma"))) void amm52x40(uint64_t* const* out,
                                                            const uint64_t* const* a,
                                                            const uint64_t* const* b,
                                                            const uint64_t* n, uint64_t k0) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i N[5], r[W][5];
  for (int v = 0; v < 5; v++) N[v] = _mm512_loadu_si512(n + 8 * v);
  for (int w = 0; w < W; w++)
    for (int v = 0; v < 5; v++) r[w][v] = zero;
  const uint64_t n0 = n[0];
  // Lane j of r[w] holds the coefficient of 2^(52(i+j)) in the running sum, unnormalised (< 2^60:
  // at most four 52-bit terms per lane per step, for at most 40 steps).
  for (int i = 0; i < kLimbs; i++) {
    for (int w = 0; w < W; w++) {
      const uint64_t bi = b[w][i];
      const __m512i Bi = _mm512_set1_epi64(static_cast<long long>(bi));
      // m depends on lane 0 only; computing it in scalar keeps the vector lanes off its path.
      const uint64_t lane0 =
          static_cast<uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(r[w][0]))) +
          ((a[w][0] * bi) & kMask52);
      const uint64_t m = (lane0 * k0) & kMask52;
      const __m512i M = _mm512_set1_epi64(static_cast<long long>(m));
      const uint64_t carry = (lane0 + ((n0 * m) & kMask52)) >> kLimbBits;
      __m512i A[5];
      for (int v = 0; v < 5; v++) {
        A[v] = _mm512_loadu_si512(a[w] + 8 * v);
        r[w][v] = _mm512_madd52lo_epu64(r[w][v], A[v], Bi);
        r[w][v] = _mm512_madd52lo_epu64(r[w][v], N[v], M);
      }
      // Lane 0 is now a multiple of 2^52: drop it (keeping its carry), move every lane down.
      for (int v = 0; v < 4; v++) r[w][v] = _mm512_alignr_epi64(r[w][v + 1], r[w][v], 1);
      r[w][4] = _mm512_alignr_epi64(zero, r[w][4], 1);
      r[w][0] = _mm512_mask_add_epi64(r[w][0], 1, r[w][0],
                                      _mm512_set1_epi64(static_cast<long long>(carry)));
      for (int v = 0; v < 5; v++) {
        r[w][v] = _mm512_madd52hi_epu64(r[w][v], A[v], Bi);
        r[w][v] = _mm512_madd52hi_epu64(r[w][v], N[v], M);
      }
    }
  }
  for (int w = 0; w < W; w++) {
    alignas(64) uint64_t t[kLimbs];
    for (int v = 0; v < 5; v++) _mm512_store_si512(t + 8 * v, r[w][v]);
    uint64_t c = 0;
    for (int j = 0; j < kLimbs; j++) {
      const uint64_t s = t[j] + c;
      out[w][j] = s & kMask52;
      c = s >> kLimbBits;
    }
    // c == 0: the result is below 2N < 2^2080 when both inputs are below 2N and 4N < R.
  }
}

class Ifma52Residues final : public Residues {
 public:
  ~Ifma52Residues() override {
    std::free(table_);
    BN_free(n_);
    BN_CTX_free(ctx_);
  }

  bool init(const BIGNUM* modulus, size_t slots) {
    ctx_ = BN_CTX_new();
    n_ = BN_dup(modulus);
    // Pages are touched only when a slot is first written, so a large unused table costs nothing.
    table_ = static_cast<uint64_t*>(std::aligned_alloc(64, slots * kLimbs * sizeof(uint64_t)));
    if (!ctx_ || !n_ || !table_) return false;
    uint8_t be[kRadixBytes];
    if (BN_bn2binpad(n_, be, kRadixBytes) != static_cast<int>(kRadixBytes)) return false;
    toLimbs(be, kRadixBytes, n52_);
    // k0 = -N^-1 mod 2^52, by Newton's iteration (each step doubles the correct low bits).
    uint64_t inv = n52_[0];
    for (int i = 0; i < 6; i++) inv *= 2 - n52_[0] * inv;
    k0_ = (0 - inv) & kMask52;
    return true;
  }

  const char* name() const override { return "ifma52"; }

  bool load(size_t slot, const uint8_t* be, size_t len) override {
    toLimbs(be, len, at(slot));
    return true;
  }

  bool loadRadixPower(size_t slot, unsigned m) override {
    BIGNUM* p = BN_new();
    uint8_t be[kRadixBytes];
    const bool ok = p && BN_set_bit(p, static_cast<int>(m) * kLimbs * kLimbBits) &&
                    BN_mod(p, p, n_, ctx_) &&
                    BN_bn2binpad(p, be, kRadixBytes) == static_cast<int>(kRadixBytes);
    BN_free(p);
    if (ok) toLimbs(be, kRadixBytes, at(slot));
    return ok;
  }

  bool mul(size_t r, size_t a, size_t b) override {
    uint64_t* out[1] = {at(r)};
    const uint64_t* x[1] = {at(a)};
    const uint64_t* y[1] = {at(b)};
    amm52x40<1>(out, x, y, n52_, k0_);
    return true;
  }

  bool mulMany(const size_t* r, const size_t* a, const size_t* b, size_t count) override {
    constexpr size_t kWays = kIfma52Ways;
    size_t i = 0;
    for (; i + kWays <= count; i += kWays) {
      uint64_t* out[kWays];
      const uint64_t* x[kWays];
      const uint64_t* y[kWays];
      for (size_t w = 0; w < kWays; w++) {
        out[w] = at(r[i + w]);
        x[w] = at(a[i + w]);
        y[w] = at(b[i + w]);
      }
      amm52x40<kWays>(out, x, y, n52_, k0_);
    }
    for (; i < count; i++) mul(r[i], a[i], b[i]);
    return true;
  }

  bool copy(size_t r, size_t a) override {
    std::memcpy(at(r), at(a), kLimbs * sizeof(uint64_t));
    return true;
  }

  void prefetch(size_t slot) const override {
    const char* p = reinterpret_cast<const char*>(table_ + slot * kLimbs);
    for (size_t line = 0; line < kLimbs * sizeof(uint64_t); line += 64) __builtin_prefetch(p + line, 1);
  }

  bool fromMontgomery(size_t slot, uint8_t* be, size_t len) override {
    alignas(64) uint64_t one[kLimbs] = {1};
    alignas(64) uint64_t plain[kLimbs];
    uint64_t* out[1] = {plain};
    const uint64_t* x[1] = {at(slot)};
    const uint64_t* y[1] = {one};
    amm52x40<1>(out, x, y, n52_, k0_);
    uint8_t wide[kRadixBytes];
    fromLimbs(plain, wide);
    BIGNUM* v = BN_bin2bn(wide, kRadixBytes, nullptr);
    const bool ok = v && BN_nnmod(v, v, n_, ctx_) &&
                    BN_bn2binpad(v, be, static_cast<int>(len)) == static_cast<int>(len);
    BN_free(v);
    return ok;
  }

 private:
  uint64_t* at(size_t slot) { return table_ + slot * kLimbs; }

  BN_CTX* ctx_ = nullptr;
  BIGNUM* n_ = nullptr;
  uint64_t* table_ = nullptr;
  alignas(64) uint64_t n52_[kLimbs] = {};
  uint64_t k0_ = 0;
};

}  // namespace

bool ifma52Supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
}

std::unique_ptr<Residues> makeIfma52Residues(const BIGNUM* modulus, size_t slots,
                                             std::string* error) {
  if (!ifma52Supported()) {
    *error = "this CPU has no AVX-512 IFMA";
    return nullptr;
  }
  if (BN_num_bits(modulus) > kIfma52MaxBits) {
    *error = "the modulus is too large for the IFMA multiplier";
    return nullptr;
  }
  auto r = std::make_unique<Ifma52Residues>();
  if (!r->init(modulus, slots)) {
    *error = "out of memory";
    return nullptr;
  }
  return r;
}

#else  // not x86-64 with GCC/Clang

bool ifma52Supported() { return false; }

std::unique_ptr<Residues> makeIfma52Residues(const BIGNUM*, size_t, std::string* error) {
  *error = "this build has no AVX-512 IFMA multiplier";
  return nullptr;
}

#endif

}  // namespace vigil
