#include "hash_prime.h"

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "bpsw.h"
#include "prime_sieve.h"

namespace vigil::primes {

namespace {

struct Freer {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
  void operator()(BIGNUM* b) const { BN_free(b); }
};
template <class T>
using Owned = std::unique_ptr<T, Freer>;

// The sprout and its SHA-256, with the hash state after the leading 64-byte blocks kept (they
// change only when a carry reaches them), as hash-prime.ts CounterHasher: a long seed (rsa2048's
// ~800 bytes) costs one or two blocks per digest instead of thirteen.
class CounterHasher {
 public:
  CounterHasher(const uint8_t* seed, size_t len)
      : counter_(seed, seed + len),
        prefixBytes_(len > 16 ? (len - 16) / 64 * 64 : 0),
        prefix_(EVP_MD_CTX_new()),
        work_(EVP_MD_CTX_new()) {}

  bool init() { return prefix_ && work_ && absorbPrefix(); }

  // Increments the counter and writes its SHA-256 (32 bytes) to digest.
  bool next(uint8_t* digest) {
    if (increment() < prefixBytes_ && !absorbPrefix()) return false;
    return EVP_MD_CTX_copy_ex(work_.get(), prefix_.get()) &&
           EVP_DigestUpdate(work_.get(), counter_.data() + prefixBytes_,
                            counter_.size() - prefixBytes_) &&
           EVP_DigestFinal_ex(work_.get(), digest, nullptr);
  }

 private:
  // Adds one (wrapping at the top); returns the lowest index it changed.
  size_t increment() {
    for (size_t i = counter_.size(); i-- > 0;)
      if (++counter_[i] != 0) return i;
    return 0;
  }

  bool absorbPrefix() {
    return EVP_DigestInit_ex(prefix_.get(), EVP_sha256(), nullptr) &&
           EVP_DigestUpdate(prefix_.get(), counter_.data(), prefixBytes_);
  }

  std::vector<uint8_t> counter_;
  const size_t prefixBytes_;
  Owned<EVP_MD_CTX> prefix_, work_;
};

}  // namespace

HashPrimeResult hashPrime(const uint8_t* seed, size_t seedLen, unsigned bits,
                          const std::vector<unsigned>& setBits, std::vector<uint8_t>* prime,
                          std::string* error) {
  CounterHasher sprout(seed, seedLen);
  Owned<BN_CTX> ctx(BN_CTX_new());
  Owned<BIGNUM> n(BN_new());
  if (!sprout.init() || !ctx || !n) {
    *error = "OpenSSL set-up failed";
    return HashPrimeResult::kFailed;
  }
  const size_t length = bits / 8;
  std::vector<uint8_t>& buf = *prime;
  buf.assign(length, 0);
  // A counter of at most 6 bytes comes round after 256^len digests; from there the candidates
  // repeat.
  const uint64_t cycle = seedLen <= 6 ? uint64_t{1} << (8 * seedLen) : UINT64_MAX;
  uint64_t hashes = 0;
  uint8_t digest[32];
  for (;;) {
    for (size_t filled = 0; filled < length;) {
      if (++hashes > cycle) return HashPrimeResult::kCounterWrapped;
      if (!sprout.next(digest)) {
        *error = "SHA-256 failed";
        return HashPrimeResult::kFailed;
      }
      const size_t take = std::min<size_t>(32, length - filled);
      std::copy(digest, digest + take, buf.begin() + filled);
      filled += take;
    }
    buf[length - 1] |= 1;
    for (unsigned b : setBits) buf[length - 1 - (b >> 3)] |= static_cast<uint8_t>(1u << (b & 7));
    if (bits <= 32) {
      uint32_t v = 0;
      for (uint8_t byte : buf) v = (v << 8) | byte;
      if (isPrimeU32(v)) return HashPrimeResult::kFound;
      continue;
    }
    if (hasSmallFactor(buf.data(), length)) continue;
    if (!BN_bin2bn(buf.data(), static_cast<int>(length), n.get())) {
      *error = "OpenSSL BN_bin2bn failed";
      return HashPrimeResult::kFailed;
    }
    switch (bpsw(n.get(), ctx.get())) {
      case Verdict::kProbablePrime:
        return HashPrimeResult::kFound;
      case Verdict::kComposite:
        continue;
      case Verdict::kFailed:
        *error = "OpenSSL failed in the BPSW test";
        return HashPrimeResult::kFailed;
    }
  }
}

}  // namespace vigil::primes
