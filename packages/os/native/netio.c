/*
 * netio: marked sockets, batched UDP I/O and netlink sockets as plain syscalls (see netio.h). No engine, no
 * logic: the TypeScript above decides, this file only calls the kernel and reports -errno.
 */
#define _GNU_SOURCE
#include "netio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <unistd.h>

const char *netio_errno_code(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case EBADF: return "EBADF";
  case ENOTSOCK: return "ENOTSOCK";
  case EINVAL: return "EINVAL";
  case ENOPROTOOPT: return "ENOPROTOOPT";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case ENOBUFS: return "ENOBUFS";
  case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES";
  case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EAGAIN: return "EAGAIN";
  case EINPROGRESS: return "EINPROGRESS";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ECONNRESET: return "ECONNRESET";
  case ENETUNREACH: return "ENETUNREACH";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ENODEV: return "ENODEV";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EMSGSIZE: return "EMSGSIZE";
  /* Files (src/quickjs/files.ts). */
  case ENOENT: return "ENOENT";
  case EEXIST: return "EEXIST";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  case ENOTEMPTY: return "ENOTEMPTY";
  case EROFS: return "EROFS";
  case ENOSPC: return "ENOSPC";
  case EIO: return "EIO";
  case EXDEV: return "EXDEV";
  case ELOOP: return "ELOOP";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ENOSYS: return "ENOSYS";
  case EBUSY: return "EBUSY";
  case EFBIG: return "EFBIG";
  case EOVERFLOW: return "EOVERFLOW";
  case ENXIO: return "ENXIO";
  case ETXTBSY: return "ETXTBSY";
  case EINTR: return "EINTR";
  case ESRCH: return "ESRCH";
  case E2BIG: return "E2BIG";
  case ERANGE: return "ERANGE";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case ENETDOWN: return "ENETDOWN";
  case EPROTO: return "EPROTO";
  case ENOTCONN: return "ENOTCONN";
  case EALREADY: return "EALREADY";
  case ENOEXEC: return "ENOEXEC";
  default: return "EUNKNOWN";
  }
}

static int fail(void) { return -errno; }

int netio_set_mark(int fd, uint32_t mark) {
  return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0 ? 0 : fail();
}

int netio_get_mark(int fd, uint32_t *mark) {
  socklen_t len = sizeof *mark;
  *mark = 0;
  return getsockopt(fd, SOL_SOCKET, SO_MARK, mark, &len) == 0 ? 0 : fail();
}

int netio_bind_device(int fd, const char *name) {
  return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) == 0 ? 0 : fail();
}

int netio_tcp_socket(int family, uint32_t mark) {
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  int e = netio_set_mark(fd, mark);
  if (e != 0) {
    /* lib-packetmark (LD_PRELOAD) may have marked it in socket() already: that is as good. */
    uint32_t found = 0;
    if (netio_get_mark(fd, &found) != 0 || found != mark) {
      close(fd);
      return e;
    }
  }
  return fd;
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

/*
 * A non-blocking, close-on-exec socket of `type` bound to address:port (IPv6 sockets IPv6-only: [::]:54 must not
 * take 0.0.0.0:54 too), SO_REUSEADDR first when `reuse` (a TCP listener: a restart must not wait out TIME_WAIT, as
 * Node's net sets it); then listening when `backlog` > 0. Returns the fd or -errno, closing what it opened.
 */
static int bound_socket(int type, int family, const uint8_t *address, unsigned port, unsigned scope_id, int reuse, int backlog) {
  if (port > 65535) return -EINVAL;
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  int32_t rec[NETIO_REC] = {0};
  rec[3] = family == 6 ? 6 : 4;
  rec[4] = (int32_t)port;
  rec[5] = (int32_t)scope_id;
  memcpy(rec + 8, address, family == 6 ? 16 : 4);
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(rec, &ss);
  int one = 1;
  if ((reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
      (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) || bind(fd, (struct sockaddr *)&ss, len) != 0 ||
      (backlog > 0 && listen(fd, backlog) != 0)) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int netio_udp_socket(int family, const uint8_t *address, unsigned port, unsigned scope_id) {
  return bound_socket(SOCK_DGRAM, family, address, port, scope_id, 0, 0);
}

int netio_connect(int fd, const int32_t *rec) {
  struct sockaddr_storage ss;
  socklen_t len = to_sockaddr(rec, &ss);
  return connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : fail();
}

int netio_local_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return fail();
  int32_t rec[NETIO_REC];
  fill_addr(rec, &ss);
  return rec[4];
}

int netio_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err : fail();
}

int netio_close(int fd) { return close(fd) == 0 ? 0 : fail(); }

int netio_tcp_listen(int family, const uint8_t *address, unsigned port, unsigned scope_id) {
  return bound_socket(SOCK_STREAM, family, address, port, scope_id, 1, 511);
}

int netio_accept(int fd, int32_t *rec) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int c;
  do c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (c < 0 && errno == EINTR);
  if (c < 0) return fail();
  memset(rec, 0, NETIO_REC * sizeof rec[0]);
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) fill_addr(rec, &ss);
  return c;
}

static int unix_socket(const char *path, int listening) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  int r = listening ? bind(fd, (struct sockaddr *)&sa, sizeof sa) : connect(fd, (struct sockaddr *)&sa, sizeof sa);
  if (r == 0 && listening) r = listen(fd, 16);
  /* A unix connect completes at once or fails; EAGAIN (a full backlog) is a failure too. */
  if (r != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int netio_unix_listen(const char *path) { return unix_socket(path, 1); }
int netio_unix_connect(const char *path) { return unix_socket(path, 0); }
int netio_shutdown(int fd) { return shutdown(fd, SHUT_WR) == 0 ? 0 : fail(); }

int netio_netlink_open(int protocol, const char *netns_path) {
  int saved = -1, target = -1;
  if (netns_path != NULL) {
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) return fail();
    target = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0 || setns(target, CLONE_NEWNET) < 0) {
      int e = errno;
      if (target >= 0) close(target);
      close(saved);
      return -e;
    }
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  int e = errno;
  if (saved >= 0) {
    if (setns(saved, CLONE_NEWNET) < 0) abort(); /* the thread must never stay in a foreign namespace */
    close(saved);
    close(target);
  }
  return fd < 0 ? -e : fd;
}

int netio_netlink_bind(int fd, uint32_t groups, uint32_t *portid) {
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return fail();
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) return fail();
  *portid = sa.nl_pid;
  return 0;
}

int netio_netlink_socket(int protocol, uint32_t groups) {
  int fd = netio_netlink_open(protocol, NULL);
  if (fd < 0) return fd;
  uint32_t portid;
  int r = netio_netlink_bind(fd, groups, &portid);
  if (r < 0) {
    close(fd);
    return r;
  }
  return fd;
}

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int netio_netlink_option(int fd, int name, int value) {
  return setsockopt(fd, SOL_NETLINK, name, &value, sizeof value) == 0 ? 0 : fail();
}

int netio_set_rcvbuf(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
  return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0 ? 0 : fail();
}

int netio_get_rcvbuf(int fd) {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &len) == 0 ? value : fail();
}

int netio_recv_wait(int fd, uint8_t *buf, size_t len, int timeout_ms) {
  for (;;) {
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0) return (size_t)n > len ? -EMSGSIZE : (int)n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN || timeout_ms == 0) return fail();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (r == 0) return -ETIMEDOUT;
    if (r < 0 && errno != EINTR) return fail();
  }
}

int netio_send(int fd, const uint8_t *buf, size_t len) {
  ssize_t n;
  do n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? fail() : (int)n;
}

int netio_recv(int fd, uint8_t *buf, size_t len) {
  ssize_t n;
  do n = recv(fd, buf, len, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n < 0 ? fail() : (int)n;
}

int netio_epoll_open(void) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? fail() : fd;
}

int netio_epoll_add(int epfd, int fd, int32_t tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)(uint32_t)tag << 32) | (uint32_t)fd};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : fail();
}

int netio_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : fail(); }

int netio_drain(int epfd, uint8_t *rbuf, size_t slot, int32_t *rmeta) {
  struct epoll_event ev[NETIO_BATCH];
  struct mmsghdr msgs[NETIO_BATCH];
  struct iovec iov[NETIO_BATCH];
  struct sockaddr_storage from[NETIO_BATCH];
  int ready = epoll_wait(epfd, ev, NETIO_BATCH, 0);
  int total = 0;
  for (int e = 0; e < ready && total < NETIO_BATCH; e++) {
    int fd = (int)(ev[e].data.u64 & 0xffffffffu);
    int32_t tag = (int32_t)(ev[e].data.u64 >> 32);
    int want = NETIO_BATCH - total;
    for (int i = 0; i < want; i++) {
      iov[i].iov_base = rbuf + (size_t)(total + i) * slot;
      iov[i].iov_len = slot;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, (unsigned)want, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
      int32_t *rec = rmeta + (size_t)(total + i) * NETIO_REC;
      rec[0] = tag;
      rec[1] = (int32_t)((size_t)(total + i) * slot);
      rec[2] = (int32_t)(msgs[i].msg_len > slot ? slot : msgs[i].msg_len);
      fill_addr(rec, &from[i]);
      rec[6] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    if (n > 0) total += n;
  }
  return total;
}

int netio_send_batch(const int32_t *smeta, uint8_t *sbuf, size_t slen, int count) {
  if (count < 0 || count > NETIO_BATCH) return -EINVAL;
  struct mmsghdr msgs[NETIO_BATCH];
  struct iovec iov[NETIO_BATCH];
  struct sockaddr_storage to[NETIO_BATCH];
  for (int i = 0; i < count; i++) {
    const int32_t *rec = smeta + (size_t)i * NETIO_REC;
    if (rec[1] < 0 || rec[2] < 0 || (size_t)rec[1] + (size_t)rec[2] > slen) return -EINVAL;
    iov[i].iov_base = sbuf + rec[1];
    iov[i].iov_len = (size_t)rec[2];
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = to_sockaddr(rec, &to[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int failed = 0, i = 0;
  while (i < count) {
    int fd = smeta[(size_t)i * NETIO_REC];
    int run = 1;
    while (i + run < count && smeta[(size_t)(i + run) * NETIO_REC] == fd) run++;
    int n = sendmmsg(fd, msgs + i, (unsigned)run, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed++; /* the first of the run was refused (EAGAIN, ENETUNREACH, EPERM from a firewall ...): skip it */
      i++;
    } else {
      i += n;
    }
  }
  return failed;
}

int netio_addr_bytes(int family, const char *text, uint8_t out[16]) {
  memset(out, 0, 16);
  return inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out) == 1;
}

void netio_addr_text(int family, const uint8_t *address, unsigned scope_id, char *out, size_t size) {
  char ifname[IF_NAMESIZE];
  if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, address, out, (socklen_t)size) == NULL) {
    out[0] = '\0';
    return;
  }
  if (family == 6 && scope_id != 0 && if_indextoname(scope_id, ifname) != NULL && strlen(out) + strlen(ifname) + 2 <= size) {
    strcat(out, "%");
    strcat(out, ifname);
  }
}

/* Files (the seam's `files` module): what QuickJS's os module lacks for a durable, locked write. */

int netio_flock(int fd, int op) {
  int r;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  return r == 0 ? 0 : fail();
}

int netio_fsync(int fd) { return fsync(fd) == 0 ? 0 : fail(); }

int netio_fchmod(int fd, unsigned mode) { return fchmod(fd, (mode_t)mode) == 0 ? 0 : fail(); }

int netio_ftruncate(int fd, double length) { return ftruncate(fd, (off_t)length) == 0 ? 0 : fail(); }

int netio_fstat(int fd, double out[4]) {
  struct stat st;
  if (fstat(fd, &st) != 0) return fail();
  out[0] = (double)st.st_dev;
  out[1] = (double)st.st_ino;
  out[2] = (double)st.st_mode;
  out[3] = (double)st.st_size;
  return 0;
}

/* Programs (the seam's programs.execInPlace: meshwan-wan). */

int netio_exec(const char *file, char *const argv[], char *const envp[], long gid, const char **syscall) {
  /* What the engine buffered is this process's output, and exec would drop it. */
  fflush(stdout);
  fflush(stderr);
  if (gid >= 0) {
    /* As libuv does for Node's spawn({ gid }): drop root's supplementary groups, so only `gid` is left; an
     * unprivileged caller cannot (EPERM) and keeps its own, harmless ones. setgid itself must succeed. */
    if (setgroups(0, NULL) != 0 && errno != EPERM) {
      *syscall = "setgroups";
      return fail();
    }
    if (setgid((gid_t)gid) != 0) {
      *syscall = "setgid";
      return fail();
    }
  }
  execvpe(file, argv, envp);
  *syscall = "execvp";
  return fail();
}
