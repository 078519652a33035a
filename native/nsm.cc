// N-API face of the Nitro Secure Module device (vault/enclave/nsm.ts loads it). One function,
// nsmCall(devicePath, request): open the device, hand it one CBOR request through the raw ioctl,
// return the CBOR response bytes. No CBOR here: encoding and strict decoding live in TypeScript.
// Every argument is checked before any syscall and every failure is a JS exception whose `code`
// is the errno name, so a wrong path or a missing device never crashes the process.
//
// The ABI is Linux's include/uapi/linux/nsm.h (kernel 6.8+, drivers/misc/nsm.c) and the older
// out-of-tree driver that aws-nitro-enclaves-nsm-api's `driver` module talks to: the same magic,
// number, struct and maximum sizes. It is restated below because most build hosts' kernel headers
// predate the uapi file; where the header exists, the restatement is checked against it.
#include <node_api.h>

#include "napi_status.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__linux__)
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/nsm.h>)
#include <linux/nsm.h>
#endif
#endif
#endif

namespace {

// NSM_REQUEST_MAX_SIZE / NSM_RESPONSE_MAX_SIZE: the driver answers EMSGSIZE above the first and
// never writes more than the second.
constexpr size_t kRequestMax = 0x1000;
constexpr size_t kResponseMax = 0x3000;
// Longer paths cannot name a device (PATH_MAX on Linux); refusing them early keeps the copy small.
constexpr size_t kPathMax = 4095;

using vigil::throwIfPending;

// A TypeError or RangeError with a stable `code`, so callers can tell bad arguments from device
// failures without parsing messages.
void throwArgument(napi_env env, bool range, const char* message) {
  napi_value code = nullptr;
  napi_value text = nullptr;
  napi_value error = nullptr;
  napi_create_string_utf8(env, "ERR_NSM_ARGUMENT", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  if (range)
    napi_create_range_error(env, code, text, &error);
  else
    napi_create_type_error(env, code, text, &error);
  napi_throw(env, error);
}

bool pathArg(napi_env env, napi_value v, std::string* path) {
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) {
    throwArgument(env, false, "devicePath must be a string");
    return false;
  }
  size_t length = 0;
  if (throwIfPending(env, napi_get_value_string_utf8(env, v, nullptr, 0, &length), "bad path"))
    return false;
  if (length == 0 || length > kPathMax) {
    throwArgument(env, true, "devicePath must be 1..4095 bytes of UTF-8");
    return false;
  }
  std::vector<char> buffer(length + 1, '\0');
  size_t copied = 0;
  if (throwIfPending(env, napi_get_value_string_utf8(env, v, buffer.data(), buffer.size(), &copied),
                     "bad path"))
    return false;
  // A NUL inside the string would silently shorten the path open() sees.
  if (copied != length || std::strlen(buffer.data()) != length) {
    throwArgument(env, true, "devicePath must not contain NUL characters");
    return false;
  }
  path->assign(buffer.data(), length);
  return true;
}

bool requestArg(napi_env env, napi_value v, const uint8_t** data, size_t* length) {
  bool isTyped = false;
  napi_typedarray_type type = napi_int8_array;
  void* raw = nullptr;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped ||
      napi_get_typedarray_info(env, v, &type, length, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    throwArgument(env, false, "request must be a Uint8Array");
    return false;
  }
  if (*length == 0 || *length > kRequestMax) {
    throwArgument(env, true, "request must be 1..4096 bytes (NSM_REQUEST_MAX_SIZE)");
    return false;
  }
  *data = static_cast<const uint8_t*>(raw);
  return true;
}

#if defined(__linux__)

// struct nsm_iovec / struct nsm_raw: addresses and lengths are __u64 on every architecture, so
// a 32-bit process passes the same 32-byte layout (the driver's compat_ioctl is compat_ptr_ioctl).
struct NsmIovec {
  uint64_t addr;
  uint64_t len;
};
struct NsmRaw {
  NsmIovec request;
  NsmIovec response;
};
static_assert(sizeof(NsmIovec) == 16 && sizeof(NsmRaw) == 32, "nsm_raw is two 16-byte iovecs");

constexpr unsigned long kNsmMagic = 0x0A;
const unsigned long kNsmIoctlRaw = _IOWR(kNsmMagic, 0x0, NsmRaw);
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__)
static_assert(_IOWR(kNsmMagic, 0x0, NsmRaw) == 0xC0200A00UL, "NSM_IOCTL_RAW on asm-generic");
#endif

#if defined(__has_include)
#if __has_include(<linux/nsm.h>)
static_assert(NSM_IOCTL_RAW == _IOWR(kNsmMagic, 0x0, NsmRaw), "NSM_IOCTL_RAW matches uapi");
static_assert(NSM_REQUEST_MAX_SIZE == kRequestMax, "NSM_REQUEST_MAX_SIZE matches uapi");
static_assert(NSM_RESPONSE_MAX_SIZE == kResponseMax, "NSM_RESPONSE_MAX_SIZE matches uapi");
static_assert(sizeof(struct nsm_raw) == sizeof(NsmRaw), "nsm_raw matches uapi");
#endif
#endif

struct ErrnoName {
  int number;
  const char* name;
  const char* text;
};

// The errnos open() and the NSM ioctl can produce; the table (not strerror, whose buffer is
// shared between threads) names them.
const ErrnoName kErrnoNames[] = {
    {EPERM, "EPERM", "operation not permitted"},
    {ENOENT, "ENOENT", "no such file or directory"},
    {EINTR, "EINTR", "interrupted system call"},
    {EIO, "EIO", "input/output error"},
    {ENXIO, "ENXIO", "no such device or address"},
    {EBADF, "EBADF", "bad file descriptor"},
    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    {ENOMEM, "ENOMEM", "out of memory"},
    {EACCES, "EACCES", "permission denied"},
    {EFAULT, "EFAULT", "bad address"},
    {EBUSY, "EBUSY", "device or resource busy"},
    {ENODEV, "ENODEV", "no such device"},
    {ENOTDIR, "ENOTDIR", "not a directory"},
    {EISDIR, "EISDIR", "is a directory"},
    {EINVAL, "EINVAL", "invalid argument"},
    {ENFILE, "ENFILE", "too many open files in system"},
    {EMFILE, "EMFILE", "too many open files"},
    {ENOTTY, "ENOTTY", "inappropriate ioctl for device (not an NSM device)"},
    {ETXTBSY, "ETXTBSY", "text file busy"},
    {EROFS, "EROFS", "read-only file system"},
    {ENAMETOOLONG, "ENAMETOOLONG", "file name too long"},
    {ELOOP, "ELOOP", "too many levels of symbolic links"},
    {ENODATA, "ENODATA", "no data (the NSM answered on the wrong buffer)"},
    {EMSGSIZE, "EMSGSIZE", "message too long"},
    {EOPNOTSUPP, "EOPNOTSUPP", "operation not supported"},
    {ETIMEDOUT, "ETIMEDOUT", "timed out waiting for the NSM"},
};

// An Error like Node's own system errors: code (errno name), errno, syscall, path.
void throwSystem(napi_env env, int number, const char* syscall, const std::string& path) {
  const char* name = "EUNKNOWN";
  std::string text = "errno " + std::to_string(number);
  for (const ErrnoName& entry : kErrnoNames) {
    if (entry.number == number) {
      name = entry.name;
      text = entry.text;
      break;
    }
  }
  std::string message = std::string(syscall) + " " + path + ": " + name + " (" + text + ")";
  napi_value code = nullptr;
  napi_value msg = nullptr;
  napi_value error = nullptr;
  napi_value value = nullptr;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, number, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path.c_str(), path.size(), &value);
  napi_set_named_property(env, error, "path", value);
  napi_throw(env, error);
}

// Closes on every path out, including thrown JS errors.
struct Fd {
  int fd = -1;
  ~Fd() {
    // A close failure after the ioctl returned cannot change the response already received.
    if (fd >= 0) close(fd);
  }
};

napi_value callDevice(napi_env env, const std::string& path, const uint8_t* request,
                      size_t requestLength) {
  Fd device;
  do {
    device.fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
  } while (device.fd < 0 && errno == EINTR);
  if (device.fd < 0) {
    throwSystem(env, errno, "open", path);
    return nullptr;
  }
  // Zeroed so that bytes past a short answer are never taken from an earlier call.
  std::vector<uint8_t> response(kResponseMax, 0);
  NsmRaw raw{};
  raw.request.addr = reinterpret_cast<uintptr_t>(request);
  raw.request.len = requestLength;
  raw.response.addr = reinterpret_cast<uintptr_t>(response.data());
  raw.response.len = response.size();
  // Not retried on EINTR: the NSM may already have acted on the request (e.g. extended a PCR).
  if (ioctl(device.fd, kNsmIoctlRaw, &raw) != 0) {
    throwSystem(env, errno, "ioctl", path);
    return nullptr;
  }
  // The driver writes back min(buffer, answer); anything else means it is not the NSM driver.
  if (raw.response.len == 0 || raw.response.len > response.size()) {
    napi_throw_error(env, "ERR_NSM_RESPONSE",
                     ("ioctl " + path + ": the device reported a response length of " +
                      std::to_string(raw.response.len) + " bytes (expected 1..12288)")
                         .c_str());
    return nullptr;
  }
  napi_value result = nullptr;
  void* copy = nullptr;
  if (throwIfPending(env,
                     napi_create_buffer_copy(env, static_cast<size_t>(raw.response.len),
                                             response.data(), &copy, &result),
                     "out of memory"))
    return nullptr;
  return result;
}

#else

napi_value callDevice(napi_env env, const std::string&, const uint8_t*, size_t) {
  napi_throw_error(env, "ENOTSUP", "the Nitro Secure Module exists only in Linux enclaves");
  return nullptr;
}

#endif

napi_value NsmCall(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  if (throwIfPending(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "bad call"))
    return nullptr;
  if (argc != 2) {
    throwArgument(env, false, "nsmCall(devicePath, request) takes exactly two arguments");
    return nullptr;
  }
  std::string path;
  const uint8_t* request = nullptr;
  size_t requestLength = 0;
  if (!pathArg(env, argv[0], &path) || !requestArg(env, argv[1], &request, &requestLength))
    return nullptr;
  return callDevice(env, path, request, requestLength);
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn = nullptr;
  if (throwIfPending(env, napi_create_function(env, "nsmCall", NAPI_AUTO_LENGTH, NsmCall, nullptr,
                                               &fn),
                     "cannot create nsmCall"))
    return nullptr;
  napi_value limit = nullptr;
  if (throwIfPending(env, napi_set_named_property(env, exports, "nsmCall", fn), "cannot export") ||
      throwIfPending(env, napi_create_uint32(env, kRequestMax, &limit), "cannot export") ||
      throwIfPending(env, napi_set_named_property(env, exports, "requestMaxBytes", limit),
                     "cannot export") ||
      throwIfPending(env, napi_create_uint32(env, kResponseMax, &limit), "cannot export") ||
      throwIfPending(env, napi_set_named_property(env, exports, "responseMaxBytes", limit),
                     "cannot export"))
    return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
