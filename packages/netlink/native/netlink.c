/*
 * meshwan netlink transport: the only C in @meshwan/netlink. It opens, binds, configures, sends on and receives
 * from AF_NETLINK sockets, and tells JS when a socket is readable (libuv poll). Every call returns a number:
 * >= 0 on success, -errno on failure, so JS turns errno values into typed errors. No message parsing here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error(env, NULL, "netlink addon: " #call " failed");                                               \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

static napi_value num(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int arg_int(napi_env env, napi_value v, int64_t *out) { return napi_get_value_int64(env, v, out) == napi_ok; }

/* open(protocol, netnsPath|null) -> fd | -errno. With a path, the socket is created inside that network namespace:
 * setns(CLONE_NEWNET) only moves the calling thread, and a socket keeps the namespace it was created in. */
static napi_value nl_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t protocol = 0;
  if (argc < 1 || !arg_int(env, argv[0], &protocol)) return num(env, -EINVAL);
  char path[4096] = {0};
  napi_valuetype t = napi_undefined;
  if (argc > 1) CHECK(napi_typeof(env, argv[1], &t));
  int saved = -1, target = -1;
  if (t == napi_string) {
    size_t len = 0;
    CHECK(napi_get_value_string_utf8(env, argv[1], path, sizeof path, &len));
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) return num(env, -errno);
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0 || setns(target, CLONE_NEWNET) < 0) {
      int e = errno;
      if (target >= 0) close(target);
      close(saved);
      return num(env, -e);
    }
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, (int)protocol);
  int e = errno;
  if (saved >= 0) {
    if (setns(saved, CLONE_NEWNET) < 0) abort(); /* the thread must never stay in a foreign namespace */
    close(saved);
    close(target);
  }
  return num(env, fd < 0 ? -e : fd);
}

/* bind(fd, groups) -> portid | -errno */
static napi_value nl_bind(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd = -1, groups = 0;
  if (argc < 2 || !arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &groups)) return num(env, -EINVAL);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = (uint32_t)groups};
  if (bind((int)fd, (struct sockaddr *)&sa, sizeof sa) < 0) return num(env, -errno);
  socklen_t len = sizeof sa;
  if (getsockname((int)fd, (struct sockaddr *)&sa, &len) < 0) return num(env, -errno);
  return num(env, sa.nl_pid);
}

/* setsockopt(fd, level, name, int) -> 0 | -errno; getsockopt(fd, level, name) -> value | -errno */
static napi_value nl_setsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t a[4];
  for (int i = 0; i < 4; i++)
    if ((size_t)i >= argc || !arg_int(env, argv[i], &a[i])) return num(env, -EINVAL);
  int value = (int)a[3];
  if (setsockopt((int)a[0], (int)a[1], (int)a[2], &value, sizeof value) < 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value nl_getsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t a[3];
  for (int i = 0; i < 3; i++)
    if ((size_t)i >= argc || !arg_int(env, argv[i], &a[i])) return num(env, -EINVAL);
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt((int)a[0], (int)a[1], (int)a[2], &value, &len) < 0) return num(env, -errno);
  return num(env, value);
}

static int get_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return 0;
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

/* send(fd, buffer, length) -> bytes | -errno (to the kernel, portid 0) */
static napi_value nl_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd = -1, want = 0;
  void *data;
  size_t len;
  if (argc < 3 || !arg_int(env, argv[0], &fd) || !get_buffer(env, argv[1], &data, &len) || !arg_int(env, argv[2], &want) ||
      want < 0 || (size_t)want > len)
    return num(env, -EINVAL);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t n = sendto((int)fd, data, (size_t)want, 0, (struct sockaddr *)&sa, sizeof sa);
    if (n >= 0) return num(env, n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return num(env, -errno);
    struct pollfd p = {.fd = (int)fd, .events = POLLOUT};
    if (poll(&p, 1, 5000) == 0) return num(env, -ETIMEDOUT);
  }
}

/* recv(fd, buffer, timeoutMs) -> bytes | -errno. timeoutMs < 0 waits forever, 0 never waits (-EAGAIN when empty).
 * A datagram larger than the buffer returns -EMSGSIZE rather than silently losing its tail. */
static napi_value nl_recv(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd = -1, timeout = 0;
  void *data;
  size_t len;
  if (argc < 3 || !arg_int(env, argv[0], &fd) || !get_buffer(env, argv[1], &data, &len) || !arg_int(env, argv[2], &timeout))
    return num(env, -EINVAL);
  for (;;) {
    ssize_t n = recv((int)fd, data, len, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0) return num(env, (size_t)n > len ? -EMSGSIZE : n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN || timeout == 0) return num(env, -errno);
    struct pollfd p = {.fd = (int)fd, .events = POLLIN};
    int r = poll(&p, 1, timeout < 0 ? -1 : (int)timeout);
    if (r == 0) return num(env, -ETIMEDOUT);
    if (r < 0 && errno != EINTR) return num(env, -errno);
  }
}

static napi_value nl_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd = -1;
  if (argc < 1 || !arg_int(env, argv[0], &fd)) return num(env, -EINVAL);
  return num(env, close((int)fd) < 0 ? -errno : 0);
}

/* A readable-socket watcher: calls the JS callback (no arguments) whenever the fd is readable. JS then drains it
 * with recv(fd, buf, 0). The callback must not throw; if it does, the error becomes an uncaught exception. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int closing;
} watcher_t;

static void on_closed(uv_handle_t *h) { free(h->data); }

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  watcher_t *w = p->data;
  if (w->closing) return;
  /* A socket error (ENOBUFS after an overrun) shows as POLLERR, and libuv then stops the handle and reports
   * UV_EBADF. Restart it: JS reads the error with recv() and the socket stays usable. */
  if (status < 0) uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, result;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    if (napi_make_callback(env, w->context, global, cb, 0, NULL, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  watcher_t *w = data;
  if (!w->closing) {
    w->closing = 1;
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    uv_close((uv_handle_t *)&w->poll, on_closed);
  }
}

/* watch(fd, callback) -> external handle; unwatch(handle) -> 0 */
static napi_value nl_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd = -1;
  if (argc < 2 || !arg_int(env, argv[0], &fd)) return num(env, -EINVAL);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return num(env, -ENOMEM);
  w->env = env;
  napi_value name;
  CHECK(napi_create_string_utf8(env, "meshwan-netlink-watch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &w->context));
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  int r = uv_poll_init(loop, &w->poll, (int)fd);
  if (r < 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    free(w);
    return num(env, r);
  }
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_value ext;
  CHECK(napi_create_external(env, w, NULL, NULL, &ext));
  return ext;
}

static napi_value nl_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) return num(env, -EINVAL);
  watcher_t *w = data;
  if (!w->closing) {
    uv_poll_stop(&w->poll);
    watcher_finalize(env, w, NULL);
  }
  return num(env, 0);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", 0, nl_open, 0, 0, 0, napi_enumerable, 0},
      {"bind", 0, nl_bind, 0, 0, 0, napi_enumerable, 0},
      {"setsockopt", 0, nl_setsockopt, 0, 0, 0, napi_enumerable, 0},
      {"getsockopt", 0, nl_getsockopt, 0, 0, 0, napi_enumerable, 0},
      {"send", 0, nl_send, 0, 0, 0, napi_enumerable, 0},
      {"recv", 0, nl_recv, 0, 0, 0, napi_enumerable, 0},
      {"close", 0, nl_close, 0, 0, 0, napi_enumerable, 0},
      {"watch", 0, nl_watch, 0, 0, 0, napi_enumerable, 0},
      {"unwatch", 0, nl_unwatch, 0, 0, 0, napi_enumerable, 0},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
