/*
 * cg_lab.c - reference solution of lab 07.
 *
 * Everything here is file I/O on the cgroup v2 filesystem: a group is a
 * directory, a limit is a line written to one of its files, a counter is a
 * line read from another.  The kernel checks every write and answers with an
 * errno, so each write is checked.
 */
#include "cg_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long cg_destroy() sleeps before it tries rmdir(2) again. */
#define RETRY_PAUSE_MS 10

/* ------------------------------------------------------------ file helpers */

/* "dir/file" into buf; ENAMETOOLONG rather than a truncated path. */
static int join(char *buf, size_t size, const char *dir, const char *file)
{
	int n = snprintf(buf, size, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Writes text to dir/file in one write(2).  A cgroup file takes one value
 * per write, and the kernel's verdict (EINVAL, EBUSY...) is the return of
 * that write: stdio would buffer it and report it, if at all, at fclose.
 */
static int write_file(const char *dir, const char *file, const char *text)
{
	char path[CG_PATH_MAX];
	if (join(path, sizeof(path), dir, file) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t done = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (done != (ssize_t)len) {
		/* kernfs takes a short value whole or refuses it: no half write */
		errno = done < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

/*
 * Reads all of dir/file as a string.  Cgroup files are small: the callers'
 * buffers (64 bytes for one number, 4 KiB for cpu.stat) hold them whole,
 * and the loop stops at a full buffer rather than writing past it.
 */
static int read_file(const char *dir, const char *file, char *buf, size_t size)
{
	char path[CG_PATH_MAX];
	if (join(path, sizeof(path), dir, file) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t got;
	while ((got = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)got;
	int saved = errno;
	close(fd);
	if (got < 0) {
		errno = saved;
		return -1;
	}
	buf[len] = '\0';
	return 0;
}

/* The decimal number text starts with (the kernel writes nothing else). */
static int parse_number(const char *text, long long *value)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno != 0 || end == text) {
		errno = EINVAL;
		return -1;
	}
	*value = v;
	return 0;
}

/* A file that holds one number: memory.current, pids.current. */
static int read_number(const char *dir, const char *file, long long *value)
{
	char buf[64];
	if (read_file(dir, file, buf, sizeof(buf)) != 0)
		return -1;
	return parse_number(buf, value);
}

/*
 * The value of KEY in a flat-keyed file ("key value" lines: cpu.stat,
 * memory.events).  The key is compared whole: "oom" is not "oom_kill".
 */
static int read_key(const char *dir, const char *file, const char *key, long long *value)
{
	char buf[4096];
	if (read_file(dir, file, buf, sizeof(buf)) != 0)
		return -1;
	size_t klen = strlen(key);
	for (char *line = buf; *line; ) {
		char *next = strchr(line, '\n');
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return parse_number(line + klen + 1, value);
		if (!next)
			break;
		line = next + 1;
	}
	errno = ENOENT;
	return -1;
}

/* A limit as a cgroup file wants it: a number, or "max". */
static void limit_text(char *buf, size_t size, long long value)
{
	if (value == CG_UNLIMITED)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%lld", value);
}

/* ----------------------------------------------------------------- the API */

int cg_is_v2(const char *path)
{
	struct statfs fs;
	if (statfs(path, &fs) != 0)
		return -1;
	/*
	 * The filesystem type is the kernel's own answer.  Looking for a file
	 * named cgroup.controllers would believe any directory that has one.
	 */
	return fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Is word one of the space-separated names in list? */
static int listed(const char *list, const char *word, size_t len)
{
	for (const char *p = list; *p; ) {
		p += strspn(p, " \n");
		size_t n = strcspn(p, " \n");
		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		p += n;
	}
	return 0;
}

int cg_enable_controllers(const char *parent, const char *controllers)
{
	char available[1024];
	if (read_file(parent, "cgroup.controllers", available, sizeof(available)) != 0)
		return -1;
	char change[256] = "";
	size_t used = 0;
	for (const char *p = controllers; *p; ) {
		p += strspn(p, " ");
		size_t len = strcspn(p, " ");
		if (len == 0)
			break;
		if (!listed(available, p, len)) {
			errno = ENOENT; /* the parent's own parent did not enable it */
			return -1;
		}
		int n = snprintf(change + used, sizeof(change) - used, "%s+%.*s", used ? " " : "", (int)len, p);
		if (n < 0 || (size_t)n >= sizeof(change) - used) {
			errno = EINVAL;
			return -1;
		}
		used += (size_t)n;
		p += len;
	}
	/*
	 * "+cpu +memory +pids" in one write: the kernel applies all of it or
	 * none.  One write per controller could leave "+cpu" enabled and then
	 * fail on "+memory".  EBUSY here is the no-internal-process rule: the
	 * parent has processes of its own.
	 */
	return write_file(parent, "cgroup.subtree_control", change);
}

int cg_create(const char *parent, const char *name, char *path, size_t size)
{
	/* One component, so that "../x" cannot make a group beside the parent. */
	if (name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (join(path, size, parent, name) != 0)
		return -1;
	/* EEXIST is an error: a leftover group is not ours to reuse. */
	return mkdir(path, 0755);
}

int cg_set_limits(const char *cgroup, const struct cg_limits *lim)
{
	char value[64];
	limit_text(value, sizeof(value), lim->memory_max);
	if (write_file(cgroup, "memory.max", value) != 0)
		return -1;
	/*
	 * With swap allowed, a group over memory.max is pushed to swap instead
	 * of being stopped: the limit holds only with memory.swap.max at 0.
	 */
	if (write_file(cgroup, "memory.swap.max", lim->memory_max == CG_UNLIMITED ? "max" : "0") != 0)
		return -1;
	char quota[32];
	limit_text(quota, sizeof(quota), lim->cpu_quota_us);
	snprintf(value, sizeof(value), "%s %lld", quota, lim->cpu_period_us);
	if (write_file(cgroup, "cpu.max", value) != 0)
		return -1;
	limit_text(value, sizeof(value), lim->pids_max);
	return write_file(cgroup, "pids.max", value);
}

/* Writes pid to the group's cgroup.procs: moves that process into it. */
static int attach(const char *cgroup, pid_t pid)
{
	char text[32];
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_file(cgroup, "cgroup.procs", text);
}

pid_t cg_spawn(const char *cgroup, int (*fn)(void *), void *arg)
{
	/*
	 * The child waits on a pipe until the parent has moved it into the
	 * group: a byte means "go", end of file means "give up".
	 */
	int gate[2];
	if (pipe2(gate, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		int saved = errno;
		close(gate[0]);
		close(gate[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		/* Nothing of the runtime's goes on into the container. */
		close(gate[1]);
		char go;
		ssize_t got;
		do
			got = read(gate[0], &go, 1);
		while (got < 0 && errno == EINTR);
		close(gate[0]);
		_exit(got == 1 ? fn(arg) : 127);
	}
	close(gate[0]);
	/* In the group first; only then the byte that lets it run fn. */
	int failed = attach(cgroup, pid) != 0 || write(gate[1], "g", 1) != 1;
	int saved = errno;
	close(gate[1]); /* without the byte: end of file, the child gives up */
	if (failed) {
		/* EOF alone would do here; SIGKILL also covers a copy of the
		 * pipe that another thread's fork might hold open. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		errno = saved;
		return -1;
	}
	return pid;
}

int cg_read_usage(const char *cgroup, struct cg_usage *usage)
{
	if (read_number(cgroup, "memory.current", &usage->memory_current) != 0)
		return -1;
	if (read_key(cgroup, "cpu.stat", "usage_usec", &usage->cpu_usage_us) != 0)
		return -1;
	if (read_key(cgroup, "cpu.stat", "nr_throttled", &usage->nr_throttled) != 0)
		return -1;
	if (read_key(cgroup, "memory.events", "oom_kill", &usage->oom_kills) != 0)
		return -1;
	return read_number(cgroup, "pids.current", &usage->pids_current);
}

/* Milliseconds on the monotonic clock, which no change of the date moves. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int cg_destroy(const char *cgroup)
{
	/* SIGKILL to every process of the group, in one write. */
	if (write_file(cgroup, "cgroup.kill", "1") != 0)
		return -1;
	/*
	 * The signals are sent, but each process still has to run to exit:
	 * until the last one has, the group is populated and rmdir says EBUSY.
	 * So try again a few milliseconds apart, until the deadline.
	 */
	const long long deadline = now_ms() + CG_DESTROY_TIMEOUT_MS;
	const struct timespec pause = {.tv_nsec = RETRY_PAUSE_MS * 1000000L};
	while (rmdir(cgroup) != 0) {
		if (errno != EBUSY || now_ms() >= deadline)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}
