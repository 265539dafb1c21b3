// The one thing Node cannot do for the idle release: hand the C heap's free pages back to the
// system. glibc keeps memory that free() returned to it as long as anything above it in its
// heap still lives; malloc_trim(0) gives every whole free page back (madvise), wherever it is.
// docs/performance.md, "Idle RSS". Built by native/build.js; the server runs without it.
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// trimHeap(): true when glibc gave memory back, false when it had none to give, and undefined
// where there is no malloc_trim (not glibc: musl, macOS, Windows).
static napi_value TrimHeap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#if defined(__GLIBC__)
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
#else
  napi_get_undefined(env, &result);
#endif
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trimHeap", NAPI_AUTO_LENGTH, TrimHeap, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trimHeap", fn) != napi_ok) return NULL;
  return exports;
}
