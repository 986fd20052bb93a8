/*
 * netio.node: Node's binding of netio.c (N-API), for the development side (wan-dns and uplinks under Node, their
 * tests). The router runs netio-qjs.c, which binds the same C functions for QuickJS.
 * setMark(fd, mark), getMark(fd), tcpSocket(family, mark), closeFd(fd): marked sockets;
 * ioOpen .. ioClose: batched UDP I/O. One epoll set holds every UDP fd (listeners and upstream pool sockets);
 * libuv watches that epoll fd with one uv_poll_t, so a wake-up drains every ready fd with recvmmsg(2) into one
 * preallocated buffer and calls JS once per batch; JS queues datagrams into a second buffer and flushes them with
 * sendmmsg(2). The buffers are JS-owned (kept alive by references); the record layout is netio.h's.
 * Errors are thrown as Error objects with `errno` (number), `code` ('EPERM') and `syscall`, so the caller can tell
 * "no CAP_NET_ADMIN" from a bad fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <uv.h>

#include "netio.h"

/* Batches handled per wake-up before libuv gets control back (timers, TCP): bounds the time spent per wake. */
#define ROUNDS 8

/* Throws an Error carrying errno, code and syscall; always returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, int e, const char *syscall) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s (%s)", syscall, strerror(e), netio_errno_code(e));
  napi_value msg, err, num, code, sys;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_create_int32(env, e, &num);
  napi_create_string_utf8(env, netio_errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "errno", num);
  napi_set_named_property(env, err, "code", code);
  napi_set_named_property(env, err, "syscall", sys);
  napi_throw(env, err);
  return NULL;
}

/* Reads v as a uint32 (fd, mark); throws a TypeError and returns 0 when it is not a number. */
static int arg_u32(napi_env env, napi_value v, uint32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, NULL, "expected a number");
    return 0;
  }
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

/* The bytes of a Uint8Array (Buffer) or Int32Array, NULL for anything else. */
static void *buf_data(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return NULL;
  napi_typedarray_type type;
  size_t count, offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &count, &data, &ab, &offset) != napi_ok) return NULL;
  *len = type == napi_int32_array ? count * 4 : count;
  return data;
}

static napi_value set_mark(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t fd, mark;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "setMark(fd, mark)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &fd) || !arg_u32(env, argv[1], &mark)) return NULL;
  int r = netio_set_mark((int)fd, mark);
  return r < 0 ? throw_errno(env, -r, "setsockopt(SO_MARK)") : NULL;
}

static napi_value get_mark(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  uint32_t fd, mark = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "getMark(fd)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &fd)) return NULL;
  int r = netio_get_mark((int)fd, &mark);
  if (r < 0) return throw_errno(env, -r, "getsockopt(SO_MARK)");
  napi_create_uint32(env, mark, &result);
  return result;
}

static napi_value tcp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint32_t family, mark;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "tcpSocket(family, mark)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &family) || !arg_u32(env, argv[1], &mark)) return NULL;
  int fd = netio_tcp_socket((int)family, mark);
  if (fd < 0) return throw_errno(env, -fd, fd == -EPERM || fd == -ENOPROTOOPT ? "setsockopt(SO_MARK)" : "socket");
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !arg_u32(env, argv[0], &fd)) return NULL;
  int r = netio_close((int)fd);
  return r < 0 ? throw_errno(env, -r, "close") : NULL;
}

/* flock(fd, op) (blocking): the lock libuci takes on config and delta files; Node's fs has none. */
static napi_value flock_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t fd, op;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !arg_u32(env, argv[0], &fd) || !arg_u32(env, argv[1], &op)) return NULL;
  int r = netio_flock((int)fd, (int)op);
  return r < 0 ? throw_errno(env, -r, "flock") : NULL;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  int epfd;
  napi_ref callback, recv_buf, recv_meta, send_buf, send_meta;
  napi_async_context async;
  uint8_t *rbuf, *sbuf;
  int32_t *rmeta, *smeta;
  size_t rlen, slen, slot;
  int closing;
} io_t;

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  io_t *io = (io_t *)handle->data;
  if (status < 0 || io->closing) return;
  napi_env env = io->env;
  for (int round = 0; round < ROUNDS && !io->closing; round++) {
    int n = netio_drain(io->epfd, io->rbuf, io->slot, io->rmeta);
    if (n == 0) break;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value cb, recv, count, result;
    napi_get_reference_value(env, io->callback, &cb);
    napi_get_global(env, &recv);
    napi_create_int32(env, n, &count);
    /* make_callback, not call_function: promise jobs and nextTicks queued by JS run after each batch. */
    napi_status st = napi_make_callback(env, io->async, recv, cb, 1, &count, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if (n < NETIO_BATCH) break;
  }
}

/* ioOpen(recvBuf, recvMeta, sendBuf, sendMeta, slot, callback) -> handle */
static napi_value io_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result, name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t slot = 0;
  if (argc < 6 || napi_get_value_uint32(env, argv[4], &slot) != napi_ok || slot == 0) {
    napi_throw_type_error(env, NULL, "ioOpen(recvBuf, recvMeta, sendBuf, sendMeta, slot, callback)");
    return NULL;
  }
  io_t *io = calloc(1, sizeof *io);
  if (io == NULL) return throw_errno(env, ENOMEM, "calloc");
  size_t rmlen = 0, smlen = 0;
  io->rbuf = buf_data(env, argv[0], &io->rlen);
  io->rmeta = buf_data(env, argv[1], &rmlen);
  io->sbuf = buf_data(env, argv[2], &io->slen);
  io->smeta = buf_data(env, argv[3], &smlen);
  io->slot = slot;
  if (!io->rbuf || !io->rmeta || !io->sbuf || !io->smeta || io->rlen < NETIO_BATCH * (size_t)slot ||
      rmlen < NETIO_BATCH * NETIO_REC * 4 || smlen < NETIO_BATCH * NETIO_REC * 4) {
    free(io);
    napi_throw_range_error(env, NULL, "ioOpen: buffers too small");
    return NULL;
  }
  io->epfd = netio_epoll_open();
  if (io->epfd < 0) {
    int e = -io->epfd;
    free(io);
    return throw_errno(env, e, "epoll_create1");
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &io->poll, io->epfd) != 0) {
    close(io->epfd);
    free(io);
    return throw_errno(env, EINVAL, "uv_poll_init");
  }
  io->env = env;
  napi_create_reference(env, argv[5], 1, &io->callback);
  napi_create_reference(env, argv[0], 1, &io->recv_buf);
  napi_create_reference(env, argv[1], 1, &io->recv_meta);
  napi_create_reference(env, argv[2], 1, &io->send_buf);
  napi_create_reference(env, argv[3], 1, &io->send_meta);
  napi_create_string_utf8(env, "wan-dns:udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &io->async);
  io->poll.data = io;
  uv_poll_start(&io->poll, UV_READABLE, on_poll);
  napi_create_external(env, io, NULL, NULL, &result);
  return result;
}

static io_t *get_io(napi_env env, napi_value v) {
  io_t *io = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, (void **)&io) != napi_ok || !io ||
      io->closing) {
    napi_throw_type_error(env, NULL, "not an open io handle");
    return NULL;
  }
  return io;
}

/* ioAdd(handle, fd, tag): watch fd for datagrams; records carry tag. */
static napi_value io_add(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd, tag;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 3 ? NULL : get_io(env, argv[0]);
  if (!io || napi_get_value_int32(env, argv[1], &fd) != napi_ok || napi_get_value_int32(env, argv[2], &tag) != napi_ok) return NULL;
  int r = netio_epoll_add(io->epfd, fd, tag);
  return r < 0 ? throw_errno(env, -r, "epoll_ctl") : NULL;
}

/* ioRemove(handle, fd): stop watching fd (before it is closed). */
static napi_value io_remove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 2 ? NULL : get_io(env, argv[0]);
  if (!io || napi_get_value_int32(env, argv[1], &fd) != napi_ok) return NULL;
  netio_epoll_remove(io->epfd, fd);
  return NULL;
}

/* ioSend(handle, count) -> failed: sends the first count queued records (netio_send_batch). */
static napi_value io_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 2 ? NULL : get_io(env, argv[0]);
  if (!io || napi_get_value_int32(env, argv[1], &count) != napi_ok) return NULL;
  int failed = netio_send_batch(io->smeta, io->sbuf, io->slen, count);
  if (failed < 0) {
    napi_throw_range_error(env, NULL, "ioSend: bad count or a record outside the send buffer");
    return NULL;
  }
  napi_create_int32(env, failed, &result);
  return result;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

/* ioClose(handle): stops watching; the fds themselves belong to the caller. */
static napi_value io_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 1 ? NULL : get_io(env, argv[0]);
  if (!io) return NULL;
  io->closing = 1;
  uv_poll_stop(&io->poll);
  close(io->epfd);
  napi_delete_reference(env, io->callback);
  napi_delete_reference(env, io->recv_buf);
  napi_delete_reference(env, io->recv_meta);
  napi_delete_reference(env, io->send_buf);
  napi_delete_reference(env, io->send_meta);
  napi_async_destroy(env, io->async);
  uv_close((uv_handle_t *)&io->poll, on_closed);
  return NULL;
}

/* udpSocket(family, address: Uint8Array(4|16), port, scopeId) -> fd: non-blocking, close-on-exec, bound. */
static napi_value udp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  uint32_t family, port, scope;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t alen = 0;
  uint8_t *addr = argc < 4 ? NULL : buf_data(env, argv[1], &alen);
  if (!addr || napi_get_value_uint32(env, argv[0], &family) != napi_ok || napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &scope) != napi_ok || alen < (family == 6 ? 16u : 4u) || port > 65535) {
    napi_throw_type_error(env, NULL, "udpSocket(family, address, port, scopeId)");
    return NULL;
  }
  int fd = netio_udp_socket((int)family, addr, port, scope);
  if (fd < 0) return throw_errno(env, -fd, "bind");
  napi_create_int32(env, fd, &result);
  return result;
}

/* localPort(fd) -> the bound port (getsockname). */
static napi_value local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return NULL;
  int port = netio_local_port(fd);
  if (port < 0) return throw_errno(env, -port, "getsockname");
  napi_create_int32(env, port, &result);
  return result;
}

/* ifIndex(name) -> interface index, 0 when unknown (if_nametoindex). */
static napi_value if_index(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[IF_NAMESIZE + 1] = {0};
  size_t n = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok) return NULL;
  napi_create_uint32(env, if_nametoindex(name), &result);
  return result;
}

/* addrText(family, address, scopeId) -> text as dgram reports a sender (`fe80::1%eth0`). */
static napi_value addr_text(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  uint32_t family, scope;
  size_t alen = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *addr = argc < 3 ? NULL : buf_data(env, argv[1], &alen);
  if (!addr || napi_get_value_uint32(env, argv[0], &family) != napi_ok || napi_get_value_uint32(env, argv[2], &scope) != napi_ok ||
      alen < 16) {
    napi_throw_type_error(env, NULL, "addrText(family, address, scopeId)");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  netio_addr_text((int)family, addr, scope, text, sizeof text);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

/* addrBytes(family, text, out) -> true when text is an address of family (inet_pton), written to out. */
static napi_value addr_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  uint32_t family;
  char text[INET6_ADDRSTRLEN + 1] = {0};
  size_t n = 0, alen = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *out = argc < 3 ? NULL : buf_data(env, argv[2], &alen);
  if (!out || alen < 16 || napi_get_value_uint32(env, argv[0], &family) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], text, sizeof text, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "addrBytes(family, text, out)");
    return NULL;
  }
  napi_get_boolean(env, netio_addr_bytes((int)family, text, out) == 1, &result);
  return result;
}

/* netlinkOpen(protocol, netnsPath | null) -> fd, not yet bound (netio_netlink_open). */
static napi_value netlink_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint32_t protocol;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok || (t != napi_string && t != napi_null && t != napi_undefined)) {
    napi_throw_type_error(env, NULL, "netlinkOpen(protocol, netnsPath)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &protocol)) return NULL;
  char path[4096] = {0};
  size_t n = 0;
  if (t == napi_string && napi_get_value_string_utf8(env, argv[1], path, sizeof path, &n) != napi_ok) return NULL;
  int fd = netio_netlink_open((int)protocol, t == napi_string ? path : NULL);
  if (fd < 0) return throw_errno(env, -fd, t == napi_string ? "setns" : "socket(AF_NETLINK)");
  napi_create_int32(env, fd, &result);
  return result;
}

/* netlinkBind(fd, groups) -> port id; setRcvbuf(fd, bytes); getRcvbuf(fd) -> bytes; netlinkOption(fd, name, value). */
static napi_value fd_int_call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  int magic = (int)(intptr_t)data;
  static const char *const usage[] = {"netlinkBind(fd, groups)", "setRcvbuf(fd, bytes)", "getRcvbuf(fd)", "netlinkOption(fd, name, value)"};
  static const char *const syscall[] = {"bind(AF_NETLINK)", "setsockopt(SO_RCVBUF)", "getsockopt(SO_RCVBUF)", "setsockopt(SOL_NETLINK)"};
  size_t need = magic == 2 ? 1 : magic == 3 ? 3 : 2;
  uint32_t a[3] = {0};
  if (argc < need) {
    napi_throw_type_error(env, NULL, usage[magic]);
    return NULL;
  }
  for (size_t i = 0; i < need; i++)
    if (!arg_u32(env, argv[i], &a[i])) return NULL;
  if (magic == 0) {
    uint32_t portid = 0;
    int e = netio_netlink_bind((int)a[0], a[1], &portid);
    if (e < 0) return throw_errno(env, -e, syscall[0]);
    napi_create_uint32(env, portid, &result);
    return result;
  }
  int r = magic == 1 ? netio_set_rcvbuf((int)a[0], (int)a[1]) : magic == 2 ? netio_get_rcvbuf((int)a[0]) : netio_netlink_option((int)a[0], (int)a[1], (int)a[2]);
  if (r < 0) return throw_errno(env, -r, syscall[magic]);
  napi_create_int32(env, r, &result);
  return result;
}

/* send(fd, bytes[, length]) -> bytes sent; recvWait(fd, bytes, timeoutMs) -> bytes, null when timeoutMs is 0 and
 * nothing is ready (netio_recv_wait). */
static napi_value io_call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  int recv = (int)(intptr_t)data;
  const char *usage = recv ? "recvWait(fd, bytes, timeoutMs)" : "send(fd, bytes[, length])";
  uint32_t fd;
  int32_t extra = -1;
  size_t len = 0;
  uint8_t *buf = argc < 2 ? NULL : buf_data(env, argv[1], &len);
  if (!buf || (recv && argc < 3)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (!arg_u32(env, argv[0], &fd)) return NULL;
  if (argc > 2 && napi_get_value_int32(env, argv[2], &extra) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (!recv && argc > 2) {
    if (extra < 0 || (size_t)extra > len) {
      napi_throw_range_error(env, NULL, "send: length beyond the buffer");
      return NULL;
    }
    len = (size_t)extra;
  }
  int r = recv ? netio_recv_wait((int)fd, buf, len, extra) : netio_send((int)fd, buf, len);
  if (recv && r == -EAGAIN && extra == 0) {
    napi_get_null(env, &result);
    return result;
  }
  if (r < 0) return throw_errno(env, -r, recv ? "recv" : "send");
  napi_create_int32(env, r, &result);
  return result;
}

/* errnoCode(errno) -> 'EEXIST' (netio_errno_code). */
static napi_value errno_code(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  uint32_t e;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !arg_u32(env, argv[0], &e)) return NULL;
  napi_create_string_utf8(env, netio_errno_code((int)e), NAPI_AUTO_LENGTH, &result);
  return result;
}

/* A readable-fd watcher for Node (QuickJS uses os.setReadHandler): calls back (no arguments) whenever fd is
 * readable; JS drains it with recvWait(fd, buf, 0). */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int closing;
} watcher_t;

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  watcher_t *w = p->data;
  if (w->closing) return;
  /* A socket error (ENOBUFS after an overrun) shows as POLLERR, and libuv then stops the handle and reports
   * UV_EBADF. Restart it: JS reads the error with recvWait() and the socket stays usable. */
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

/* watch(fd, callback) -> handle */
static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name, ext;
  uint32_t fd;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd, callback)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &fd)) return NULL;
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "calloc");
  int r = uv_poll_init(loop, &w->poll, (int)fd);
  if (r < 0) {
    free(w);
    return throw_errno(env, -r, "uv_poll_init");
  }
  w->env = env;
  napi_create_string_utf8(env, "meshwan:netlink-watch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_create_reference(env, argv[1], 1, &w->callback);
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_create_external(env, w, NULL, NULL, &ext);
  return ext;
}

/* unwatch(handle): stops the watcher; the fd belongs to the caller. */
static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok ||
      !data) {
    napi_throw_type_error(env, NULL, "unwatch(handle)");
    return NULL;
  }
  watcher_t *w = data;
  if (!w->closing) {
    w->closing = 1;
    uv_poll_stop(&w->poll);
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    uv_close((uv_handle_t *)&w->poll, on_closed);
  }
  return NULL;
}

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
#define FNM(name, fn, magic) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)(magic)}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      FN("setMark", set_mark),     FN("getMark", get_mark),     FN("tcpSocket", tcp_socket), FN("closeFd", close_fd),
      FN("ioOpen", io_open),       FN("ioAdd", io_add),         FN("ioRemove", io_remove),   FN("ioSend", io_send),
      FN("ioClose", io_close),     FN("udpSocket", udp_socket), FN("localPort", local_port), FN("ifIndex", if_index),
      FN("addrText", addr_text),   FN("addrBytes", addr_bytes), FN("flock", flock_fd),
      FN("netlinkOpen", netlink_open),
      FNM("netlinkBind", fd_int_call, 0), FNM("setRcvbuf", fd_int_call, 1), FNM("getRcvbuf", fd_int_call, 2),
      FNM("netlinkOption", fd_int_call, 3), FNM("send", io_call, 0), FNM("recvWait", io_call, 1),
      FN("errnoCode", errno_code), FN("watch", watch), FN("unwatch", unwatch),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
