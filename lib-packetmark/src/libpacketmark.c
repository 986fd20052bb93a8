// SPDX-License-Identifier: BSD-2-Clause
/*
 * libpacketmark: an LD_PRELOAD library that sets SO_MARK on every AF_INET and AF_INET6 socket a process opens,
 * so the policy rule `fwmark 0x1/0x1 lookup 1` sends its traffic to the WAN table.
 *
 * It replaces Gluon's libpacketmark (freifunk-gluon/packages libs/libpacketmark), fixing three faults:
 *  - the mark was parsed with atoi, so LIBPACKETMARK_MARK=0x1 marked with 0: here it is strtoul(..., 0), checked;
 *  - the setsockopt result was discarded, so a process without CAP_NET_ADMIN sent unmarked packets through the
 *    main table (gluon #3613, WAN DNS leaked onto the mesh): here it is reported, and LIBPACKETMARK_STRICT=1 fails
 *    socket() with EPERM so no unmarked socket exists;
 *  - it marked every family: here only AF_INET/AF_INET6 (a mark on AF_UNIX or AF_NETLINK routes nothing).
 *
 * Environment: LIBPACKETMARK_MARK (required; decimal, 0x hex or 0 octal; 32 bits), LIBPACKETMARK_STRICT (1 or 0).
 * Warnings are one line on stderr, each at most once per process, written with write(2) so the program's stdio
 * buffers are not touched.
 *
 * Thread safety: the real socket() and the settings are resolved once, under pthread_once (from the constructor,
 * or the first socket() if that comes earlier); the warnings use atomic flags. What it cannot see: statically linked programs, raw syscall(SYS_socket) (Go), and sockets libc
 * opens through its internal __socket (glibc's res_send behind getaddrinfo/gethostbyname/res_query): see README.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

enum mark_state {
	MARK_OK,	/* mark holds a valid value */
	MARK_UNSET,	/* LIBPACKETMARK_MARK is not in the environment */
	MARK_INVALID,	/* present but empty, not a number, negative or above 32 bits */
};

typedef int (*socket_fn)(int domain, int type, int protocol);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static socket_fn real_socket;
static enum mark_state state;
static uint32_t mark;
static int strict;
static int strict_invalid;	/* LIBPACKETMARK_STRICT had a value other than 0 or 1 */
static char shown_mark[80];	/* the bad value, escaped and truncated for the warning */
static char shown_strict[80];

static atomic_bool warned_config;
static atomic_bool warned_setsockopt;
static atomic_bool warned_resolve;

/* True for the one caller that gets to print: a plain load first, so the common path writes no shared cache line. */
static int first(atomic_bool *flag)
{
	return !atomic_load_explicit(flag, memory_order_relaxed) && !atomic_exchange(flag, 1);
}

/*
 * Writes one line to stderr with write(2): no stdio buffers, no locks, errno kept. Two hazards of a daemon that
 * closed its stdio: the socket just created may itself be fd 2 (`skip_fd`: then nothing is written), and fd 2 may
 * be an unconnected TCP socket, where write(2) raises SIGPIPE and would kill the program. So SIGPIPE is blocked
 * for the write and a SIGPIPE it caused is consumed, as libraries that write to descriptors they do not own do.
 */
static void write_stderr(const char *line, size_t n, int skip_fd)
{
	if (skip_fd == STDERR_FILENO)
		return;
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGPIPE);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (!was_pending) {
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE)) {
			const struct timespec zero = {0, 0};
			sigtimedwait(&pipe_set, NULL, &zero);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Formats one warning line and writes it (see write_stderr); errno is kept. */
__attribute__((format(printf, 2, 3))) static void warn(int skip_fd, const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		if ((size_t)n > sizeof(line) - 2)
			n = sizeof(line) - 2;
		line[n++] = '\n';
		write_stderr(line, (size_t)n, skip_fd);
	}
	errno = saved;
}

/* Copies `value` for a one-line message: bytes outside printable ASCII become \xNN, long values end in "...". */
static void escape(char *out, size_t size, const char *value)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (o + 8 >= size) {
			memcpy(out + o, "...", 4);
			return;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\'' && *p != '\\')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

/*
 * strtoul with base 0, as the issue and netifd's iprule_parse_mark read marks, but strict: the text must start
 * with a digit (strtoul would skip blanks and accept "-1" as ULONG_MAX), be consumed whole, and fit SO_MARK's 32 bits.
 */
static int parse_mark(const char *text, uint32_t *out)
{
	if (text[0] < '0' || text[0] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void init(void)
{
	int saved = errno;
	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");

	const char *text = getenv("LIBPACKETMARK_MARK");
	if (text == NULL) {
		state = MARK_UNSET;
	} else if (parse_mark(text, &mark) != 0) {
		state = MARK_INVALID;
		escape(shown_mark, sizeof(shown_mark), text);
	} else {
		state = MARK_OK;
	}

	const char *s = getenv("LIBPACKETMARK_STRICT");
	if (s == NULL || strcmp(s, "") == 0 || strcmp(s, "0") == 0) {
		strict = 0;
	} else if (strcmp(s, "1") == 0) {
		strict = 1;
	} else {
		/* An unknown value fails closed: whoever set it wanted something stricter than the default. */
		strict = 1;
		strict_invalid = 1;
		escape(shown_strict, sizeof(shown_strict), s);
	}
	errno = saved;
}

/*
 * Read the environment at load time, as Gluon's library did: a daemon may clear or rewrite its environment before
 * it opens its first socket. socket() also calls pthread_once, for a socket() made by another library's
 * constructor before this one ran.
 */
__attribute__((constructor)) static void load(void)
{
	pthread_once(&once, init);
}

/* The configuration warnings, once per process, at the first AF_INET/AF_INET6 socket. */
static void warn_config(void)
{
	if ((state == MARK_OK && !strict_invalid) || !first(&warned_config))
		return;
	if (strict_invalid)
		warn(-1, "libpacketmark: invalid LIBPACKETMARK_STRICT='%s' (expected 1 or 0), strict mode is on", shown_strict);
	const char *outcome = strict ? "IPv4 and IPv6 sockets fail with EPERM (LIBPACKETMARK_STRICT=1)" : "sockets are not marked";
	if (state == MARK_UNSET)
		warn(-1, "libpacketmark: LIBPACKETMARK_MARK is not set, %s", outcome);
	else if (state == MARK_INVALID)
		warn(-1, "libpacketmark: invalid LIBPACKETMARK_MARK='%s', %s", shown_mark, outcome);
}

EXPORT int socket(int domain, int type, int protocol)
{
	pthread_once(&once, init);
	if (real_socket == NULL) {
		if (first(&warned_resolve))
			warn(-1, "libpacketmark: cannot find the real socket(): %s", dlerror());
		errno = ENOSYS;
		return -1;
	}

	if (domain != AF_INET && domain != AF_INET6)
		return real_socket(domain, type, protocol);

	/* A successful socket() leaves errno alone; so must we, whatever setsockopt did. */
	int saved = errno;
	warn_config();
	if (state != MARK_OK) {
		if (strict) {
			errno = EPERM;
			return -1;
		}
		return real_socket(domain, type, protocol);
	}

	int fd = real_socket(domain, type, protocol);
	if (fd < 0)
		return fd;

	unsigned int value = mark;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &value, sizeof(value)) == 0) {
		errno = saved;
		return fd;
	}

	/* Gluon dropped this error (#3613). SO_MARK needs CAP_NET_ADMIN (or CAP_NET_RAW since Linux 5.17). */
	int err = errno;
	if (strict)
		close(fd); /* first, so the warning below can never land in it */
	/* If the unmarked socket took fd 2 (stdio closed), the warning waits for a later socket rather than go into it. */
	if (!(!strict && fd == STDERR_FILENO) && first(&warned_setsockopt)) {
		/* strerror, not strerror_r: glibc's and musl's differ in type; both return static text for known errnos. */
		const char *reason = strerror(err);
		warn(strict ? -1 : fd, "libpacketmark: cannot set SO_MARK 0x%x: %s%s, %s", mark, reason,
		     err == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "",
		     strict ? "IPv4 and IPv6 sockets fail with EPERM (LIBPACKETMARK_STRICT=1)" : "sockets are not marked");
	}
	if (strict) {
		errno = EPERM;
		return -1;
	}
	errno = saved;
	return fd;
}
