// N-API face of RFC 8439 ChaCha20-Poly1305 through the OpenSSL inside Node (cluster/net/aead.ts
// loads it). node:crypto builds a Cipheriv stream object, a native handle and two Buffers per
// message; on a Raft write every log segment, applied index and peer message is sealed or opened,
// and that per-call machinery (not the cipher) cost ~20 µs a value and kept the young-generation
// collector busy with weak handles. Here one EVP context per direction is keyed afresh for each
// message and the output goes straight into a caller's Uint8Array: no allocation per call.
//
//   seal(key 32, nonce 12, aad, plaintext, out, offset): out[offset ..] = ciphertext ‖ tag (16)
//   open(key 32, nonce 12, aad, ciphertext ‖ tag, out): true and out = plaintext, or false
//
// Every length is checked before the cipher runs; a failed open zeroes what it wrote.
#include <node_api.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

#include "napi_status.h"

namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
// Raft messages and stored values stay far below this; EVP lengths are int.
constexpr size_t kMaxBytes = size_t{1} << 30;

struct Bytes {
  uint8_t* data = nullptr;
  size_t length = 0;
};

bool typedArray(napi_env env, napi_value v, Bytes* out, const char* what) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    napi_throw_type_error(env, "AEAD_ARGUMENT", what);
    return false;
  }
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, &out->length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "AEAD_ARGUMENT", what);
    return false;
  }
  out->data = static_cast<uint8_t*>(data);
  return true;
}

// One context per direction and thread, keyed per message: EVP_CipherInit_ex with a null cipher
// keeps the fetched ChaCha20-Poly1305 implementation and only resets key, nonce and state.
EVP_CIPHER_CTX* context(bool encrypt) {
  static thread_local EVP_CIPHER_CTX* contexts[2] = {nullptr, nullptr};
  EVP_CIPHER_CTX*& ctx = contexts[encrypt ? 1 : 0];
  if (ctx == nullptr) {
    ctx = EVP_CIPHER_CTX_new();
    if (ctx != nullptr &&
        EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr,
                          encrypt ? 1 : 0) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      ctx = nullptr;
    }
  }
  return ctx;
}

// The checks both directions share: key, nonce and AAD in place, lengths in range.
bool commonArgs(napi_env env, napi_value* argv, Bytes* key, Bytes* nonce, Bytes* aad) {
  if (!typedArray(env, argv[0], key, "key must be a Uint8Array") ||
      !typedArray(env, argv[1], nonce, "nonce must be a Uint8Array") ||
      !typedArray(env, argv[2], aad, "aad must be a Uint8Array"))
    return false;
  if (key->length != kKeyBytes || nonce->length != kNonceBytes || aad->length > kMaxBytes) {
    napi_throw_range_error(env, "AEAD_ARGUMENT", "key must be 32 bytes, nonce 12");
    return false;
  }
  return true;
}

bool absorbAad(EVP_CIPHER_CTX* ctx, const Bytes& aad) {
  int n = 0;
  return aad.length == 0 ||
         EVP_CipherUpdate(ctx, nullptr, &n, aad.data, static_cast<int>(aad.length)) == 1;
}

napi_value Seal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (vigil::throwIfPending(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr),
                            "seal: arguments"))
    return nullptr;
  Bytes key, nonce, aad, plain, out;
  if (argc != 6 || !commonArgs(env, argv, &key, &nonce, &aad) ||
      !typedArray(env, argv[3], &plain, "plaintext must be a Uint8Array") ||
      !typedArray(env, argv[4], &out, "out must be a Uint8Array"))
    return nullptr;
  uint32_t offset = 0;
  if (napi_get_value_uint32(env, argv[5], &offset) != napi_ok || plain.length > kMaxBytes ||
      out.length < offset || out.length - offset < plain.length + kTagBytes) {
    napi_throw_range_error(env, "AEAD_ARGUMENT", "out has no room for ciphertext and tag");
    return nullptr;
  }
  EVP_CIPHER_CTX* ctx = context(true);
  uint8_t* dst = out.data + offset;
  int n = 0, tail = 0;
  if (ctx == nullptr || EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data, nonce.data, 1) != 1 ||
      !absorbAad(ctx, aad) ||
      EVP_CipherUpdate(ctx, dst, &n, plain.data, static_cast<int>(plain.length)) != 1 ||
      EVP_CipherFinal_ex(ctx, dst + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, dst + plain.length) != 1) {
    napi_throw_error(env, "AEAD_FAILED", "ChaCha20-Poly1305 seal failed");
    return nullptr;
  }
  return nullptr;
}

napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (vigil::throwIfPending(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr),
                            "open: arguments"))
    return nullptr;
  Bytes key, nonce, aad, sealed, out;
  if (argc != 5 || !commonArgs(env, argv, &key, &nonce, &aad) ||
      !typedArray(env, argv[3], &sealed, "sealed must be a Uint8Array") ||
      !typedArray(env, argv[4], &out, "out must be a Uint8Array"))
    return nullptr;
  if (sealed.length < kTagBytes || sealed.length > kMaxBytes ||
      out.length != sealed.length - kTagBytes) {
    napi_throw_range_error(env, "AEAD_ARGUMENT", "out must be the sealed length less the tag");
    return nullptr;
  }
  EVP_CIPHER_CTX* ctx = context(false);
  // the tag is copied: EVP may read it after `out` (which could alias `sealed`) is written
  uint8_t tag[kTagBytes];
  std::memcpy(tag, sealed.data + out.length, kTagBytes);
  int n = 0, tail = 0;
  bool ok = ctx != nullptr &&
            EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data, nonce.data, 0) == 1 &&
            absorbAad(ctx, aad) &&
            EVP_CipherUpdate(ctx, out.data, &n, sealed.data, static_cast<int>(out.length)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1 &&
            EVP_CipherFinal_ex(ctx, out.data + n, &tail) == 1;
  if (!ok && out.length > 0) std::memset(out.data, 0, out.length);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"seal", nullptr, Seal, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default_jsproperty, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
