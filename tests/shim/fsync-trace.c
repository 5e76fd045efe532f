/* An LD_PRELOAD shim for the fsync-order test (tests/e2e/test_fsync_order.py).

   It logs, one line per event, to the file named by $TERN_FSYNC_TRACE:

     <seq> <pid> sync <dev>:<ino> <path>     fsync, fdatasync or syncfs returned 0
     <seq> <pid> name <path>                  link, linkat, rename, renameat(2) made <path>
     <seq> <pid> reply <text>                 a write or send on a socket starting "250"

   <seq> comes from a counter shared by every process of the server (a file
   mapped beside the trace), so lines from several processes can be ordered.
   A sync line is numbered after the call returns, a reply line before the
   bytes go out: a sync with a smaller number than a reply finished before
   the client could see the reply.

   The wrappers may run in any thread and in signal handlers: they use only
   async-signal-safe calls (fstat, readlink, write via syscall), an atomic
   counter and stack buffers; the trace is written with one O_APPEND write
   per line, so lines never interleave. The shim's own writes go through
   syscall(SYS_write), never through the wrapped write(), so it cannot
   recurse. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define TRACE_FD_MIN  700  /* out of the way of the server's own descriptors */
#define LINE_MAX_LEN  4600 /* two paths and the fixed fields */
#define REPLY_SNIPPET 72   /* bytes of a reply kept in the trace */

static int trace_fd = -1;
static dev_t trace_dev;
static ino_t trace_ino;
static uint64_t *seq_counter;
static uint64_t seq_private;

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static int (*real_link)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The wrapped function, looked up on first use if a library calls it before
   the constructor has run. */
#define RESOLVE(name)                                                                              \
	do {                                                                                       \
		if (real_##name == NULL)                                                           \
			real_##name = next(#name);                                                 \
	} while (0)

static void open_counter(const char *trace)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s.seq", trace) >= (int)sizeof(path))
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	(void)fchmod(fd, 0666); /* a process that dropped root may map it too */
	if (ftruncate(fd, sizeof(uint64_t)) == 0) {
		void *p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			seq_counter = p;
	}
	close(fd);
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *trace = getenv("TERN_FSYNC_TRACE");
	struct stat st;
	int fd;

	real_fsync = next("fsync");
	real_fdatasync = next("fdatasync");
	real_syncfs = next("syncfs");
	real_link = next("link");
	real_linkat = next("linkat");
	real_rename = next("rename");
	real_renameat = next("renameat");
	real_renameat2 = next("renameat2");
	real_write = next("write");
	real_writev = next("writev");
	real_send = next("send");
	real_sendto = next("sendto");
	real_sendmsg = next("sendmsg");
	if (trace == NULL || *trace == '\0')
		return;
	fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	trace_fd = fcntl(fd, F_DUPFD_CLOEXEC, TRACE_FD_MIN);
	close(fd);
	if (trace_fd >= 0 && fstat(trace_fd, &st) == 0) {
		trace_dev = st.st_dev;
		trace_ino = st.st_ino;
	}
	open_counter(trace);
}

static uint64_t next_seq(void)
{
	uint64_t *c = seq_counter != NULL ? seq_counter : &seq_private;

	return __atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST);
}

/* A small async-signal-safe line builder. */
struct line {
	char buf[LINE_MAX_LEN];
	size_t len;
};

static void put_mem(struct line *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n && l->len < sizeof(l->buf) - 1; i++) {
		char c = s[i];
		l->buf[l->len++] = (c == '\n' || c == '\r') ? ' ' : c;
	}
}

static void put_str(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

static void put_u64(struct line *l, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put_mem(l, tmp + sizeof(tmp) - n, n);
}

static void line_start(struct line *l, const char *kind)
{
	l->len = 0;
	put_u64(l, next_seq());
	put_str(l, " ");
	put_u64(l, (uint64_t)getpid());
	put_str(l, " ");
	put_str(l, kind);
	put_str(l, " ");
}

static void line_emit(struct line *l)
{
	struct stat st;
	int saved = errno;

	l->buf[l->len++] = '\n';
	/* Never write into a descriptor the server reused for something else. */
	if (fstat(trace_fd, &st) == 0 && st.st_dev == trace_dev && st.st_ino == trace_ino)
		(void)syscall(SYS_write, trace_fd, l->buf, l->len);
	errno = saved;
}

/* The path a descriptor names ("?" if unknown). */
static void put_fd_path(struct line *l, int fd)
{
	char proc[40] = "/proc/self/fd/";
	struct line num = {.len = 0};
	char target[4096];
	ssize_t n;

	put_u64(&num, (uint64_t)(fd < 0 ? 0 : fd));
	memcpy(proc + 14, num.buf, num.len);
	proc[14 + num.len] = '\0';
	n = readlink(fd == AT_FDCWD ? "/proc/self/cwd" : proc, target, sizeof(target));
	if (n > 0)
		put_mem(l, target, (size_t)n);
	else
		put_str(l, "?");
}

static void trace_sync(int fd, int ret)
{
	struct line l;
	struct stat st;

	if (trace_fd < 0 || ret != 0)
		return;
	line_start(&l, "sync");
	if (fstat(fd, &st) == 0) {
		put_u64(&l, (uint64_t)st.st_dev);
		put_str(&l, ":");
		put_u64(&l, (uint64_t)st.st_ino);
	} else {
		put_str(&l, "?:?");
	}
	put_str(&l, " ");
	put_fd_path(&l, fd);
	line_emit(&l);
}

/* A name made relative to dirfd is logged as an absolute path. */
static void trace_name(int dirfd, const char *path, int ret)
{
	struct line l;

	if (trace_fd < 0 || ret != 0 || path == NULL)
		return;
	line_start(&l, "name");
	if (path[0] != '/') {
		put_fd_path(&l, dirfd);
		put_str(&l, "/");
	}
	put_str(&l, path);
	line_emit(&l);
}

static int is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Log a reply about to be sent if its first bytes are "250". */
static void trace_reply(int fd, const struct iovec *iov, size_t iovcnt)
{
	char head[REPLY_SNIPPET];
	size_t n = 0;
	struct line l;

	if (trace_fd < 0)
		return;
	for (size_t i = 0; i < iovcnt && n < sizeof(head); i++) {
		size_t take = iov[i].iov_len;
		if (take > sizeof(head) - n)
			take = sizeof(head) - n;
		memcpy(head + n, iov[i].iov_base, take);
		n += take;
	}
	if (n < 3 || memcmp(head, "250", 3) != 0 || !is_socket(fd))
		return;
	for (size_t i = 0; i < n; i++) {
		if (head[i] == '\r' || head[i] == '\n') {
			n = i; /* the first line only */
			break;
		}
	}
	line_start(&l, "reply");
	put_mem(&l, head, n);
	line_emit(&l);
}

static void trace_buf(int fd, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	trace_reply(fd, &iov, 1);
}

int fsync(int fd)
{
	RESOLVE(fsync);
	int ret = real_fsync(fd);

	trace_sync(fd, ret);
	return ret;
}

int fdatasync(int fd)
{
	RESOLVE(fdatasync);
	int ret = real_fdatasync(fd);

	trace_sync(fd, ret);
	return ret;
}

int syncfs(int fd)
{
	RESOLVE(syncfs);
	int ret = real_syncfs(fd);

	trace_sync(fd, ret);
	return ret;
}

int link(const char *from, const char *to)
{
	RESOLVE(link);
	int ret = real_link(from, to);

	trace_name(AT_FDCWD, to, ret);
	return ret;
}

int linkat(int fromdir, const char *from, int todir, const char *to, int flags)
{
	RESOLVE(linkat);
	int ret = real_linkat(fromdir, from, todir, to, flags);

	trace_name(todir, to, ret);
	return ret;
}

int rename(const char *from, const char *to)
{
	RESOLVE(rename);
	int ret = real_rename(from, to);

	trace_name(AT_FDCWD, to, ret);
	return ret;
}

int renameat(int fromdir, const char *from, int todir, const char *to)
{
	RESOLVE(renameat);
	int ret = real_renameat(fromdir, from, todir, to);

	trace_name(todir, to, ret);
	return ret;
}

int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned int flags)
{
	RESOLVE(renameat2);
	int ret = real_renameat2(fromdir, from, todir, to, flags);

	trace_name(todir, to, ret);
	return ret;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	trace_buf(fd, buf, len);
	RESOLVE(write);
	return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	trace_reply(fd, iov, iovcnt > 0 ? (size_t)iovcnt : 0);
	RESOLVE(writev);
	return real_writev(fd, iov, iovcnt);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	trace_buf(fd, buf, len);
	RESOLVE(send);
	return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen)
{
	trace_buf(fd, buf, len);
	RESOLVE(sendto);
	return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	trace_reply(fd, msg->msg_iov, msg->msg_iovlen);
	RESOLVE(sendmsg);
	return real_sendmsg(fd, msg, flags);
}
