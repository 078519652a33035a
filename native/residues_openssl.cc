#include <vector>

#include "residues.h"

namespace vigil {

namespace {

// Slots are BIGNUMs allocated on first write, so an unused bucket costs a pointer.
class OpenSslResidues final : public Residues {
 public:
  OpenSslResidues(size_t slots) : slots_(slots, nullptr) {}
  ~OpenSslResidues() override {
    for (BIGNUM* b : slots_) BN_free(b);
    BN_free(n_);
    BN_MONT_CTX_free(mont_);
    BN_CTX_free(ctx_);
  }

  bool init(const BIGNUM* modulus) {
    ctx_ = BN_CTX_new();
    mont_ = BN_MONT_CTX_new();
    n_ = BN_dup(modulus);
    return ctx_ && mont_ && n_ && BN_MONT_CTX_set(mont_, n_, ctx_);
  }

  const char* name() const override { return "openssl"; }

  bool load(size_t slot, const uint8_t* be, size_t len) override {
    BIGNUM* b = at(slot);
    return b && BN_bin2bn(be, static_cast<int>(len), b);
  }

  bool loadRadixPower(size_t slot, unsigned m) override {
    BIGNUM* b = at(slot);
    if (!b || !BN_to_montgomery(b, BN_value_one(), mont_, ctx_)) return false;
    return m == 1 || BN_to_montgomery(b, b, mont_, ctx_);
  }

  bool mul(size_t r, size_t a, size_t b) override {
    BIGNUM* out = at(r);
    return out && BN_mod_mul_montgomery(out, slots_[a], slots_[b], mont_, ctx_);
  }

  bool copy(size_t r, size_t a) override {
    BIGNUM* out = at(r);
    return out && BN_copy(out, slots_[a]);
  }

  bool fromMontgomery(size_t slot, uint8_t* be, size_t len) override {
    BIGNUM* b = at(slot);
    return b && BN_from_montgomery(b, b, mont_, ctx_) &&
           BN_bn2binpad(b, be, static_cast<int>(len)) == static_cast<int>(len);
  }

 private:
  BIGNUM* at(size_t slot) {
    if (slots_[slot] == nullptr) slots_[slot] = BN_new();
    return slots_[slot];
  }

  std::vector<BIGNUM*> slots_;
  BN_CTX* ctx_ = nullptr;
  BN_MONT_CTX* mont_ = nullptr;
  BIGNUM* n_ = nullptr;
};

}  // namespace

std::unique_ptr<Residues> makeOpenSslResidues(const BIGNUM* modulus, size_t slots,
                                              std::string* error) {
  auto r = std::make_unique<OpenSslResidues>(slots);
  if (!r->init(modulus)) {
    *error = "OpenSSL Montgomery set-up failed";
    return nullptr;
  }
  return r;
}

std::unique_ptr<Residues> makeResidues(const BIGNUM* modulus, size_t slots, Arithmetic choice,
                                       std::string* error) {
  if (choice != Arithmetic::kOpenSsl) {
    auto ifma = makeIfma52Residues(modulus, slots, error);
    if (ifma || choice == Arithmetic::kIfma52) return ifma;
    error->clear();
  }
  return makeOpenSslResidues(modulus, slots, error);
}

}  // namespace vigil
