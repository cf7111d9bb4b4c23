/*
 * LD_PRELOAD shim that lets the unmodified hv_kvp_daemon run without Hyper-V.
 *
 * The daemon talks to the kernel through the character device /dev/vmbus/hv_kvp and keeps
 * its pools in the hard-coded directory /var/lib/hyperv. Outside a Hyper-V guest neither
 * exists (and tests must not touch the machine's real pools), so this shim:
 *   - turns the open of /dev/vmbus/hv_kvp into a connection to the Unix stream socket named
 *     by KVP_SIM_SOCKET, where the simulated host plays the kernel's part;
 *   - rewrites every path under /var/lib/hyperv to the directory named by KVP_SIM_POOL_DIR;
 *   - makes read/write on that connection move whole messages, because the character device
 *     delivers one whole struct hv_kvp_msg per call and a stream socket does not;
 *   - sends the daemon's syslog output to stderr too, so a failure is visible to the caller.
 * One test hook, off unless asked for: KVP_SIM_STALL_FILE (see stall_while_requested).
 *
 * It interposes only what the daemon (Debian hyperv-daemons 6.1, `nm -D`) calls with one of
 * those paths or on that descriptor. Not interposed, on purpose:
 *   - poll: a connected socket polls readable exactly when a message (or EOF) is there;
 *   - fcntl: the pool locks are real fcntl locks on real files in the redirected directory;
 *   - opendir/popen/system: used only for /sys/class/net and the IP scripts, which need no
 *     redirection (the simulated host never sends the IP operations).
 * The pool files are reached with open, fopen, access and mkdir; open64 and openat are not
 * imported by the Debian build but are by others built with different flags, so they are
 * covered too.
 *
 * Compiled at run time by the TypeScript side (`cc -shared -fPIC`); never committed as a
 * binary.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char DEVICE_PATH[] = "/dev/vmbus/hv_kvp";
static const char POOL_DIR[] = "/var/lib/hyperv";

/* The descriptor standing in for the device, -1 until the daemon opens it. */
static int device_fd = -1;

/* dlsym(RTLD_NEXT) finds the libc function the shim wraps; looked up once, lazily. */
#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/*
 * Rewrites `path` into `out` when it lies under /var/lib/hyperv (the directory itself or
 * anything below it, not /var/lib/hypervisor) and KVP_SIM_POOL_DIR is set. Returns the path
 * to use: `out` when rewritten, else `path` unchanged. A rewrite that does not fit PATH_MAX
 * yields NULL with ENAMETOOLONG rather than a silently truncated path.
 */
static const char *redirect(const char *path, char out[PATH_MAX])
{
	const char *dir = getenv("KVP_SIM_POOL_DIR");
	size_t n = sizeof(POOL_DIR) - 1;

	if (!path || !dir || strncmp(path, POOL_DIR, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return path;
	if ((size_t)snprintf(out, PATH_MAX, "%s%s", dir, path + n) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return out;
}

/*
 * Connects to the simulated host instead of opening the device. A stream socket because
 * Node has no SOCK_SEQPACKET; read and write below restore the message boundaries.
 */
static int open_device(int flags)
{
	const char *path = getenv("KVP_SIM_SOCKET");
	struct sockaddr_un addr;
	int fd;

	if (!path || strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENOENT;
		return -1;
	}
	/* Only one opener at a time, like the real device. */
	if (device_fd >= 0) {
		errno = EBUSY;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	device_fd = fd;
	return fd;
}

static int is_device(const char *path)
{
	return path && strcmp(path, DEVICE_PATH) == 0;
}

/* open(2) takes a mode only with O_CREAT or O_TMPFILE; read it only then. */
static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	REAL(open);
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_device(path))
		return open_device(flags);
	path = redirect(path, buf);
	return path ? real_open(path, flags, mode) : -1;
}

int open64(const char *path, int flags, ...)
{
	REAL(open64);
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_device(path))
		return open_device(flags);
	path = redirect(path, buf);
	return path ? real_open64(path, flags, mode) : -1;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_device(path))
		return open_device(flags);
	path = redirect(path, buf);
	return path ? real_openat(dirfd, path, flags, mode) : -1;
}

/*
 * Test hook, not part of the emulation: while the file named by KVP_SIM_STALL_FILE exists,
 * an fopen of a pool file waits. The daemon fopen()s a pool file only while it holds that
 * pool's fcntl lock (to re-read it before every operation, and to rewrite it after a change),
 * so a test can keep the real daemon inside its lock for as long as it likes: create the
 * file, send a request, remove the file. Each stall is announced on stderr, which the
 * simulator keeps, so a test can wait for it. The daemon opens every pool at start-up too:
 * create the file only once the daemon has started.
 */
static void stall_while_requested(const char *pool_path)
{
	const char *flag = getenv("KVP_SIM_STALL_FILE");
	const struct timespec pause = { 0, 5 * 1000 * 1000 };

	if (!flag || !*flag || access(flag, F_OK) != 0)
		return;
	fprintf(stderr, "hv_kvp_shim: stalling in fopen(%s) until %s is removed\n", pool_path, flag);
	while (access(flag, F_OK) == 0)
		nanosleep(&pause, NULL);
}

/* glibc's fopen opens the file internally, not through the open above. */
FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen);
	char buf[PATH_MAX];

	path = redirect(path, buf);
	if (path == buf)
		stall_while_requested(path);
	return path ? real_fopen(path, mode) : NULL;
}

FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64);
	char buf[PATH_MAX];

	path = redirect(path, buf);
	if (path == buf)
		stall_while_requested(path);
	return path ? real_fopen64(path, mode) : NULL;
}

/* The daemon checks for /var/lib/hyperv with access and creates it with mkdir. */
int access(const char *path, int how)
{
	REAL(access);
	char buf[PATH_MAX];

	path = redirect(path, buf);
	return path ? real_access(path, how) : -1;
}

int mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	char buf[PATH_MAX];

	path = redirect(path, buf);
	return path ? real_mkdir(path, mode) : -1;
}

/*
 * The device hands over one whole message per read; a stream socket may deliver part of
 * one. Loop until `count` bytes (the daemon always asks for exactly one message) or EOF.
 * EOF before a whole message returns what arrived, which the daemon reports as a failed
 * read and exits: that is how closing the host's end stops the daemon.
 */
ssize_t read(int fd, void *buf, size_t count)
{
	REAL(read);
	size_t done = 0;

	if (fd != device_fd || device_fd < 0)
		return real_read(fd, buf, count);
	while (done < count) {
		ssize_t n = real_read(fd, (char *)buf + done, count - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Likewise a write to the device takes the whole message or fails. */
ssize_t write(int fd, const void *buf, size_t count)
{
	REAL(write);
	size_t done = 0;

	if (fd != device_fd || device_fd < 0)
		return real_write(fd, buf, count);
	while (done < count) {
		ssize_t n = real_write(fd, (const char *)buf + done, count - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * After a failed read the daemon closes the device and opens it again (its recovery from
 * hibernation). Forgetting the descriptor here lets that reopen try the socket again (and
 * fail once the simulator has stopped listening, so the daemon exits), and keeps a later
 * file that reuses the number from being treated as the device.
 */
int close(int fd)
{
	REAL(close);

	if (fd == device_fd)
		device_fd = -1;
	return real_close(fd);
}

/*
 * The daemon reports every failure with syslog only, and a test machine has no syslog
 * daemon. LOG_PERROR makes glibc copy each message to stderr, where the simulator keeps it
 * for its error messages.
 */
void openlog(const char *ident, int option, int facility)
{
	REAL(openlog);

	real_openlog(ident, option | LOG_PERROR, facility);
}
