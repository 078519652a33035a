// N-API face of the native prover pass (vdf/rsa2048/native.ts loads it). Every argument is checked
// here and every failure becomes a JS exception: bad input never crashes the process.
#include <node_api.h>

#include "napi_status.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "bpsw.h"
#include "bucket_pass.h"
#include "class_bqfc.h"
#include "class_form.h"
#include "class_prover.h"
#include "hash_prime.h"
#include "square_chain.h"

namespace {

constexpr size_t kMaxModulusBytes = 512;
constexpr size_t kMaxChallengeBytes = 64;
// Marks externals made by createPass so that feed/finish refuse any other object.
constexpr napi_type_tag kPassTag = {0x76696769'6c766466ULL, 0x6275636b'65747331ULL};

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;

struct Pass {
  std::unique_ptr<vigil::BucketPass> impl;
};

using vigil::throwIfPending;

// Reads min..max arguments into argv (*argc says how many came); a TypeError naming `usage`
// otherwise.
bool argsOf(napi_env env, napi_callback_info info, size_t min, size_t max, napi_value* argv,
            size_t* argc, const char* usage) {
  *argc = max;
  if (throwIfPending(env, napi_get_cb_info(env, info, argc, argv, nullptr, nullptr), "bad call"))
    return false;
  if (*argc < min || *argc > max) {
    napi_throw_type_error(env, nullptr, usage);
    return false;
  }
  return true;
}

bool bytesArg(napi_env env, napi_value v, const char* name, const uint8_t** data, size_t* len) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " must be a Uint8Array").c_str());
    return false;
  }
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, v, &type, len, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, (std::string(name) + " must be a Uint8Array").c_str());
    return false;
  }
  *data = static_cast<const uint8_t*>(raw);
  return true;
}

// A big-endian integer of 1..maxBytes bytes with no leading zero byte.
Bn integerArg(napi_env env, napi_value v, const char* name, size_t maxBytes) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!bytesArg(env, v, name, &data, &len)) return nullptr;
  if (len == 0 || len > maxBytes || data[0] == 0) {
    napi_throw_range_error(
        env, nullptr,
        (std::string(name) + " must be 1.." + std::to_string(maxBytes) +
         " big-endian bytes without a leading zero")
            .c_str());
    return nullptr;
  }
  Bn bn(BN_bin2bn(data, static_cast<int>(len), nullptr));
  if (!bn) napi_throw_error(env, nullptr, "out of memory");
  return bn;
}

// Like integerArg, but zero is allowed (as the empty array or leading zeros).
Bn residueArg(napi_env env, napi_value v, const char* name, size_t maxBytes) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!bytesArg(env, v, name, &data, &len)) return nullptr;
  if (len > maxBytes) {
    napi_throw_range_error(
        env, nullptr, (std::string(name) + " is longer than " + std::to_string(maxBytes) + " bytes").c_str());
    return nullptr;
  }
  Bn bn(BN_bin2bn(data, static_cast<int>(len), nullptr));
  if (!bn) napi_throw_error(env, nullptr, "out of memory");
  return bn;
}

Pass* passArg(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void* data = nullptr;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, &kPassTag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "pass must be a value returned by createPass");
    return nullptr;
  }
  return static_cast<Pass*>(data);
}

void finalizePass(napi_env, void* data, void*) { delete static_cast<Pass*>(data); }

// "auto" (IFMA when the CPU has it), "openssl" or "ifma52"; absent means "auto".
bool arithmeticArg(napi_env env, napi_value v, vigil::Arithmetic* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined) {
    *out = vigil::Arithmetic::kAuto;
    return true;
  }
  char name[16] = {};
  size_t len = 0;
  if (t == napi_string &&
      napi_get_value_string_utf8(env, v, name, sizeof(name), &len) == napi_ok) {
    const std::string s(name, len);
    if (s == "auto" || s == "openssl" || s == "ifma52") {
      *out = s == "auto"      ? vigil::Arithmetic::kAuto
             : s == "openssl" ? vigil::Arithmetic::kOpenSsl
                              : vigil::Arithmetic::kIfma52;
      return true;
    }
  }
  napi_throw_range_error(env, nullptr, "arithmetic must be \"auto\", \"openssl\" or \"ifma52\"");
  return false;
}

// createPass(modulus, challenge, rem, stepDown, k, arithmetic?)
napi_value CreatePass(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[6];
  if (!argsOf(env, info, 5, 6, argv, &argc, "createPass(modulus, challenge, rem, stepDown, k, arithmetic?)")) return nullptr;
  Bn modulus = integerArg(env, argv[0], "modulus", kMaxModulusBytes);
  if (!modulus) return nullptr;
  Bn ell = integerArg(env, argv[1], "challenge", kMaxChallengeBytes);
  if (!ell) return nullptr;
  Bn rem = residueArg(env, argv[2], "rem", kMaxChallengeBytes);
  if (!rem) return nullptr;
  Bn step = residueArg(env, argv[3], "stepDown", kMaxChallengeBytes);
  if (!step) return nullptr;
  if (!BN_is_odd(modulus.get()) || BN_is_one(modulus.get())) {
    napi_throw_range_error(env, nullptr, "modulus must be odd and greater than 1");
    return nullptr;
  }
  if (!BN_is_odd(ell.get()) || BN_is_one(ell.get())) {
    napi_throw_range_error(env, nullptr, "challenge must be odd and greater than 1");
    return nullptr;
  }
  if (BN_ucmp(rem.get(), ell.get()) >= 0 || BN_ucmp(step.get(), ell.get()) >= 0) {
    napi_throw_range_error(env, nullptr, "rem and stepDown must be below the challenge");
    return nullptr;
  }
  double k = 0;
  napi_valuetype kt;
  if (napi_typeof(env, argv[4], &kt) != napi_ok || kt != napi_number ||
      napi_get_value_double(env, argv[4], &k) != napi_ok || !(k >= 1) ||
      k > vigil::BucketPass::kMaxBucketBits || k != static_cast<double>(static_cast<unsigned>(k))) {
    napi_throw_range_error(env, nullptr, "k must be an integer in 1..20");
    return nullptr;
  }
  vigil::Arithmetic arithmetic = vigil::Arithmetic::kAuto;
  if (argc == 6 && !arithmeticArg(env, argv[5], &arithmetic)) return nullptr;
  auto pass = std::make_unique<Pass>();
  pass->impl = std::make_unique<vigil::BucketPass>(modulus.get(), ell.get(), rem.get(), step.get(),
                                                    static_cast<unsigned>(k), arithmetic);
  if (!pass->impl->error().empty()) {
    napi_throw_error(env, nullptr, pass->impl->error().c_str());
    return nullptr;
  }
  napi_value external;
  if (throwIfPending(env, napi_create_external(env, pass.get(), finalizePass, nullptr, &external),
                     "cannot create the pass"))
    return nullptr;
  pass.release();
  if (throwIfPending(env, napi_type_tag_object(env, external, &kPassTag), "cannot tag the pass"))
    return nullptr;
  return external;
}

// feedPass(pass, elements): elements is a whole number of modulus-sized big-endian elements.
napi_value FeedPass(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[2];
  if (!argsOf(env, info, 2, 2, argv, &argc, "feedPass(pass, elements)")) return nullptr;
  Pass* pass = passArg(env, argv[0]);
  if (!pass) return nullptr;
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!bytesArg(env, argv[1], "elements", &data, &len)) return nullptr;
  const size_t size = pass->impl->elementBytes();
  if (len % size != 0) {
    napi_throw_range_error(
        env, nullptr,
        ("elements must be a multiple of " + std::to_string(size) + " bytes").c_str());
    return nullptr;
  }
  size_t bad = 0;
  if (!pass->impl->feed(data, len / size, &bad)) {
    std::string msg = pass->impl->error();
    const bool malformed = msg.rfind("element", 0) == 0;
    if (malformed) msg = "checkpoint " + std::to_string(bad) + " of this batch: " + msg;
    napi_throw_error(env, malformed ? "VDF_MALFORMED" : nullptr, msg.c_str());
    return nullptr;
  }
  return nullptr;
}

// finishPass(pass) -> Uint8Array (S as a residue mod N) | null (every digit was zero)
napi_value FinishPass(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[1];
  if (!argsOf(env, info, 1, 1, argv, &argc, "finishPass(pass)")) return nullptr;
  Pass* pass = passArg(env, argv[0]);
  if (!pass) return nullptr;
  const size_t size = pass->impl->elementBytes();
  void* raw = nullptr;
  napi_value buffer;
  if (throwIfPending(env, napi_create_buffer(env, size, &raw, &buffer), "out of memory"))
    return nullptr;
  bool empty = false;
  if (!pass->impl->finish(static_cast<uint8_t*>(raw), &empty)) {
    napi_throw_error(env, nullptr, pass->impl->error().c_str());
    return nullptr;
  }
  if (empty) {
    napi_value nul;
    napi_get_null(env, &nul);
    return nul;
  }
  return buffer;
}

// A whole number in [min, max] (max <= 2^53).
bool wholeArg(napi_env env, napi_value v, const char* name, double min, double max, uint64_t* out) {
  napi_valuetype t;
  double d = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_double(env, v, &d) != napi_ok || !(d >= min) || !(d <= max) ||
      d != static_cast<double>(static_cast<uint64_t>(d))) {
    napi_throw_range_error(env, nullptr,
                           (std::string(name) + " must be a whole number in " +
                            std::to_string(static_cast<uint64_t>(min)) + ".." +
                            std::to_string(static_cast<uint64_t>(max)))
                               .c_str());
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

constexpr double kMaxSafe = 9007199254740992.0;  // 2^53
constexpr double kMaxChainSquarings = 1 << 24;
constexpr uint64_t kMaxChainRecords = 1 << 16;

// offset, count and interval of a chain call (argv[0..2]), with the records it would return
// bounded.
bool chainArgs(napi_env env, const napi_value* argv, uint64_t* offset, uint64_t* count,
               uint64_t* interval) {
  if (!wholeArg(env, argv[0], "offset", 0, kMaxSafe, offset) ||
      !wholeArg(env, argv[1], "count", 1, kMaxChainSquarings, count) ||
      !wholeArg(env, argv[2], "interval", 1, kMaxSafe, interval))
    return false;
  if (*count / *interval > kMaxChainRecords) {
    napi_throw_range_error(env, nullptr, "more than 65536 checkpoints in one call");
    return false;
  }
  return true;
}

napi_value bufferOf(napi_env env, const uint8_t* data, size_t size) {
  void* raw = nullptr;
  napi_value buffer;
  if (throwIfPending(env, napi_create_buffer_copy(env, size, data, &raw, &buffer),
                     "out of memory"))
    return nullptr;
  return buffer;
}

// squareChain(modulus, x, offset, count, interval) -> Uint8Array: the canonical elements after
// each squaring i with (offset + i) % interval == 0, then the one after `count` squarings.
napi_value SquareChain(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[5];
  if (!argsOf(env, info, 5, 5, argv, &argc, "squareChain(modulus, x, offset, count, interval)")) return nullptr;
  Bn modulus = integerArg(env, argv[0], "modulus", kMaxModulusBytes);
  if (!modulus) return nullptr;
  if (!BN_is_odd(modulus.get()) || BN_is_one(modulus.get())) {
    napi_throw_range_error(env, nullptr, "modulus must be odd and greater than 1");
    return nullptr;
  }
  const size_t len = static_cast<size_t>(BN_num_bytes(modulus.get()));
  const uint8_t* x = nullptr;
  size_t xLen = 0;
  if (!bytesArg(env, argv[1], "x", &x, &xLen)) return nullptr;
  Bn xValue(xLen == len ? BN_bin2bn(x, static_cast<int>(xLen), nullptr) : nullptr);
  if (!xValue || BN_is_zero(xValue.get()) || BN_ucmp(xValue.get(), modulus.get()) >= 0) {
    napi_throw_range_error(
        env, nullptr, ("x must be " + std::to_string(len) + " bytes holding 0 < x < N").c_str());
    return nullptr;
  }
  uint64_t offset = 0, count = 0, interval = 0;
  if (!chainArgs(env, argv + 2, &offset, &count, &interval)) return nullptr;
  std::vector<uint8_t> out;
  out.reserve((count / interval + 2) * len);
  std::string error;
  if (!vigil::squareChain(modulus.get(), x, len, offset, count, interval, &out, &error)) {
    napi_throw_error(env, nullptr, error.c_str());
    return nullptr;
  }
  return bufferOf(env, out.data(), out.size());
}

constexpr size_t kMaxDiscriminantBytes = 128;
constexpr size_t kMaxExponentBytes = 1024;
constexpr uint32_t kMaxBases = 8;

// D = -|discriminant| (|D| ≡ 3 mod 4, at most 1024 bits).
bool classDiscriminant(napi_env env, napi_value dv, vigil::cg::Int* D) {
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (!bytesArg(env, dv, "discriminant", &bytes, &len)) return false;
  if (len == 0 || len > kMaxDiscriminantBytes || bytes[0] == 0 || (bytes[len - 1] & 3) != 3 ||
      !vigil::cg::fromBytes(*D, bytes, len, 16)) {
    napi_throw_range_error(env, nullptr,
                           "discriminant must be |D| as 1..128 big-endian bytes without a leading "
                           "zero, |D| ≡ 3 (mod 4)");
    return false;
  }
  D->negate();
  return true;
}

// D as classDiscriminant, and NUDUPL's bound L (at most 512 bits).
bool classParams(napi_env env, napi_value dv, napi_value lv, vigil::cg::Int* D,
                 vigil::cg::Int* L) {
  if (!classDiscriminant(env, dv, D)) return false;
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (!bytesArg(env, lv, "bound", &bytes, &len)) return false;
  if (len == 0 || len > 64 || bytes[0] == 0 || !vigil::cg::fromBytes(*L, bytes, len, 8)) {
    napi_throw_range_error(env, nullptr,
                           "bound must be 1..64 big-endian bytes without a leading zero");
    return false;
  }
  return true;
}

// One reduced-form record (class_form.h) of discriminant D.
bool formRecord(napi_env env, const uint8_t* bytes, const vigil::cg::Int& D,
                vigil::cg::Form* form) {
  std::string error;
  if (!vigil::cg::formFromRecord(bytes, D, form, &error)) {
    napi_throw_range_error(env, nullptr, error.c_str());
    return false;
  }
  return true;
}

bool formArg(napi_env env, napi_value v, const char* name, const vigil::cg::Int& D,
             vigil::cg::Form* form) {
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (!bytesArg(env, v, name, &bytes, &len)) return false;
  if (len != vigil::cg::kFormRecordBytes) {
    napi_throw_range_error(env, nullptr,
                           (std::string(name) + " must be " +
                            std::to_string(vigil::cg::kFormRecordBytes) + " bytes")
                               .c_str());
    return false;
  }
  return formRecord(env, bytes, D, form);
}

napi_value recordValue(napi_env env, const vigil::cg::Form& f) {
  uint8_t record[vigil::cg::kFormRecordBytes];
  if (!vigil::cg::formToRecord(f, record)) {
    napi_throw_error(env, nullptr, "a reduced form does not fit 512 bits");
    return nullptr;
  }
  return bufferOf(env, record, sizeof(record));
}

// classMul(discriminant, bound, f, g) -> record of the reduced f·g.
napi_value ClassMul(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[4];
  if (!argsOf(env, info, 4, 4, argv, &argc, "classMul(discriminant, bound, f, g)"))
    return nullptr;
  vigil::cg::Int D, L;
  vigil::cg::Form f, g, out;
  if (!classParams(env, argv[0], argv[1], &D, &L) || !formArg(env, argv[2], "f", D, &f) ||
      !formArg(env, argv[3], "g", D, &g))
    return nullptr;
  vigil::cg::nucomp(out, f, g, L);
  return recordValue(env, out);
}

// classMultiExp(discriminant, bound, bases, exponents) -> record of the reduced
// ∏ bases[i]^exponents[i]: bases n records back to back (1 <= n <= 8), exponents an array of n
// big-endian Uint8Arrays (at most 1024 bytes each).
napi_value ClassMultiExp(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[4];
  if (!argsOf(env, info, 4, 4, argv, &argc, "classMultiExp(discriminant, bound, bases, exponents)"))
    return nullptr;
  vigil::cg::Int D, L;
  if (!classParams(env, argv[0], argv[1], &D, &L)) return nullptr;
  const uint8_t* bytes = nullptr;
  size_t len = 0;
  if (!bytesArg(env, argv[2], "bases", &bytes, &len)) return nullptr;
  const size_t n = len / vigil::cg::kFormRecordBytes;
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[3], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, argv[3], &count) != napi_ok || len % vigil::cg::kFormRecordBytes != 0 ||
      n == 0 || n > kMaxBases || count != n) {
    napi_throw_range_error(env, nullptr,
                           "bases must be 1..8 records and exponents an array of as many");
    return nullptr;
  }
  std::vector<vigil::cg::Form> bases(n);
  std::vector<std::vector<uint8_t>> exps(n);
  for (size_t i = 0; i < n; i++) {
    if (!formRecord(env, bytes + i * vigil::cg::kFormRecordBytes, D, &bases[i])) return nullptr;
    napi_value e;
    const uint8_t* eb = nullptr;
    size_t el = 0;
    if (throwIfPending(env, napi_get_element(env, argv[3], static_cast<uint32_t>(i), &e),
                       "bad exponents") ||
        !bytesArg(env, e, "exponent", &eb, &el))
      return nullptr;
    if (el > kMaxExponentBytes) {
      napi_throw_range_error(env, nullptr, "an exponent is longer than 1024 bytes");
      return nullptr;
    }
    exps[i].assign(eb, eb + el);
  }
  // The identity (1, 1, (1 - D)/4) for an all-zero exponent list.
  vigil::cg::Form identity, out;
  identity.a.setU(1);
  identity.b.setU(1);
  vigil::cg::Int one, four;
  one.setU(1);
  four.setU(4);
  vigil::cg::sub(one, one, D);
  vigil::cg::tdivQR(&identity.c, nullptr, one, four);
  vigil::cg::multiExp(out, bases.data(), exps, identity, L);
  return recordValue(env, out);
}

// classSquareChain(discriminant, bound, form, offset, count, interval) -> Uint8Array: D = -|D|
// from `discriminant` (|D| ≡ 3 mod 4, at most 1024 bits), L = `bound` (NUDUPL's partial bound,
// at most 512 bits), `form` one reduced-form record (class_form.h); returns the records after
// each squaring i with (offset + i) % interval == 0, then the one after `count` squarings.
napi_value ClassSquareChain(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[6];
  if (!argsOf(env, info, 6, 6, argv, &argc,
              "classSquareChain(discriminant, bound, form, offset, count, interval)"))
    return nullptr;
  vigil::cg::Int D, L;
  if (!classParams(env, argv[0], argv[1], &D, &L)) return nullptr;
  vigil::cg::Form form;
  std::string error;
  if (!formArg(env, argv[2], "form", D, &form)) return nullptr;
  uint64_t offset = 0, count = 0, interval = 0;
  if (!chainArgs(env, argv + 3, &offset, &count, &interval)) return nullptr;
  std::vector<uint8_t> out;
  out.reserve((count / interval + 2) * vigil::cg::kFormRecordBytes);
  if (!vigil::cg::squareChain(L, form, offset, count, interval, &out, &error)) {
    napi_throw_error(env, nullptr, error.c_str());
    return nullptr;
  }
  return bufferOf(env, out.data(), out.size());
}

constexpr napi_type_tag kClassProverTag = {0x76696769'6c636c73ULL, 0x70726f76'65723031ULL};

struct ClassProverHandle {
  std::unique_ptr<vigil::cg::ClassProver> impl;
};

void finalizeClassProver(napi_env, void* data, void*) {
  delete static_cast<ClassProverHandle*>(data);
}

ClassProverHandle* classProverArg(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void* data = nullptr;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, &kClassProverTag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "prover must be a value returned by classProver");
    return nullptr;
  }
  return static_cast<ClassProverHandle*>(data);
}

// The i-th element of a JS array, or a TypeError.
bool elementOf(napi_env env, napi_value array, uint32_t i, napi_value* out) {
  return !throwIfPending(env, napi_get_element(env, array, i, out), "bad plan arrays");
}

constexpr uint32_t kMaxClassPasses = 4096;
constexpr double kMaxPassCheckpoints = 1 << 24;

// classProver(discriminant, bound, challenge, k, rems, stepDowns, counts): one sweep's bucket
// passes; rems and stepDowns arrays of big-endian Uint8Arrays (< challenge), counts the
// checkpoints each pass reads (1..2^24); 1..4096 passes, 1 <= k <= 16.
napi_value ClassProverCreate(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[7];
  if (!argsOf(env, info, 7, 7, argv, &argc,
              "classProver(discriminant, bound, challenge, k, rems, stepDowns, counts)"))
    return nullptr;
  vigil::cg::Int D, L;
  if (!classParams(env, argv[0], argv[1], &D, &L)) return nullptr;
  Bn ell = integerArg(env, argv[2], "challenge", kMaxChallengeBytes);
  if (!ell) return nullptr;
  if (!BN_is_odd(ell.get()) || BN_is_one(ell.get())) {
    napi_throw_range_error(env, nullptr, "challenge must be odd and greater than 1");
    return nullptr;
  }
  uint64_t k = 0;
  if (!wholeArg(env, argv[3], "k", 1, vigil::cg::ClassBucketPass::kMaxBucketBits, &k))
    return nullptr;
  uint32_t n = 0, n2 = 0, n3 = 0;
  bool a1 = false, a2 = false, a3 = false;
  if (napi_is_array(env, argv[4], &a1) != napi_ok || napi_is_array(env, argv[5], &a2) != napi_ok ||
      napi_is_array(env, argv[6], &a3) != napi_ok || !a1 || !a2 || !a3 ||
      napi_get_array_length(env, argv[4], &n) != napi_ok ||
      napi_get_array_length(env, argv[5], &n2) != napi_ok ||
      napi_get_array_length(env, argv[6], &n3) != napi_ok || n == 0 || n > kMaxClassPasses ||
      n2 != n || n3 != n) {
    napi_throw_range_error(env, nullptr,
                           "rems, stepDowns and counts must be arrays of 1..4096 passes each");
    return nullptr;
  }
  std::vector<Bn> owned;
  std::vector<vigil::cg::PassPlan> plans;
  for (uint32_t i = 0; i < n; i++) {
    napi_value rv, sv, cv;
    if (!elementOf(env, argv[4], i, &rv) || !elementOf(env, argv[5], i, &sv) ||
        !elementOf(env, argv[6], i, &cv))
      return nullptr;
    Bn rem = residueArg(env, rv, "rem", kMaxChallengeBytes);
    if (!rem) return nullptr;
    Bn step = residueArg(env, sv, "stepDown", kMaxChallengeBytes);
    if (!step) return nullptr;
    if (BN_ucmp(rem.get(), ell.get()) >= 0 || BN_ucmp(step.get(), ell.get()) >= 0) {
      napi_throw_range_error(env, nullptr, "rem and stepDown must be below the challenge");
      return nullptr;
    }
    uint64_t count = 0;
    if (!wholeArg(env, cv, "count", 1, kMaxPassCheckpoints, &count)) return nullptr;
    plans.push_back({rem.get(), step.get(), count});
    owned.push_back(std::move(rem));
    owned.push_back(std::move(step));
  }
  auto handle = std::make_unique<ClassProverHandle>();
  handle->impl = std::make_unique<vigil::cg::ClassProver>(D, L, ell.get(),
                                                           static_cast<unsigned>(k), plans);
  if (!handle->impl->error().empty()) {
    napi_throw_error(env, nullptr, handle->impl->error().c_str());
    return nullptr;
  }
  napi_value external;
  if (throwIfPending(env,
                     napi_create_external(env, handle.get(), finalizeClassProver, nullptr, &external),
                     "cannot create the prover"))
    return nullptr;
  handle.release();
  if (throwIfPending(env, napi_type_tag_object(env, external, &kClassProverTag),
                     "cannot tag the prover"))
    return nullptr;
  return external;
}

// Bytes holding a whole number of `size`-byte elements.
bool elementsArg(napi_env env, napi_value v, const char* name, size_t size, const uint8_t** data,
                 size_t* count) {
  size_t len = 0;
  if (!bytesArg(env, v, name, data, &len)) return false;
  if (len % size != 0) {
    napi_throw_range_error(
        env, nullptr,
        (std::string(name) + " must be a multiple of " + std::to_string(size) + " bytes").c_str());
    return false;
  }
  *count = len / size;
  return true;
}

// A malformed element of a batch: VDF_MALFORMED naming its index.
void throwMalformed(napi_env env, size_t index, const std::string& why) {
  napi_throw_error(env, "VDF_MALFORMED",
                   ("checkpoint " + std::to_string(index) + " of this batch: " + why).c_str());
}

// classProverFeed(prover, checkpoints): BQFC encodings (100 bytes each), in order.
napi_value ClassProverFeed(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[2];
  if (!argsOf(env, info, 2, 2, argv, &argc, "classProverFeed(prover, checkpoints)"))
    return nullptr;
  ClassProverHandle* prover = classProverArg(env, argv[0]);
  if (!prover) return nullptr;
  const uint8_t* data = nullptr;
  size_t count = 0;
  if (!elementsArg(env, argv[1], "checkpoints", vigil::cg::kBqfcBytes, &data, &count))
    return nullptr;
  size_t bad = 0;
  if (!prover->impl->feed(data, count, &bad)) {
    const std::string& msg = prover->impl->error();
    if (msg.rfind("element: ", 0) == 0)
      throwMalformed(env, bad, msg.substr(9));
    else
      napi_throw_error(env, nullptr, msg.c_str());
  }
  return nullptr;
}

// classProverFinish(prover) -> (record | null)[]: S of each pass (null: the identity).
napi_value ClassProverFinish(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[1];
  if (!argsOf(env, info, 1, 1, argv, &argc, "classProverFinish(prover)")) return nullptr;
  ClassProverHandle* prover = classProverArg(env, argv[0]);
  if (!prover) return nullptr;
  std::vector<vigil::cg::Form> sums;
  std::vector<uint8_t> empty;
  if (!prover->impl->finish(&sums, &empty)) {
    napi_throw_error(env, nullptr, prover->impl->error().c_str());
    return nullptr;
  }
  napi_value out;
  if (throwIfPending(env, napi_create_array_with_length(env, sums.size(), &out), "out of memory"))
    return nullptr;
  for (size_t i = 0; i < sums.size(); i++) {
    napi_value v;
    if (empty[i]) {
      napi_get_null(env, &v);
    } else {
      v = recordValue(env, sums[i]);
      if (!v) return nullptr;
    }
    if (throwIfPending(env, napi_set_element(env, out, static_cast<uint32_t>(i), v),
                       "out of memory"))
      return nullptr;
  }
  return out;
}

constexpr size_t kMaxCodecElements = 1 << 16;

// The arguments of classEncode/classDecode: D, then at most 65536 elements of `size` bytes.
bool codecArgs(napi_env env, napi_callback_info info, const char* usage, const char* name,
               size_t size, vigil::cg::Int* D, const uint8_t** data, size_t* count) {
  size_t argc = 0;
  napi_value argv[2];
  if (!argsOf(env, info, 2, 2, argv, &argc, usage) || !classDiscriminant(env, argv[0], D) ||
      !elementsArg(env, argv[1], name, size, data, count))
    return false;
  if (*count > kMaxCodecElements) {
    napi_throw_range_error(env, nullptr,
                           (std::string("more than 65536 ") + name + " in one call").c_str());
    return false;
  }
  return true;
}

// classEncode(discriminant, records) -> the BQFC encodings (100 bytes each) of reduced-form
// records (at most 65536).
napi_value ClassEncode(napi_env env, napi_callback_info info) {
  vigil::cg::Int D;
  const uint8_t* data = nullptr;
  size_t count = 0;
  if (!codecArgs(env, info, "classEncode(discriminant, records)", "records",
                 vigil::cg::kFormRecordBytes, &D, &data, &count))
    return nullptr;
  std::vector<uint8_t> out(count * vigil::cg::kBqfcBytes);
  vigil::cg::Form f;
  for (size_t i = 0; i < count; i++) {
    const char* why = nullptr;
    if (!formRecord(env, data + i * vigil::cg::kFormRecordBytes, D, &f)) return nullptr;
    if (!vigil::cg::encodeBqfc(f, out.data() + i * vigil::cg::kBqfcBytes, &why)) {
      napi_throw_error(env, "VDF_MALFORMED", why);
      return nullptr;
    }
  }
  return bufferOf(env, out.data(), out.size());
}

// classDecode(discriminant, encodings) -> the records of the reduced forms (strict: only the
// canonical encoding of a form of D is accepted; VDF_MALFORMED otherwise), at most 65536.
napi_value ClassDecode(napi_env env, napi_callback_info info) {
  vigil::cg::Int D;
  const uint8_t* data = nullptr;
  size_t count = 0;
  if (!codecArgs(env, info, "classDecode(discriminant, encodings)", "encodings",
                 vigil::cg::kBqfcBytes, &D, &data, &count))
    return nullptr;
  std::vector<uint8_t> out(count * vigil::cg::kFormRecordBytes);
  vigil::cg::Form f;
  for (size_t i = 0; i < count; i++) {
    const char* why = nullptr;
    if (!vigil::cg::decodeBqfc(data + i * vigil::cg::kBqfcBytes, D, &f, &why)) {
      throwMalformed(env, i, why);
      return nullptr;
    }
    if (!vigil::cg::formToRecord(f, out.data() + i * vigil::cg::kFormRecordBytes)) {
      napi_throw_error(env, nullptr, "a reduced form does not fit 512 bits");
      return nullptr;
    }
  }
  return bufferOf(env, out.data(), out.size());
}

// hashPrime(seed, bits, setBits) -> bits/8 big-endian bytes of HashPrime(seed, bits, setBits)
// (native/hash_prime.h), or null when a seed of at most 6 bytes wraps its counter without a
// prime. seed non-empty; bits a multiple of 8 in 8..4096; setBits an array of bit indices below
// bits.
napi_value HashPrime(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[3];
  if (!argsOf(env, info, 3, 3, argv, &argc, "hashPrime(seed, bits, setBits)")) return nullptr;
  const uint8_t* seed = nullptr;
  size_t seedLen = 0;
  if (!bytesArg(env, argv[0], "seed", &seed, &seedLen)) return nullptr;
  if (seedLen == 0) {
    napi_throw_range_error(env, nullptr, "seed must not be empty");
    return nullptr;
  }
  uint64_t bits = 0;
  if (!wholeArg(env, argv[1], "bits", 8, vigil::primes::kMaxHashPrimeBits, &bits)) return nullptr;
  if (bits % 8 != 0) {
    napi_throw_range_error(env, nullptr, "bits must be a multiple of 8");
    return nullptr;
  }
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[2], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, argv[2], &count) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setBits must be an array");
    return nullptr;
  }
  std::vector<unsigned> setBits(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value v;
    uint64_t b = 0;
    if (!elementOf(env, argv[2], i, &v) || !wholeArg(env, v, "a set bit", 0, bits - 1, &b))
      return nullptr;
    setBits[i] = static_cast<unsigned>(b);
  }
  std::vector<uint8_t> prime;
  std::string error;
  switch (vigil::primes::hashPrime(seed, seedLen, static_cast<unsigned>(bits), setBits, &prime,
                                   &error)) {
    case vigil::primes::HashPrimeResult::kFound:
      return bufferOf(env, prime.data(), prime.size());
    case vigil::primes::HashPrimeResult::kCounterWrapped: {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    case vigil::primes::HashPrimeResult::kFailed:
      break;
  }
  napi_throw_error(env, nullptr, error.c_str());
  return nullptr;
}

// bpswProbablePrime(n) -> whether odd n > 1 (big-endian, at most 512 bytes) passes HashPrime's
// BPSW core (native/bpsw.h) with no trial division: for tests against vdf/primes/bpsw.ts on
// pseudoprimes, which random HashPrime seeds never reach.
napi_value BpswProbablePrime(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[1];
  if (!argsOf(env, info, 1, 1, argv, &argc, "bpswProbablePrime(n)")) return nullptr;
  Bn n = integerArg(env, argv[0], "n", vigil::primes::kMaxHashPrimeBits / 8);
  if (!n) return nullptr;
  if (!BN_is_odd(n.get()) || BN_is_one(n.get())) {
    napi_throw_range_error(env, nullptr, "n must be odd and greater than 1");
    return nullptr;
  }
  std::unique_ptr<BN_CTX, void (*)(BN_CTX*)> ctx(BN_CTX_new(), BN_CTX_free);
  const vigil::primes::Verdict verdict =
      ctx ? vigil::primes::bpsw(n.get(), ctx.get()) : vigil::primes::Verdict::kFailed;
  if (verdict == vigil::primes::Verdict::kFailed) {
    napi_throw_error(env, nullptr, "OpenSSL failed in the BPSW test");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, verdict == vigil::primes::Verdict::kProbablePrime, &result);
  return result;
}

// passArithmetic(pass) -> "openssl" | "ifma52" (the arithmetic the pass chose)
napi_value PassArithmetic(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value argv[1];
  if (!argsOf(env, info, 1, 1, argv, &argc, "passArithmetic(pass)")) return nullptr;
  Pass* pass = passArg(env, argv[0]);
  if (!pass) return nullptr;
  napi_value name;
  if (throwIfPending(env, napi_create_string_utf8(env, pass->impl->arithmetic(), NAPI_AUTO_LENGTH, &name),
                     "out of memory"))
    return nullptr;
  return name;
}

// ifma52Supported() -> boolean (this build and this CPU)
napi_value Ifma52Supported(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, vigil::ifma52Supported(), &result);
  return result;
}

// C++ exceptions (bad_alloc) must not cross into Node: they become JS errors.
template <napi_value (*F)(napi_env, napi_callback_info)>
napi_value Guarded(napi_env env, napi_callback_info info) {
  try {
    return F(env, info);
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (...) {
    napi_throw_error(env, nullptr, "native VDF pass failed");
  }
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"createPass", nullptr, Guarded<CreatePass>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"feedPass", nullptr, Guarded<FeedPass>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"finishPass", nullptr, Guarded<FinishPass>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"squareChain", nullptr, Guarded<SquareChain>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classSquareChain", nullptr, Guarded<ClassSquareChain>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classMul", nullptr, Guarded<ClassMul>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classMultiExp", nullptr, Guarded<ClassMultiExp>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classProver", nullptr, Guarded<ClassProverCreate>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classProverFeed", nullptr, Guarded<ClassProverFeed>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classProverFinish", nullptr, Guarded<ClassProverFinish>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classEncode", nullptr, Guarded<ClassEncode>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"classDecode", nullptr, Guarded<ClassDecode>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"hashPrime", nullptr, Guarded<HashPrime>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"bpswProbablePrime", nullptr, Guarded<BpswProbablePrime>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"passArithmetic", nullptr, Guarded<PassArithmetic>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"ifma52Supported", nullptr, Guarded<Ifma52Supported>, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok)
    return nullptr;
  return exports;
}
