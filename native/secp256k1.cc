// N-API face of the system's libsecp256k1 (vault/protocol/native-secp256k1.ts loads it): the three
// point operations on public data that a deposit's share proof spends its time in (k·P, A + B,
// P + t·G), natively instead of in tiny-secp256k1's WebAssembly build. Built only where the
// library is installed (Debian: libsecp256k1-dev); elsewhere the addon is not built and the
// WebAssembly path stays. Every argument's length is checked before the library sees it; a point
// off the curve or a scalar out of range is a JS exception, a sum at infinity is null.
#include <node_api.h>
#include <secp256k1.h>

#include <cstdint>
#include <cstring>

#include "napi_status.h"

namespace {

secp256k1_context* ctx = nullptr;

// The group order n, big-endian: a tweak must be below it.
constexpr uint8_t kOrder[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

bool bytesArg(napi_env env, napi_value v, size_t want, const uint8_t** out, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!is || napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array || length != want) {
    napi_throw_type_error(env, nullptr, what);
    return false;
  }
  *out = static_cast<const uint8_t*>(data);
  return true;
}

bool pointArg(napi_env env, napi_value v, secp256k1_pubkey* out) {
  const uint8_t* bytes = nullptr;
  if (!bytesArg(env, v, 33, &bytes, "expected a 33-byte compressed point")) return false;
  if (!secp256k1_ec_pubkey_parse(ctx, out, bytes, 33)) {
    napi_throw_error(env, nullptr, "not a point on secp256k1");
    return false;
  }
  return true;
}

// A scalar in [0, n) (zero allowed: the caller decides what zero means).
bool scalarArg(napi_env env, napi_value v, const uint8_t** out) {
  if (!bytesArg(env, v, 32, out, "expected a 32-byte scalar")) return false;
  if (std::memcmp(*out, kOrder, 32) >= 0) {
    napi_throw_range_error(env, nullptr, "scalar out of range");
    return false;
  }
  return true;
}

napi_value compressed(napi_env env, const secp256k1_pubkey* p) {
  uint8_t bytes[33];
  size_t length = sizeof bytes;
  secp256k1_ec_pubkey_serialize(ctx, bytes, &length, p, SECP256K1_EC_COMPRESSED);
  // a plain Uint8Array, as tiny-secp256k1 answers (not a Buffer)
  void* data = nullptr;
  napi_value buffer, array;
  if (vigil::throwIfPending(env, napi_create_arraybuffer(env, length, &data, &buffer),
                            "napi_create_arraybuffer"))
    return nullptr;
  std::memcpy(data, bytes, length);
  if (vigil::throwIfPending(
          env, napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array),
          "napi_create_typedarray"))
    return nullptr;
  return array;
}

napi_value null(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

bool args(napi_env env, napi_callback_info info, napi_value* argv, size_t want) {
  size_t argc = want;
  if (vigil::throwIfPending(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr),
                            "napi_get_cb_info"))
    return false;
  if (argc != want) {
    napi_throw_type_error(env, nullptr, "wrong number of arguments");
    return false;
  }
  return true;
}

// (point, scalar): the arguments of k·P and P + t·G.
bool pointAndScalarArgs(napi_env env, napi_callback_info info, secp256k1_pubkey* p,
                        const uint8_t** k) {
  napi_value argv[2];
  return args(env, info, argv, 2) && pointArg(env, argv[0], p) && scalarArg(env, argv[1], k);
}

// pointMultiply(p, k): k·P for k in [1, n).
napi_value PointMultiply(napi_env env, napi_callback_info info) {
  secp256k1_pubkey p;
  const uint8_t* k = nullptr;
  if (!pointAndScalarArgs(env, info, &p, &k)) return nullptr;
  if (!secp256k1_ec_pubkey_tweak_mul(ctx, &p, k)) {
    napi_throw_range_error(env, nullptr, "scalar out of range");
    return nullptr;
  }
  return compressed(env, &p);
}

// pointAdd(a, b): A + B, null at infinity.
napi_value PointAdd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  secp256k1_pubkey a, b, sum;
  if (!args(env, info, argv, 2) || !pointArg(env, argv[0], &a) || !pointArg(env, argv[1], &b))
    return nullptr;
  const secp256k1_pubkey* both[2] = {&a, &b};
  if (!secp256k1_ec_pubkey_combine(ctx, &sum, both, 2)) return null(env);
  return compressed(env, &sum);
}

// pointAddScalar(p, t): P + t·G for t in [0, n), null at infinity.
napi_value PointAddScalar(napi_env env, napi_callback_info info) {
  secp256k1_pubkey p;
  const uint8_t* t = nullptr;
  if (!pointAndScalarArgs(env, info, &p, &t)) return nullptr;
  // t < n was checked, so the library refuses only a sum at infinity
  if (!secp256k1_ec_pubkey_tweak_add(ctx, &p, t)) return null(env);
  return compressed(env, &p);
}

napi_value Init(napi_env env, napi_value exports) {
  if (ctx == nullptr) ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
  if (ctx == nullptr) {
    napi_throw_error(env, nullptr, "secp256k1_context_create failed");
    return nullptr;
  }
  napi_property_descriptor props[] = {
      {"pointMultiply", nullptr, PointMultiply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pointAdd", nullptr, PointAdd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pointAddScalar", nullptr, PointAddScalar, nullptr, nullptr, nullptr, napi_default,
       nullptr},
  };
  if (vigil::throwIfPending(env, napi_define_properties(env, exports, 3, props),
                            "napi_define_properties"))
    return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
