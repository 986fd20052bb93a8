/*
 * batchio: batched UDP I/O for the forwarder (src/batch-io.ts holds the logic).
 * One epoll set holds every UDP fd (listeners and upstream pool sockets); libuv watches that epoll fd with one
 * uv_poll_t, so a wake-up drains every ready fd with recvmmsg(2) into one preallocated buffer and calls JS once
 * per batch of up to BATCH datagrams. JS queues replies and upstream queries into a second buffer and flushes them
 * with sendmmsg(2), one call per run of datagrams on the same fd.
 * The buffers are JS-owned (an ArrayBuffer each, kept alive by references); record layout, in int32s:
 *   [0] tag (recv) or fd (send), [1] byte offset, [2] length, [3] family 4|6, [4] port, [5] IPv6 scope id,
 *   [6] flags (1: datagram truncated, MSG_TRUNC), [7] unused, [8..11] address (4 or 16 bytes, network order).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "batchio.h"

#define BATCH 64
#define REC 12 /* int32 per record */
/* Batches handled per wake-up before libuv gets control back (timers, TCP): bounds the time spent per wake. */
#define ROUNDS 8

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

static int32_t *buf_data(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  size_t n = 0;
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &count, &data, &ab, &offset) != napi_ok) return NULL;
    /* Element count times element size: only Uint8Array (Buffer) and Int32Array are used. */
    n = type == napi_int32_array ? count * 4 : count;
  } else {
    return NULL;
  }
  *len = n;
  return data;
}

static void fill_addr(int32_t *rec, const struct sockaddr_storage *ss) {
  uint8_t *addr = (uint8_t *)(rec + 8);
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    rec[3] = 6;
    rec[4] = ntohs(s6->sin6_port);
    rec[5] = (int32_t)s6->sin6_scope_id;
    memcpy(addr, &s6->sin6_addr, 16);
  } else {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
    rec[3] = 4;
    rec[4] = ntohs(s4->sin_port);
    rec[5] = 0;
    memset(addr, 0, 16);
    memcpy(addr, &s4->sin_addr, 4);
  }
}

static socklen_t to_sockaddr(const int32_t *rec, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (rec[3] == 6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)rec[4]);
    s6->sin6_scope_id = (uint32_t)rec[5];
    memcpy(&s6->sin6_addr, rec + 8, 16);
    return sizeof *s6;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t)rec[4]);
  memcpy(&s4->sin_addr, rec + 8, 4);
  return sizeof *s4;
}

/* Drains ready fds into the receive buffer; returns the number of datagrams (0..BATCH). */
static int drain(io_t *io) {
  struct epoll_event ev[BATCH];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage from[BATCH];
  int ready = epoll_wait(io->epfd, ev, BATCH, 0);
  int total = 0;
  for (int e = 0; e < ready && total < BATCH; e++) {
    int fd = (int)(ev[e].data.u64 & 0xffffffffu);
    int32_t tag = (int32_t)(ev[e].data.u64 >> 32);
    int want = BATCH - total;
    for (int i = 0; i < want; i++) {
      int k = total + i;
      iov[i].iov_base = io->rbuf + (size_t)k * io->slot;
      iov[i].iov_len = io->slot;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, (unsigned)want, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
      int32_t *rec = io->rmeta + (size_t)(total + i) * REC;
      rec[0] = tag;
      rec[1] = (int32_t)((size_t)(total + i) * io->slot);
      rec[2] = (int32_t)(msgs[i].msg_len > io->slot ? io->slot : msgs[i].msg_len);
      fill_addr(rec, &from[i]);
      rec[6] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    if (n > 0) total += n;
  }
  return total;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  io_t *io = (io_t *)handle->data;
  if (status < 0 || io->closing) return;
  napi_env env = io->env;
  for (int round = 0; round < ROUNDS && !io->closing; round++) {
    int n = drain(io);
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
    if (n < BATCH) break;
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
  io->rbuf = (uint8_t *)buf_data(env, argv[0], &io->rlen);
  io->rmeta = buf_data(env, argv[1], &rmlen);
  io->sbuf = (uint8_t *)buf_data(env, argv[2], &io->slen);
  io->smeta = buf_data(env, argv[3], &smlen);
  io->slot = slot;
  if (!io->rbuf || !io->rmeta || !io->sbuf || !io->smeta || io->rlen < BATCH * (size_t)slot || rmlen < BATCH * REC * 4 ||
      smlen < BATCH * REC * 4) {
    free(io);
    napi_throw_range_error(env, NULL, "ioOpen: buffers too small");
    return NULL;
  }
  io->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (io->epfd < 0) {
    int e = errno;
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
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)(uint32_t)tag << 32) | (uint32_t)fd};
  if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return throw_errno(env, errno, "epoll_ctl");
  return NULL;
}

/* ioRemove(handle, fd): stop watching fd (before it is closed). */
static napi_value io_remove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 2 ? NULL : get_io(env, argv[0]);
  if (!io || napi_get_value_int32(env, argv[1], &fd) != napi_ok) return NULL;
  epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
  return NULL;
}

/*
 * ioSend(handle, count) -> failed: sends the first count queued records, one sendmmsg per run on the same fd.
 * A datagram the kernel refuses (EAGAIN, ENETUNREACH, EPERM from a firewall ...) is skipped and counted.
 */
static napi_value io_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  io_t *io = argc < 2 ? NULL : get_io(env, argv[0]);
  if (!io || napi_get_value_int32(env, argv[1], &count) != napi_ok) return NULL;
  if (count < 0 || count > BATCH) {
    napi_throw_range_error(env, NULL, "ioSend: bad count");
    return NULL;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage to[BATCH];
  int failed = 0;
  for (int i = 0; i < count; i++) {
    const int32_t *rec = io->smeta + (size_t)i * REC;
    if (rec[1] < 0 || rec[2] < 0 || (size_t)rec[1] + (size_t)rec[2] > io->slen) {
      napi_throw_range_error(env, NULL, "ioSend: record outside the send buffer");
      return NULL;
    }
    iov[i].iov_base = io->sbuf + rec[1];
    iov[i].iov_len = (size_t)rec[2];
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = to_sockaddr(rec, &to[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int i = 0;
  while (i < count) {
    int fd = io->smeta[(size_t)i * REC];
    int run = 1;
    while (i + run < count && io->smeta[(size_t)(i + run) * REC] == fd) run++;
    int n = sendmmsg(fd, msgs + i, (unsigned)run, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed++; /* the first of the run was refused: skip it, go on with the rest */
      i++;
    } else {
      i += n;
    }
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
  uint8_t *addr = argc < 4 ? NULL : (uint8_t *)buf_data(env, argv[1], &alen);
  if (!addr || napi_get_value_uint32(env, argv[0], &family) != napi_ok || napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &scope) != napi_ok || alen < (family == 6 ? 16u : 4u) || port > 65535) {
    napi_throw_type_error(env, NULL, "udpSocket(family, address, port, scopeId)");
    return NULL;
  }
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int32_t rec[REC] = {0};
  rec[3] = family == 6 ? 6 : 4;
  rec[4] = (int32_t)port;
  rec[5] = (int32_t)scope;
  memcpy(rec + 8, addr, family == 6 ? 16 : 4);
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(rec, &ss);
  int one = 1;
  /* An IPv6 socket for IPv6 only, as dgram's ipv6Only: [::]:54 must not take 0.0.0.0:54 too. */
  if ((family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) || bind(fd, (struct sockaddr *)&ss, len) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind");
  }
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
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, errno, "getsockname");
  int32_t rec[REC];
  fill_addr(rec, &ss);
  napi_create_int32(env, rec[4], &result);
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
  uint8_t *addr = argc < 3 ? NULL : (uint8_t *)buf_data(env, argv[1], &alen);
  if (!addr || napi_get_value_uint32(env, argv[0], &family) != napi_ok || napi_get_value_uint32(env, argv[2], &scope) != napi_ok ||
      alen < 16) {
    napi_throw_type_error(env, NULL, "addrText(family, address, scopeId)");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, text, INET6_ADDRSTRLEN);
  char ifname[IF_NAMESIZE];
  if (family == 6 && scope != 0 && if_indextoname(scope, ifname) != NULL) {
    strcat(text, "%");
    strcat(text, ifname);
  }
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
  uint8_t *out = argc < 3 ? NULL : (uint8_t *)buf_data(env, argv[2], &alen);
  if (!out || alen < 16 || napi_get_value_uint32(env, argv[0], &family) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], text, sizeof text, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "addrBytes(family, text, out)");
    return NULL;
  }
  memset(out, 0, 16);
  napi_get_boolean(env, inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out) == 1, &result);
  return result;
}

void batchio_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"ioOpen", NULL, io_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioAdd", NULL, io_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioRemove", NULL, io_remove, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioSend", NULL, io_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ioClose", NULL, io_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSocket", NULL, udp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"localPort", NULL, local_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifIndex", NULL, if_index, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addrText", NULL, addr_text, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addrBytes", NULL, addr_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
