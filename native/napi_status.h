// Shared by the addons: an N-API failure becomes a JS exception unless one is already pending.
#pragma once

#include <node_api.h>

namespace vigil {

inline bool throwIfPending(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return false;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, what);
  return true;
}

}  // namespace vigil
