/*
 * sockmark: the WAN mark (SO_MARK, see socket(7)) for sockets Node cannot mark itself.
 * setMark(fd, mark) and getMark(fd) act on an existing fd (a dgram socket's handle);
 * tcpSocket(family, mark) creates a non-blocking, close-on-exec TCP socket that carries the mark from
 * before its first packet (the SYN), for net.Socket({ fd }) to connect.
 * The batched UDP I/O (ioOpen, udpSocket ...) is in batchio.c.
 * Errors are thrown as Error objects with `errno` (number), `code` ('EPERM') and `syscall`, so the caller
 * can tell "no CAP_NET_ADMIN" from a bad fd. Logic stays in TypeScript; this file only makes syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batchio.h"

static const char *errno_code(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case EBADF: return "EBADF";
  case ENOTSOCK: return "ENOTSOCK";
  case EINVAL: return "EINVAL";
  case ENOPROTOOPT: return "ENOPROTOOPT";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case ENOBUFS: return "ENOBUFS";
  case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES";
  case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EAGAIN: return "EAGAIN";
  default: return "EUNKNOWN";
  }
}

/* Throws an Error carrying errno, code and syscall; always returns NULL for the caller to return. */
napi_value throw_errno(napi_env env, int e, const char *syscall) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s (%s)", syscall, strerror(e), errno_code(e));
  napi_value msg, err, num, code, sys;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_create_int32(env, e, &num);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "errno", num);
  napi_set_named_property(env, err, "code", code);
  napi_set_named_property(env, err, "syscall", sys);
  napi_throw(env, err);
  return NULL;
}

/* Reads argv[i] as an int32 (fd) or uint32 (mark); throws a TypeError and returns 0 when it is not a number. */
static int arg_u32(napi_env env, napi_value v, uint32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, NULL, "expected a number");
    return 0;
  }
  return napi_get_value_uint32(env, v, out) == napi_ok;
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
  if (setsockopt((int)fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) return throw_errno(env, errno, "setsockopt(SO_MARK)");
  return NULL;
}

static napi_value get_mark(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  uint32_t fd, mark = 0;
  socklen_t len = sizeof mark;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "getMark(fd)");
    return NULL;
  }
  if (!arg_u32(env, argv[0], &fd)) return NULL;
  if (getsockopt((int)fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) return throw_errno(env, errno, "getsockopt(SO_MARK)");
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
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
    /* lib-packetmark (LD_PRELOAD) may have marked it in socket() already: that is as good. */
    int e = errno;
    uint32_t found = 0;
    socklen_t len = sizeof found;
    if (getsockopt(fd, SOL_SOCKET, SO_MARK, &found, &len) != 0 || found != mark) {
      close(fd);
      return throw_errno(env, e, "setsockopt(SO_MARK)");
    }
  }
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !arg_u32(env, argv[0], &fd)) return NULL;
  if (close((int)fd) != 0) return throw_errno(env, errno, "close");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setMark", NULL, set_mark, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMark", NULL, get_mark, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpSocket", NULL, tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  batchio_init(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
