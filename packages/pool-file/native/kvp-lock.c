// kvp-lock: the two lock calls of the pool lock (fcntl with a struct flock, and flock), as a
// Node-API addon. koffi can make the same calls, but loading koffi costs several milliseconds
// at every start of kvp-pool and kvp-agent, while this shared object loads in a fraction of
// one. Node-API is ABI-stable: one build per CPU serves every Node release from 18 on.
//
// The calls answer with errno values (0 on success), never with exceptions: the caller
// (packages/pool-file/src/libc.ts) treats "held by someone else" and other system errors as
// data, exactly as it does with koffi. Exceptions are only for a caller passing the wrong
// kinds of arguments, which is a bug on our side.
//
// Built by packages/pool-file/native/build-addon.mjs with plain gcc against Node's headers.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>

// Node-API version 1 is all this needs; naming it keeps the addon loadable by Node 18.
#define NAPI_VERSION 1
#include <node_api.h>

// The fields of struct flock travel as a Float64Array of FLOCK_FIELDS numbers, in this order:
// l_type, l_whence, l_start, l_len, l_pid. A typed array the caller owns costs no object
// creation here, and a double holds every offset a pool file can have (below 2^53) exactly.
#define FLOCK_FIELDS 5

// Throws a TypeError for misuse by our own JavaScript; returns NULL for the caller to return.
static napi_value misuse(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value errno_value(napi_env env, int error) {
  napi_value result;
  if (napi_create_int32(env, error, &result) != napi_ok) return NULL;
  return result;
}

// An int32 argument (a descriptor, a command, an operation); false when it is not a number.
static int int_argument(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

// fcntlLock(fd, cmd, fields: Float64Array(5)) → errno. The kernel's answer (GETLK fills the
// struct in) is written back into `fields`.
static napi_value fcntl_lock(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    return misuse(env, "fcntlLock(fd, cmd, fields) takes three arguments");
  int32_t fd;
  int32_t cmd;
  if (!int_argument(env, argv[0], &fd) || !int_argument(env, argv[1], &cmd))
    return misuse(env, "fcntlLock: fd and cmd must be numbers");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length != FLOCK_FIELDS)
    return misuse(env, "fcntlLock: fields must be a Float64Array of 5 numbers");
  double *fields = data;

  // Only the lock commands: anything else would read or write a struct it does not expect.
  switch (cmd) {
    case F_GETLK:
    case F_SETLK:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
      break;
    default:
      return misuse(env, "fcntlLock: cmd must be F_GETLK, F_SETLK, F_OFD_GETLK or F_OFD_SETLK (never a waiting one)");
  }

  struct flock lock = {0};
  lock.l_type = (short)fields[0];
  lock.l_whence = (short)fields[1];
  lock.l_start = (off_t)fields[2];
  lock.l_len = (off_t)fields[3];
  lock.l_pid = (pid_t)fields[4];
  int error = fcntl(fd, cmd, &lock) == -1 ? errno : 0;
  fields[0] = lock.l_type;
  fields[1] = lock.l_whence;
  fields[2] = (double)lock.l_start;
  fields[3] = (double)lock.l_len;
  fields[4] = lock.l_pid;
  return errno_value(env, error);
}

// flock(fd, operation) → errno.
static napi_value flock_call(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
    return misuse(env, "flock(fd, operation) takes two arguments");
  int32_t fd;
  int32_t operation;
  if (!int_argument(env, argv[0], &fd) || !int_argument(env, argv[1], &operation))
    return misuse(env, "flock: fd and operation must be numbers");
  return errno_value(env, flock(fd, operation) == -1 ? errno : 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"fcntlLock", NULL, fcntl_lock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flock", NULL, flock_call, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
