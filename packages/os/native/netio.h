/*
 * netio: the C that marks sockets, batches datagrams and speaks to netlink, free of any JS engine.
 * Bound twice, with the same functions: netio-napi.c (Node's N-API, for the development side) and netio-qjs.c
 * (QuickJS, what runs on the router). Every function returns >= 0 on success and -errno on failure, so each
 * binding turns one failure convention into its engine's exception.
 *
 * Batch records (int32 each, REC per datagram), shared by the receive and send metadata buffers:
 *   [0] tag (recv) or fd (send), [1] byte offset, [2] length, [3] family 4|6, [4] port, [5] IPv6 scope id,
 *   [6] flags (1: datagram truncated, MSG_TRUNC), [7] unused, [8..11] address (4 or 16 bytes, network order).
 */
#ifndef MESHWAN_NETIO_H
#define MESHWAN_NETIO_H
#include <stddef.h>
#include <stdint.h>

#define NETIO_BATCH 64
#define NETIO_REC 12

/* The errno's symbolic name ("EPERM"), "EUNKNOWN" for one not listed. */
const char *netio_errno_code(int e);

int netio_set_mark(int fd, uint32_t mark);
/* Writes the mark of fd to *mark. */
int netio_get_mark(int fd, uint32_t *mark);
/* SO_BINDTODEVICE: the socket only sends and receives through the interface `name` ("" unbinds). */
int netio_bind_device(int fd, const char *name);
/* A non-blocking, close-on-exec TCP socket carrying `mark` from before its first packet (the SYN). */
int netio_tcp_socket(int family, uint32_t mark);
/* A non-blocking, close-on-exec UDP socket bound to address:port (family 4|6; IPv6 sockets are IPv6 only). */
int netio_udp_socket(int family, const uint8_t *address, unsigned port, unsigned scope_id);
/* connect(2) to a record's address: 0 when connected, -EINPROGRESS while a non-blocking TCP connect runs. */
int netio_connect(int fd, const int32_t *rec);
/* The port fd is bound to (getsockname). */
int netio_local_port(int fd);
/* The pending error of a socket (SO_ERROR): after a non-blocking connect, 0 or the errno it failed with. */
int netio_socket_error(int fd);
int netio_close(int fd);
/* A non-blocking, close-on-exec TCP socket listening on address:port (SO_REUSEADDR; IPv6 sockets are IPv6 only). */
int netio_tcp_listen(int family, const uint8_t *address, unsigned port, unsigned scope_id);
/* accept4(2) of one connection, non-blocking and close-on-exec; its peer goes into rec (family, port, scope,
 * address as in a batch record). -EAGAIN when none waits. */
int netio_accept(int fd, int32_t *rec);
/* A non-blocking, close-on-exec unix stream socket listening on `path` (a control socket), or connected to it. */
int netio_unix_listen(const char *path);
int netio_unix_connect(const char *path);
/* shutdown(SHUT_WR): the peer reads the end of the stream after what was sent. */
int netio_shutdown(int fd);

/* A non-blocking, close-on-exec netlink socket of `protocol` (NETLINK_ROUTE = 0) bound to the multicast `groups`. */
int netio_netlink_socket(int protocol, uint32_t groups);
/*
 * A non-blocking, close-on-exec netlink socket of `protocol`, not yet bound, created inside the network namespace
 * of the file netns_path (/run/netns/NAME) when it is not NULL: setns(CLONE_NEWNET) moves only the calling thread
 * and a socket keeps the namespace it was created in, so the thread switches there and back around socket().
 */
int netio_netlink_open(int protocol, const char *netns_path);
/* Binds a netlink socket to the multicast `groups` and writes its port id (nl_pid: a process's second and later
 * sockets get ids with the top bit set, so it is not a return value). */
int netio_netlink_bind(int fd, uint32_t groups, uint32_t *portid);
/* An int option at SOL_NETLINK (NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NETLINK_CAP_ACK: the same on every ABI). */
int netio_netlink_option(int fd, int name, int value);
/* SO_RCVBUFFORCE (CAP_NET_ADMIN), else SO_RCVBUF: SOL_SOCKET and SO_RCVBUF differ per ABI (MIPS), so they stay here. */
int netio_set_rcvbuf(int fd, int bytes);
/* The kernel's SO_RCVBUF of fd (twice what was asked). */
int netio_get_rcvbuf(int fd);
/*
 * Receives one datagram, waiting up to timeout_ms (< 0: forever; 0: not at all, -EAGAIN when empty) and -ETIMEDOUT
 * when none came. A datagram larger than len is -EMSGSIZE rather than a silently lost tail.
 */
int netio_recv_wait(int fd, uint8_t *buf, size_t len, int timeout_ms);
/* Sends one buffer to the kernel (netlink) or the connected peer; returns bytes sent. */
int netio_send(int fd, const uint8_t *buf, size_t len);
/* Receives into buf without blocking; returns bytes, -EAGAIN when nothing is ready. */
int netio_recv(int fd, uint8_t *buf, size_t len);

/* epoll set that holds every UDP fd of a batch loop; the binding watches its fd for readability. */
int netio_epoll_open(void);
int netio_epoll_add(int epfd, int fd, int32_t tag);
int netio_epoll_remove(int epfd, int fd);
/*
 * Drains ready fds of epfd with recvmmsg into rbuf (NETIO_BATCH slots of `slot` bytes) and rmeta
 * (NETIO_BATCH records); returns the number of datagrams (0..NETIO_BATCH).
 */
int netio_drain(int epfd, uint8_t *rbuf, size_t slot, int32_t *rmeta);
/*
 * Sends the first `count` records of smeta (data in sbuf of slen bytes), one sendmmsg per run of records on the
 * same fd. Returns the number of datagrams the kernel refused (skipped), or -EINVAL (nothing sent) when a record
 * lies outside sbuf or count is out of range.
 */
int netio_send_batch(const int32_t *smeta, uint8_t *sbuf, size_t slen, int count);

/* Writes text's address bytes (inet_pton) into out, zero-padded to 16; 1 when text is an address of family, else 0. */
int netio_addr_bytes(int family, const char *text, uint8_t out[16]);
/* The address as text, `fe80::1%eth0` for a scoped IPv6 one (as Node's dgram reports a sender). */
void netio_addr_text(int family, const uint8_t *address, unsigned scope_id, char *out, size_t size);
/* flock(2) (retried on EINTR), fsync, fchmod, ftruncate: 0 or -errno. */
int netio_flock(int fd, int op);
int netio_fsync(int fd);
int netio_fchmod(int fd, unsigned mode);
int netio_ftruncate(int fd, double length);
/* fstat: out = { st_dev, st_ino, st_mode, st_size }; 0 or -errno. */
int netio_fstat(int fd, double out[4]);

/* Programs: becomes `file` (execvpe: PATH searched as a shell does, ENOEXEC run by /bin/sh) with argv and envp,
 * after setgroups(0) and setgid(gid) when gid >= 0; stdout and stderr are flushed first. Returns only when that
 * fails: -errno, and *syscall names the call that failed ("setgid", "execvp"). */
int netio_exec(const char *file, char *const argv[], char *const envp[], long gid, const char **syscall);

#endif
