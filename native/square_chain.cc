#include "square_chain.h"

#include <memory>

namespace vigil {

namespace {
struct Freer {
  void operator()(BIGNUM* b) const { BN_free(b); }
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
template <class T>
using Owned = std::unique_ptr<T, Freer>;
}  // namespace

bool squareChain(const BIGNUM* modulus, const uint8_t* x, size_t len, uint64_t offset,
                 uint64_t count, uint64_t interval, std::vector<uint8_t>* out,
                 std::string* error) {
  Owned<BN_CTX> ctx(BN_CTX_new());
  Owned<BN_MONT_CTX> mont(BN_MONT_CTX_new());
  Owned<BIGNUM> v(BN_bin2bn(x, static_cast<int>(len), nullptr));
  Owned<BIGNUM> plain(BN_new()), half(BN_new());
  if (!ctx || !mont || !v || !plain || !half || !BN_MONT_CTX_set(mont.get(), modulus, ctx.get()) ||
      !BN_rshift1(half.get(), modulus) || !BN_to_montgomery(v.get(), v.get(), mont.get(), ctx.get())) {
    *error = "OpenSSL Montgomery set-up failed";
    return false;
  }
  const int width = static_cast<int>(len);
  auto record = [&]() {
    const size_t at = out->size();
    out->resize(at + len);
    if (!BN_from_montgomery(plain.get(), v.get(), mont.get(), ctx.get())) return false;
    if (BN_ucmp(plain.get(), half.get()) > 0 && !BN_usub(plain.get(), modulus, plain.get()))
      return false;
    return BN_bn2binpad(plain.get(), out->data() + at, width) == width;
  };
  uint64_t untilCheckpoint = interval - offset % interval;
  for (uint64_t i = 1; i <= count; i++) {
    if (!BN_mod_mul_montgomery(v.get(), v.get(), v.get(), mont.get(), ctx.get())) {
      *error = "OpenSSL arithmetic failed";
      return false;
    }
    if (--untilCheckpoint == 0) {
      untilCheckpoint = interval;
      if (!record()) {
        *error = "OpenSSL arithmetic failed";
        return false;
      }
    }
  }
  if (!record()) {
    *error = "OpenSSL arithmetic failed";
    return false;
  }
  return true;
}

}  // namespace vigil
