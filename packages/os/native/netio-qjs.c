/*
 * The QuickJS binding of netio.c: the module "meshwan:netio", what runs on the router. Same C functions as
 * netio-napi.c binds for Node; only the glue differs. Readiness is QuickJS's own: JS passes an fd (a socket's, or
 * a batch loop's epoll fd from ioFd) to os.setReadHandler / os.setWriteHandler and calls back in here when ready,
 * so there is one event loop (js_std_loop) and no thread.
 * Failures throw an Error with `errno` (number), `code` ('EPERM') and `syscall`, as the N-API binding does.
 * recv() returns null when nothing is ready (EAGAIN), so a read handler drains without exceptions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "netio.h"
#include "quickjs.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

static JSValue throw_errno(JSContext *ctx, int e, const char *syscall) {
  JSValue err = JS_NewError(ctx);
  char text[160];
  snprintf(text, sizeof text, "%s: %s (%s)", syscall, strerror(e), netio_errno_code(e));
  JS_DefinePropertyValueStr(ctx, err, "message", JS_NewString(ctx, text), JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
  JS_DefinePropertyValueStr(ctx, err, "errno", JS_NewInt32(ctx, e), JS_PROP_C_W_E);
  JS_DefinePropertyValueStr(ctx, err, "code", JS_NewString(ctx, netio_errno_code(e)), JS_PROP_C_W_E);
  JS_DefinePropertyValueStr(ctx, err, "syscall", JS_NewString(ctx, syscall), JS_PROP_C_W_E);
  return JS_Throw(ctx, err);
}

/* A number result, or the thrown errno when r < 0. */
static JSValue result(JSContext *ctx, int r, const char *syscall) { return r < 0 ? throw_errno(ctx, -r, syscall) : JS_NewInt32(ctx, r); }

static int arg_int(JSContext *ctx, JSValueConst v, int32_t *out, const char *usage) {
  if (!JS_IsNumber(v)) {
    JS_ThrowTypeError(ctx, "%s: expected a number", usage);
    return 0;
  }
  return JS_ToInt32(ctx, out, v) == 0;
}

static int arg_u32(JSContext *ctx, JSValueConst v, uint32_t *out, const char *usage) {
  if (!JS_IsNumber(v)) {
    JS_ThrowTypeError(ctx, "%s: expected a number", usage);
    return 0;
  }
  return JS_ToUint32(ctx, out, v) == 0;
}

/* The bytes of a typed array (any element type) or ArrayBuffer; NULL (TypeError thrown) for anything else. */
static uint8_t *arg_bytes(JSContext *ctx, JSValueConst v, size_t *len, const char *usage) {
  size_t offset = 0, length = 0, per = 0, ablen = 0;
  uint8_t *data;
  JSValue ab = JS_GetTypedArrayBuffer(ctx, v, &offset, &length, &per);
  if (JS_IsException(ab)) {
    JS_FreeValue(ctx, JS_GetException(ctx));
    data = JS_GetArrayBuffer(ctx, &ablen, v);
    length = ablen;
  } else {
    data = JS_GetArrayBuffer(ctx, &ablen, ab);
    JS_FreeValue(ctx, ab);
    if (data) data += offset;
  }
  if (!data) {
    /* JS_GetArrayBuffer threw its own TypeError: replace it with one that names the call. */
    JS_FreeValue(ctx, JS_GetException(ctx));
    JS_ThrowTypeError(ctx, "%s: expected a Uint8Array or Int32Array", usage);
    return NULL;
  }
  *len = length;
  return data;
}

static JSValue js_set_mark(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  uint32_t fd, mark;
  if (argc < 2 || !arg_u32(ctx, argv[0], &fd, "setMark(fd, mark)") || !arg_u32(ctx, argv[1], &mark, "setMark(fd, mark)"))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "setMark(fd, mark)");
  int r = netio_set_mark((int)fd, mark);
  return r < 0 ? throw_errno(ctx, -r, "setsockopt(SO_MARK)") : JS_UNDEFINED;
}

static JSValue js_get_mark(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  uint32_t fd, mark = 0;
  if (argc < 1 || !arg_u32(ctx, argv[0], &fd, "getMark(fd)")) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "getMark(fd)");
  int r = netio_get_mark((int)fd, &mark);
  return r < 0 ? throw_errno(ctx, -r, "getsockopt(SO_MARK)") : JS_NewUint32(ctx, mark);
}

static JSValue js_bind_device(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  uint32_t fd;
  if (argc < 2 || !arg_u32(ctx, argv[0], &fd, "bindDevice(fd, name)") || !JS_IsString(argv[1]))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "bindDevice(fd, name)");
  const char *name = JS_ToCString(ctx, argv[1]);
  if (!name) return JS_EXCEPTION;
  int r = strlen(name) >= IF_NAMESIZE ? -EINVAL : netio_bind_device((int)fd, name);
  JS_FreeCString(ctx, name);
  return r < 0 ? throw_errno(ctx, -r, "setsockopt(SO_BINDTODEVICE)") : JS_UNDEFINED;
}

static JSValue js_tcp_socket(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  uint32_t family, mark;
  if (argc < 2 || !arg_u32(ctx, argv[0], &family, "tcpSocket(family, mark)") || !arg_u32(ctx, argv[1], &mark, "tcpSocket(family, mark)"))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "tcpSocket(family, mark)");
  int fd = netio_tcp_socket((int)family, mark);
  return result(ctx, fd, fd == -EPERM || fd == -ENOPROTOOPT ? "setsockopt(SO_MARK)" : "socket");
}

/* Reads (family, address, port, scopeId) at argv[0..3] into a netio record. */
static int arg_endpoint(JSContext *ctx, JSValueConst *argv, int32_t rec[NETIO_REC], const char *usage) {
  uint32_t family, port, scope;
  size_t alen = 0;
  memset(rec, 0, NETIO_REC * sizeof rec[0]);
  if (!arg_u32(ctx, argv[0], &family, usage)) return 0;
  uint8_t *addr = arg_bytes(ctx, argv[1], &alen, usage);
  if (!addr || !arg_u32(ctx, argv[2], &port, usage) || !arg_u32(ctx, argv[3], &scope, usage)) return 0;
  if ((family != 4 && family != 6) || alen < (family == 6 ? 16u : 4u) || port > 65535) {
    JS_ThrowRangeError(ctx, "%s: family 4|6, a 4|16-byte address and a port 0..65535", usage);
    return 0;
  }
  rec[3] = (int32_t)family;
  rec[4] = (int32_t)port;
  rec[5] = (int32_t)scope;
  memcpy(rec + 8, addr, family == 6 ? 16 : 4);
  return 1;
}

static JSValue js_udp_socket(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t rec[NETIO_REC];
  const char *usage = "udpSocket(family, address, port, scopeId)";
  if (argc < 4) return JS_ThrowTypeError(ctx, "%s", usage);
  if (!arg_endpoint(ctx, argv, rec, usage)) return JS_EXCEPTION;
  return result(ctx, netio_udp_socket(rec[3], (const uint8_t *)(rec + 8), (unsigned)rec[4], (unsigned)rec[5]), "bind");
}

/* connect(fd, family, address, port, scopeId) -> true when connected, false while in progress (EINPROGRESS). */
static JSValue js_connect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t fd, rec[NETIO_REC];
  const char *usage = "connect(fd, family, address, port, scopeId)";
  if (argc < 5) return JS_ThrowTypeError(ctx, "%s", usage);
  if (!arg_int(ctx, argv[0], &fd, usage) || !arg_endpoint(ctx, argv + 1, rec, usage)) return JS_EXCEPTION;
  int r = netio_connect(fd, rec);
  if (r == -EINPROGRESS) return JS_FALSE;
  return r < 0 ? throw_errno(ctx, -r, "connect") : JS_TRUE;
}

static JSValue js_tcp_listen(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t rec[NETIO_REC];
  const char *usage = "tcpListen(family, address, port, scopeId)";
  if (argc < 4) return JS_ThrowTypeError(ctx, "%s", usage);
  if (!arg_endpoint(ctx, argv, rec, usage)) return JS_EXCEPTION;
  return result(ctx, netio_tcp_listen(rec[3], (const uint8_t *)(rec + 8), (unsigned)rec[4], (unsigned)rec[5]), "listen");
}

/* accept(fd, peer) -> fd of a new connection, its peer in the Int32Array record `peer`; null when none waits. */
static JSValue js_accept(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  const char *usage = "accept(fd, peer)";
  int32_t fd;
  size_t len = 0;
  if (argc < 2 || !arg_int(ctx, argv[0], &fd, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  uint8_t *rec = arg_bytes(ctx, argv[1], &len, usage);
  if (!rec) return JS_EXCEPTION;
  if (len < NETIO_REC * sizeof(int32_t) || ((uintptr_t)rec % sizeof(int32_t)) != 0)
    return JS_ThrowRangeError(ctx, "%s: peer is an Int32Array of REC entries", usage);
  int r = netio_accept(fd, (int32_t *)rec);
  if (r == -EAGAIN) return JS_NULL;
  return result(ctx, r, "accept");
}

/* unixListen(path) / unixConnect(path) -> fd. */
static JSValue js_unix_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  const char *usage = magic ? "unixConnect(path)" : "unixListen(path)";
  if (argc < 1 || !JS_IsString(argv[0])) return JS_ThrowTypeError(ctx, "%s: expected a path", usage);
  const char *path = JS_ToCString(ctx, argv[0]);
  if (!path) return JS_EXCEPTION;
  int r = magic ? netio_unix_connect(path) : netio_unix_listen(path);
  JS_FreeCString(ctx, path);
  return result(ctx, r, magic ? "connect" : "listen");
}

/* The remaining single-fd calls: fd in, a number or -errno out. */
static JSValue js_fd_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  static const char *const usage[] = {"closeFd(fd)", "localPort(fd)", "socketError(fd)", "shutdown(fd)"};
  static const char *const syscall[] = {"close", "getsockname", "getsockopt(SO_ERROR)", "shutdown"};
  int32_t fd;
  if (argc < 1 || !arg_int(ctx, argv[0], &fd, usage[magic])) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage[magic]);
  int r = magic == 0 ? netio_close(fd) : magic == 1 ? netio_local_port(fd) : magic == 2 ? netio_socket_error(fd) : netio_shutdown(fd);
  if ((magic == 0 || magic == 3) && r == 0) return JS_UNDEFINED;
  return result(ctx, r, syscall[magic]);
}

static JSValue js_netlink_socket(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t protocol;
  uint32_t groups;
  const char *usage = "netlinkSocket(protocol, groups)";
  if (argc < 2 || !arg_int(ctx, argv[0], &protocol, usage) || !arg_u32(ctx, argv[1], &groups, usage))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  return result(ctx, netio_netlink_socket(protocol, groups), "socket(AF_NETLINK)");
}

/* netlinkOpen(protocol, netnsPath | null) -> fd, not yet bound (netio_netlink_open). */
static JSValue js_netlink_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t protocol;
  const char *usage = "netlinkOpen(protocol, netnsPath)";
  if (argc < 2 || !arg_int(ctx, argv[0], &protocol, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  if (JS_IsNull(argv[1]) || JS_IsUndefined(argv[1])) return result(ctx, netio_netlink_open(protocol, NULL), "socket(AF_NETLINK)");
  if (!JS_IsString(argv[1])) return JS_ThrowTypeError(ctx, "%s: netnsPath is a string or null", usage);
  const char *path = JS_ToCString(ctx, argv[1]);
  if (!path) return JS_EXCEPTION;
  int r = netio_netlink_open(protocol, path);
  JS_FreeCString(ctx, path);
  return result(ctx, r, "setns");
}

/* netlinkBind(fd, groups) -> port id; netlinkOption(fd, name, value) at SOL_NETLINK; setRcvbuf(fd, bytes). */
static JSValue js_fd_int_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  static const char *const usage[] = {"netlinkBind(fd, groups)", "setRcvbuf(fd, bytes)", "getRcvbuf(fd)", "netlinkOption(fd, name, value)"};
  static const char *const syscall[] = {"bind(AF_NETLINK)", "setsockopt(SO_RCVBUF)", "getsockopt(SO_RCVBUF)", "setsockopt(SOL_NETLINK)"};
  int32_t fd, a = 0, b = 0;
  int need = magic == 2 ? 1 : magic == 3 ? 3 : 2;
  if (argc < need || !arg_int(ctx, argv[0], &fd, usage[magic]) || (need > 1 && !arg_int(ctx, argv[1], &a, usage[magic])) ||
      (need > 2 && !arg_int(ctx, argv[2], &b, usage[magic])))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage[magic]);
  uint32_t portid = 0;
  if (magic == 0) {
    int e = netio_netlink_bind(fd, (uint32_t)a, &portid);
    return e < 0 ? throw_errno(ctx, -e, syscall[0]) : JS_NewUint32(ctx, portid);
  }
  int r = magic == 1 ? netio_set_rcvbuf(fd, a) : magic == 2 ? netio_get_rcvbuf(fd) : netio_netlink_option(fd, a, b);
  return result(ctx, r, syscall[magic]);
}

/* recvWait(fd, bytes, timeoutMs) -> bytes received; null when timeoutMs is 0 and nothing is ready; throws
 * ETIMEDOUT, EMSGSIZE (a datagram larger than bytes), ENOBUFS (the kernel dropped messages). */
static JSValue js_recv_wait(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  const char *usage = "recvWait(fd, bytes, timeoutMs)";
  int32_t fd, timeout;
  size_t len = 0;
  if (argc < 3 || !arg_int(ctx, argv[0], &fd, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  uint8_t *buf = arg_bytes(ctx, argv[1], &len, usage);
  if (!buf || !arg_int(ctx, argv[2], &timeout, usage)) return JS_EXCEPTION;
  int r = netio_recv_wait(fd, buf, len, timeout);
  if (r == -EAGAIN && timeout == 0) return JS_NULL;
  return result(ctx, r, "recv");
}


/* send(fd, bytes[, length]) -> bytes sent; recv(fd, bytes) -> bytes received, null when nothing is ready. */
static JSValue js_io_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  const char *usage = magic ? "recv(fd, bytes)" : "send(fd, bytes[, length])";
  int32_t fd;
  size_t len = 0;
  if (argc < 2 || !arg_int(ctx, argv[0], &fd, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  uint8_t *buf = arg_bytes(ctx, argv[1], &len, usage);
  if (!buf) return JS_EXCEPTION;
  if (!magic && argc > 2) {
    uint32_t n;
    if (!arg_u32(ctx, argv[2], &n, usage)) return JS_EXCEPTION;
    if (n > len) return JS_ThrowRangeError(ctx, "%s: length %u beyond the buffer's %zu bytes", usage, n, len);
    len = n;
  }
  int r = magic ? netio_recv(fd, buf, len) : netio_send(fd, buf, len);
  if (magic && r == -EAGAIN) return JS_NULL;
  return result(ctx, r, magic ? "recv" : "send");
}

/* A batch loop: its epoll set and the four JS-owned buffers, held (and marked for the GC) while it is open. */
typedef struct {
  int epfd;
  uint32_t slot;
  JSValue bufs[4]; /* recvBuf, recvMeta, sendBuf, sendMeta */
} io_t;

static JSClassID io_class_id;

static void io_finalizer(JSRuntime *rt, JSValue val) {
  io_t *io = JS_GetOpaque(val, io_class_id);
  if (!io) return;
  if (io->epfd >= 0) close(io->epfd);
  for (size_t i = 0; i < countof(io->bufs); i++) JS_FreeValueRT(rt, io->bufs[i]);
  js_free_rt(rt, io);
}

static void io_mark(JSRuntime *rt, JSValueConst val, JS_MarkFunc *mark_func) {
  io_t *io = JS_GetOpaque(val, io_class_id);
  if (!io) return;
  for (size_t i = 0; i < countof(io->bufs); i++) JS_MarkValue(rt, io->bufs[i], mark_func);
}

static JSClassDef io_class = {"NetioBatch", .finalizer = io_finalizer, .gc_mark = io_mark};

static io_t *get_io(JSContext *ctx, JSValueConst v) {
  io_t *io = JS_GetOpaque2(ctx, v, io_class_id);
  if (io && io->epfd < 0) {
    JS_ThrowTypeError(ctx, "not an open io handle");
    return NULL;
  }
  return io;
}

/* ioOpen(recvBuf, recvMeta, sendBuf, sendMeta, slot) -> handle; watch ioFd(handle) with os.setReadHandler. */
static JSValue js_io_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  const char *usage = "ioOpen(recvBuf, recvMeta, sendBuf, sendMeta, slot)";
  uint32_t slot;
  size_t len[4];
  if (argc < 5 || !arg_u32(ctx, argv[4], &slot, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  for (int i = 0; i < 4; i++)
    if (!arg_bytes(ctx, argv[i], &len[i], usage)) return JS_EXCEPTION;
  if (slot == 0 || len[0] < NETIO_BATCH * (size_t)slot || len[1] < NETIO_BATCH * NETIO_REC * 4 || len[3] < NETIO_BATCH * NETIO_REC * 4)
    return JS_ThrowRangeError(ctx, "ioOpen: buffers too small");
  JSValue obj = JS_NewObjectClass(ctx, (int)io_class_id);
  if (JS_IsException(obj)) return obj;
  io_t *io = js_mallocz(ctx, sizeof *io);
  if (!io) {
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
  }
  io->epfd = netio_epoll_open();
  if (io->epfd < 0) {
    int e = -io->epfd;
    js_free(ctx, io);
    JS_FreeValue(ctx, obj);
    return throw_errno(ctx, e, "epoll_create1");
  }
  io->slot = slot;
  for (int i = 0; i < 4; i++) io->bufs[i] = JS_DupValue(ctx, argv[i]);
  JS_SetOpaque(obj, io);
  return obj;
}

/* ioFd, ioDrain, ioClose: one handle in. */
static JSValue js_io_handle(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  io_t *io = argc < 1 ? NULL : get_io(ctx, argv[0]);
  if (!io) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "expected an io handle");
  if (magic == 0) return JS_NewInt32(ctx, io->epfd);
  if (magic == 2) {
    close(io->epfd);
    io->epfd = -1;
    for (int i = 0; i < 4; i++) {
      JS_FreeValue(ctx, io->bufs[i]);
      io->bufs[i] = JS_UNDEFINED;
    }
    return JS_UNDEFINED;
  }
  /* The buffers' bytes are looked up on every call: a pointer kept across calls could outlive its buffer. */
  size_t rlen, mlen;
  uint8_t *rbuf = arg_bytes(ctx, io->bufs[0], &rlen, "ioDrain");
  uint8_t *rmeta = rbuf ? arg_bytes(ctx, io->bufs[1], &mlen, "ioDrain") : NULL;
  if (!rmeta) return JS_EXCEPTION;
  if (rlen < NETIO_BATCH * (size_t)io->slot || mlen < NETIO_BATCH * NETIO_REC * 4) return JS_ThrowRangeError(ctx, "ioDrain: buffers shrank");
  return JS_NewInt32(ctx, netio_drain(io->epfd, rbuf, io->slot, (int32_t *)rmeta));
}

/* ioAdd(handle, fd, tag), ioRemove(handle, fd). */
static JSValue js_io_watch(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  const char *usage = magic ? "ioRemove(handle, fd)" : "ioAdd(handle, fd, tag)";
  int32_t fd, tag = 0;
  io_t *io = argc < 2 + !magic ? NULL : get_io(ctx, argv[0]);
  if (!io || !arg_int(ctx, argv[1], &fd, usage) || (!magic && !arg_int(ctx, argv[2], &tag, usage)))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  if (magic) {
    netio_epoll_remove(io->epfd, fd);
    return JS_UNDEFINED;
  }
  int r = netio_epoll_add(io->epfd, fd, tag);
  return r < 0 ? throw_errno(ctx, -r, "epoll_ctl") : JS_UNDEFINED;
}

/* ioSend(handle, count) -> the number of datagrams the kernel refused. */
static JSValue js_io_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t count;
  io_t *io = argc < 2 ? NULL : get_io(ctx, argv[0]);
  if (!io || !arg_int(ctx, argv[1], &count, "ioSend(handle, count)"))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "ioSend(handle, count)");
  size_t slen, mlen;
  uint8_t *sbuf = arg_bytes(ctx, io->bufs[2], &slen, "ioSend");
  uint8_t *smeta = sbuf ? arg_bytes(ctx, io->bufs[3], &mlen, "ioSend") : NULL;
  if (!smeta) return JS_EXCEPTION;
  if (mlen < NETIO_BATCH * NETIO_REC * 4) return JS_ThrowRangeError(ctx, "ioSend: buffers shrank");
  int failed = netio_send_batch((const int32_t *)smeta, sbuf, slen, count);
  if (failed < 0) return JS_ThrowRangeError(ctx, "ioSend: bad count or a record outside the send buffer");
  return JS_NewInt32(ctx, failed);
}

static JSValue js_if_index(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  if (argc < 1 || !JS_IsString(argv[0])) return JS_ThrowTypeError(ctx, "ifIndex(name)");
  const char *name = JS_ToCString(ctx, argv[0]);
  if (!name) return JS_EXCEPTION;
  unsigned index = if_nametoindex(name);
  JS_FreeCString(ctx, name);
  return JS_NewUint32(ctx, index);
}

static JSValue js_addr_text(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  const char *usage = "addrText(family, address, scopeId)";
  uint32_t family, scope;
  size_t alen = 0;
  if (argc < 3 || !arg_u32(ctx, argv[0], &family, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  uint8_t *addr = arg_bytes(ctx, argv[1], &alen, usage);
  if (!addr || !arg_u32(ctx, argv[2], &scope, usage)) return JS_EXCEPTION;
  if (alen < (family == 6 ? 16u : 4u)) return JS_ThrowRangeError(ctx, "%s: address too short", usage);
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  netio_addr_text((int)family, addr, scope, text, sizeof text);
  return JS_NewString(ctx, text);
}

static JSValue js_addr_bytes(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  const char *usage = "addrBytes(family, text, out)";
  uint32_t family;
  size_t alen = 0;
  if (argc < 3 || !arg_u32(ctx, argv[0], &family, usage) || !JS_IsString(argv[1]))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  uint8_t *out = arg_bytes(ctx, argv[2], &alen, usage);
  if (!out) return JS_EXCEPTION;
  if (alen < 16) return JS_ThrowRangeError(ctx, "%s: out must hold 16 bytes", usage);
  const char *text = JS_ToCString(ctx, argv[1]);
  if (!text) return JS_EXCEPTION;
  int ok = netio_addr_bytes((int)family, text, out);
  JS_FreeCString(ctx, text);
  return JS_NewBool(ctx, ok == 1);
}

/* Files: flock(fd, op), fsync(fd), fchmod(fd, mode), ftruncate(fd, length): what QuickJS's os lacks for uci's
 * locked, durable writes (src/quickjs/files.ts). Each returns undefined or throws the errno. */
static JSValue js_file_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic) {
  (void)this_val;
  static const char *const usage[] = {"flock(fd, op)", "fsync(fd)", "fchmod(fd, mode)", "ftruncate(fd, length)"};
  static const char *const syscall[] = {"flock", "fsync", "fchmod", "ftruncate"};
  int32_t fd;
  double arg = 0;
  if (argc < (magic == 1 ? 1 : 2) || !arg_int(ctx, argv[0], &fd, usage[magic]))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage[magic]);
  if (magic != 1 && (!JS_IsNumber(argv[1]) || JS_ToFloat64(ctx, &arg, argv[1]) != 0 || arg < 0))
    return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowRangeError(ctx, "%s: expected a number >= 0", usage[magic]);
  int r = magic == 0   ? netio_flock(fd, (int)arg)
          : magic == 1 ? netio_fsync(fd)
          : magic == 2 ? netio_fchmod(fd, (unsigned)arg)
                       : netio_ftruncate(fd, arg);
  return r < 0 ? throw_errno(ctx, -r, syscall[magic]) : JS_UNDEFINED;
}

/* fstat(fd) → [dev, ino, mode, size]: os.stat takes a path only, and a lock must be checked against its fd. */
static JSValue js_fstat(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t fd;
  double st[4];
  if (argc < 1 || !arg_int(ctx, argv[0], &fd, "fstat(fd)")) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "fstat(fd)");
  int r = netio_fstat(fd, st);
  if (r < 0) return throw_errno(ctx, -r, "fstat");
  JSValue out = JS_NewArray(ctx);
  for (uint32_t i = 0; i < 4; i++) JS_SetPropertyUint32(ctx, out, i, JS_NewFloat64(ctx, st[i]));
  return out;
}

/* A JS array of strings as a NULL-terminated char *[] (each string JS_ToCString'ed); NULL with an exception. */
static char **arg_strings(JSContext *ctx, JSValueConst v, uint32_t *count, const char *usage) {
  JSValue lenv = JS_GetPropertyStr(ctx, v, "length");
  uint32_t n = 0;
  int ok = JS_IsArray(ctx, v) > 0 && JS_ToUint32(ctx, &n, lenv) == 0;
  JS_FreeValue(ctx, lenv);
  if (!ok) {
    if (!JS_HasException(ctx)) JS_ThrowTypeError(ctx, "%s: expected an array of strings", usage);
    return NULL;
  }
  char **out = calloc((size_t)n + 1, sizeof *out);
  if (!out) {
    JS_ThrowOutOfMemory(ctx);
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    JSValue item = JS_GetPropertyUint32(ctx, v, i);
    const char *text = JS_IsString(item) ? JS_ToCString(ctx, item) : NULL;
    JS_FreeValue(ctx, item);
    if (!text) {
      if (!JS_HasException(ctx)) JS_ThrowTypeError(ctx, "%s: item %u is not a string", usage, i);
      for (uint32_t j = 0; j < i; j++) JS_FreeCString(ctx, out[j]);
      free(out);
      return NULL;
    }
    out[i] = (char *)text;
  }
  *count = n;
  return out;
}

static void free_strings(JSContext *ctx, char **list, uint32_t count) {
  if (!list) return;
  for (uint32_t i = 0; i < count; i++) JS_FreeCString(ctx, list[i]);
  free(list);
}

/* exec(argv, env, gid): this process becomes argv[0] (PATH searched) with env (an array of NAME=value) in the
 * group gid (-1: unchanged). Returns only by throwing the errno of the call that failed. */
static JSValue js_exec(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  static const char usage[] = "exec(argv, env, gid)";
  int32_t gid;
  uint32_t nargs = 0, nenv = 0;
  if (argc < 3 || !arg_int(ctx, argv[2], &gid, usage)) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "%s", usage);
  char **args = arg_strings(ctx, argv[0], &nargs, usage);
  if (!args) return JS_EXCEPTION;
  if (nargs == 0) {
    free_strings(ctx, args, nargs);
    return JS_ThrowRangeError(ctx, "%s: argv is empty", usage);
  }
  char **env = arg_strings(ctx, argv[1], &nenv, usage);
  if (!env) {
    free_strings(ctx, args, nargs);
    return JS_EXCEPTION;
  }
  const char *syscall = "execvp";
  int r = netio_exec(args[0], args, env, gid, &syscall);
  free_strings(ctx, args, nargs);
  free_strings(ctx, env, nenv);
  return throw_errno(ctx, -r, syscall);
}

/* errnoCode(errno) → 'ENOENT': QuickJS's os calls return -errno, and the numbers differ per ABI (MIPS). */
static JSValue js_errno_code(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  (void)this_val;
  int32_t e;
  if (argc < 1 || !arg_int(ctx, argv[0], &e, "errnoCode(errno)")) return JS_HasException(ctx) ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "errnoCode(errno)");
  return JS_NewString(ctx, netio_errno_code(e));
}

static const JSCFunctionListEntry netio_funcs[] = {
    JS_CFUNC_DEF("setMark", 2, js_set_mark),
    JS_CFUNC_DEF("getMark", 1, js_get_mark),
    JS_CFUNC_DEF("bindDevice", 2, js_bind_device),
    JS_CFUNC_DEF("tcpSocket", 2, js_tcp_socket),
    JS_CFUNC_DEF("udpSocket", 4, js_udp_socket),
    JS_CFUNC_DEF("connect", 5, js_connect),
    JS_CFUNC_MAGIC_DEF("closeFd", 1, js_fd_call, 0),
    JS_CFUNC_MAGIC_DEF("localPort", 1, js_fd_call, 1),
    JS_CFUNC_MAGIC_DEF("socketError", 1, js_fd_call, 2),
    JS_CFUNC_MAGIC_DEF("shutdown", 1, js_fd_call, 3),
    JS_CFUNC_DEF("tcpListen", 4, js_tcp_listen),
    JS_CFUNC_DEF("accept", 2, js_accept),
    JS_CFUNC_MAGIC_DEF("unixListen", 1, js_unix_call, 0),
    JS_CFUNC_MAGIC_DEF("unixConnect", 1, js_unix_call, 1),
    JS_CFUNC_DEF("netlinkSocket", 2, js_netlink_socket),
    JS_CFUNC_DEF("netlinkOpen", 2, js_netlink_open),
    JS_CFUNC_MAGIC_DEF("netlinkBind", 2, js_fd_int_call, 0),
    JS_CFUNC_MAGIC_DEF("setRcvbuf", 2, js_fd_int_call, 1),
    JS_CFUNC_MAGIC_DEF("getRcvbuf", 1, js_fd_int_call, 2),
    JS_CFUNC_MAGIC_DEF("netlinkOption", 3, js_fd_int_call, 3),
    JS_CFUNC_DEF("recvWait", 3, js_recv_wait),
    JS_CFUNC_DEF("errnoCode", 1, js_errno_code),
    JS_CFUNC_MAGIC_DEF("send", 3, js_io_call, 0),
    JS_CFUNC_MAGIC_DEF("recv", 2, js_io_call, 1),
    JS_CFUNC_DEF("ioOpen", 5, js_io_open),
    JS_CFUNC_MAGIC_DEF("ioFd", 1, js_io_handle, 0),
    JS_CFUNC_MAGIC_DEF("ioDrain", 1, js_io_handle, 1),
    JS_CFUNC_MAGIC_DEF("ioClose", 1, js_io_handle, 2),
    JS_CFUNC_MAGIC_DEF("ioAdd", 3, js_io_watch, 0),
    JS_CFUNC_MAGIC_DEF("ioRemove", 2, js_io_watch, 1),
    JS_CFUNC_DEF("ioSend", 2, js_io_send),
    JS_CFUNC_DEF("ifIndex", 1, js_if_index),
    JS_CFUNC_DEF("addrText", 3, js_addr_text),
    JS_CFUNC_DEF("addrBytes", 3, js_addr_bytes),
    JS_CFUNC_MAGIC_DEF("flock", 2, js_file_call, 0),
    JS_CFUNC_MAGIC_DEF("fsync", 1, js_file_call, 1),
    JS_CFUNC_MAGIC_DEF("fchmod", 2, js_file_call, 2),
    JS_CFUNC_MAGIC_DEF("ftruncate", 2, js_file_call, 3),
    JS_CFUNC_DEF("fstat", 1, js_fstat),
    JS_CFUNC_DEF("exec", 3, js_exec),
    JS_PROP_INT32_DEF("LOCK_SH", LOCK_SH, 0),
    JS_PROP_INT32_DEF("LOCK_EX", LOCK_EX, 0),
    JS_PROP_INT32_DEF("LOCK_UN", LOCK_UN, 0),
    JS_PROP_INT32_DEF("BATCH", NETIO_BATCH, 0),
    JS_PROP_INT32_DEF("REC", NETIO_REC, 0),
};

static int netio_module_init(JSContext *ctx, JSModuleDef *m) {
  JS_NewClassID(&io_class_id);
  if (JS_NewClass(JS_GetRuntime(ctx), io_class_id, &io_class) < 0) return -1;
  return JS_SetModuleExportList(ctx, m, netio_funcs, countof(netio_funcs));
}

#ifdef JS_SHARED_LIBRARY
#define js_init_module_netio js_init_module
#endif

/* Registers the module under module_name ("meshwan:netio" in meshwan-js; qjs names a .so by its path). */
JSModuleDef *js_init_module_netio(JSContext *ctx, const char *module_name) {
  JSModuleDef *m = JS_NewCModule(ctx, module_name, netio_module_init);
  if (!m) return NULL;
  JS_AddModuleExportList(ctx, m, netio_funcs, countof(netio_funcs));
  return m;
}
