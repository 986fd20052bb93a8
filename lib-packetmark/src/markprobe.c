// SPDX-License-Identifier: BSD-2-Clause
/*
 * markprobe: the test helper for libpacketmark. It opens sockets through the ordinary socket() (so an
 * LD_PRELOADed libpacketmark sees them) and prints what the kernel says about them, one line each:
 *
 *   markprobe FAMILY:TYPE[:nb]...   FAMILY inet|inet6|unix, TYPE dgram|stream (udp|tcp), nb = SOCK_NONBLOCK|SOCK_CLOEXEC
 *       -> "inet:dgram fd=3 mark=0x1 errno=EDOM"   (errno is set to EDOM before the call: a kept errno reads EDOM)
 *       -> "inet:dgram fd=-1 errno=EPERM"
 *   markprobe threads N             N threads open an AF_INET socket at once -> "threads N fds=N marks=0x1"
 *   markprobe send-udp ADDR PORT    one datagram "markprobe" to ADDR -> "send-udp mark=0x1 sent=9"
 *   markprobe resolve NAME          getaddrinfo(NAME): glibc's resolver opens its own sockets -> "resolve ADDR..."
 *   markprobe bench N               N socket() calls per family (closes untimed) -> "bench n=N inet_ns=850.1 unix_ns=400.2"
 *   markprobe clearenv ...          clearenv() first, then any of the above (a daemon that scrubs its environment)
 *
 * Exit status: 0 when every line was printed, 1 when an operation failed (after printing it), 2 on bad usage.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The errno names the tests read; a table, because strerrorname_np is glibc-only and this also builds with musl. */
static const char *errname(int err)
{
	static char other[16];
	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EDOM: return "EDOM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOBUFS: return "ENOBUFS";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	default:
		snprintf(other, sizeof(other), "E%d", err);
		return other;
	}
}

static int read_mark(int fd, unsigned int *mark)
{
	socklen_t len = sizeof(*mark);
	return getsockopt(fd, SOL_SOCKET, SO_MARK, mark, &len);
}

static int probe(const char *spec)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *family = strtok(buf, ":");
	char *kind = strtok(NULL, ":");
	char *flags = strtok(NULL, ":");
	int domain, type;
	if (family && strcmp(family, "inet") == 0)
		domain = AF_INET;
	else if (family && strcmp(family, "inet6") == 0)
		domain = AF_INET6;
	else if (family && strcmp(family, "unix") == 0)
		domain = AF_UNIX;
	else
		return 2;
	if (kind && (strcmp(kind, "dgram") == 0 || strcmp(kind, "udp") == 0))
		type = SOCK_DGRAM;
	else if (kind && (strcmp(kind, "stream") == 0 || strcmp(kind, "tcp") == 0))
		type = SOCK_STREAM;
	else
		return 2;
	if (flags && strcmp(flags, "nb") == 0)
		type |= SOCK_NONBLOCK | SOCK_CLOEXEC;
	else if (flags)
		return 2;

	errno = EDOM;
	int fd = socket(domain, type, 0);
	int err = errno;
	if (fd < 0) {
		printf("%s fd=-1 errno=%s\n", spec, errname(err));
		return 0;
	}
	unsigned int mark = 0;
	if (read_mark(fd, &mark) != 0) {
		printf("%s fd=%d getsockopt=%s\n", spec, fd, errname(errno));
		return 1;
	}
	printf("%s fd=%d mark=0x%x errno=%s\n", spec, fd, mark, errname(err));
	return 0;
}

#define MAX_THREADS 256
static pthread_barrier_t barrier;
static int thread_fd[MAX_THREADS];

static void *thread_main(void *arg)
{
	int *slot = arg;
	pthread_barrier_wait(&barrier);
	*slot = socket(AF_INET, SOCK_DGRAM, 0);
	return NULL;
}

static int threads(int n)
{
	pthread_t tid[MAX_THREADS];
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, thread_main, &thread_fd[i]) != 0)
			return 1;
	for (int i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	int fds = 0;
	char marks[1024] = "";
	size_t used = 0;
	unsigned int seen[MAX_THREADS];
	int nseen = 0;
	for (int i = 0; i < n; i++) {
		unsigned int mark;
		if (thread_fd[i] < 0 || read_mark(thread_fd[i], &mark) != 0)
			continue;
		fds++;
		int dup = 0;
		for (int j = 0; j < nseen; j++)
			dup |= seen[j] == mark;
		if (!dup && used < sizeof(marks) - 16) {
			seen[nseen++] = mark;
			used += (size_t)snprintf(marks + used, sizeof(marks) - used, "%s0x%x", nseen > 1 ? "," : "", mark);
		}
	}
	printf("threads %d fds=%d marks=%s\n", n, fds, marks);
	return fds == n ? 0 : 1;
}

static int send_udp(const char *addr, const char *port)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa;
	memset(&sa, 0, sizeof(sa));
	socklen_t len;
	int domain;
	if (inet_pton(AF_INET, addr, &sa.v4.sin_addr) == 1) {
		domain = AF_INET;
		sa.v4.sin_family = AF_INET;
		sa.v4.sin_port = htons((unsigned short)atoi(port));
		len = sizeof(sa.v4);
	} else if (inet_pton(AF_INET6, addr, &sa.v6.sin6_addr) == 1) {
		domain = AF_INET6;
		sa.v6.sin6_family = AF_INET6;
		sa.v6.sin6_port = htons((unsigned short)atoi(port));
		len = sizeof(sa.v6);
	} else {
		return 2;
	}
	int fd = socket(domain, SOCK_DGRAM, 0);
	if (fd < 0) {
		printf("send-udp fd=-1 errno=%s\n", errname(errno));
		return 1;
	}
	unsigned int mark = 0;
	read_mark(fd, &mark);
	ssize_t sent = sendto(fd, "markprobe", 9, 0, (struct sockaddr *)&sa, len);
	if (sent < 0) {
		printf("send-udp mark=0x%x errno=%s\n", mark, errname(errno));
		return 1;
	}
	printf("send-udp mark=0x%x sent=%zd\n", mark, sent);
	return 0;
}

static int resolve(const char *name)
{
	struct addrinfo hints, *res;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		printf("resolve error=%s\n", gai_strerror(rc));
		return 1;
	}
	printf("resolve");
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN];
		const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
							 : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		inet_ntop(ai->ai_family, a, text, sizeof(text));
		printf(" %s", text);
	}
	printf("\n");
	freeaddrinfo(res);
	return 0;
}

/*
 * Mean nanoseconds of one socket() of `domain`, over n calls. Only socket() is timed: the fds are closed in
 * untimed batches, because close() of a socket (deferred freeing) costs more than the mark and would hide it.
 */
static double per_call_ns(int domain, int type, long n)
{
	enum { BATCH = 256 };
	int fds[BATCH];
	double total = 0;
	for (long done = 0; done < n;) {
		int k = n - done < BATCH ? (int)(n - done) : BATCH;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < k; i++)
			fds[i] = socket(domain, type, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		total += (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
		for (int i = 0; i < k; i++) {
			if (fds[i] < 0)
				return -1;
			close(fds[i]);
		}
		done += k;
	}
	return total / (double)n;
}

static int bench(long n)
{
	per_call_ns(AF_INET, SOCK_DGRAM, n / 10 + 1); /* warm up: first-call setup, page faults */
	double inet = per_call_ns(AF_INET, SOCK_DGRAM, n);
	double inet6 = per_call_ns(AF_INET6, SOCK_STREAM, n);
	double unix_ = per_call_ns(AF_UNIX, SOCK_STREAM, n);
	/* The work the library adds to an IPv4/IPv6 socket(): one setsockopt(SO_MARK) (needs CAP_NET_ADMIN). */
	double mark = -1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int value = 1;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long i = 0;
	while (fd >= 0 && i < n && setsockopt(fd, SOL_SOCKET, SO_MARK, &value, sizeof(value)) == 0)
		i++;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (i == n)
		mark = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
	if (fd >= 0)
		close(fd);
	printf("bench n=%ld inet_udp_ns=%.1f inet6_tcp_ns=%.1f unix_ns=%.1f setsockopt_mark_ns=%.1f\n", n, inet, inet6, unix_, mark);
	return inet < 0 || inet6 < 0 || unix_ < 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: markprobe [clearenv] FAMILY:TYPE[:nb]... | threads N | send-udp ADDR PORT | resolve NAME | bench N\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "clearenv") == 0) {
		clearenv();
		argc--;
		argv++;
	}
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "bench") == 0) {
		long n = argc == 3 ? atol(argv[2]) : 0;
		return n >= 1 ? bench(n) : usage();
	}
	if (strcmp(argv[1], "threads") == 0) {
		int n = argc == 3 ? atoi(argv[2]) : 0;
		return n >= 1 && n <= MAX_THREADS ? threads(n) : usage();
	}
	if (strcmp(argv[1], "send-udp") == 0)
		return argc == 4 ? send_udp(argv[2], argv[3]) : usage();
	if (strcmp(argv[1], "resolve") == 0)
		return argc == 3 ? resolve(argv[2]) : usage();
	int status = 0;
	for (int i = 1; i < argc; i++) {
		int rc = probe(argv[i]);
		if (rc == 2)
			return usage();
		status |= rc;
	}
	return status;
}
