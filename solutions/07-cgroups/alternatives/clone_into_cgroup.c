/*
 * cg_lab.c - accepted alternative: clone3(CLONE_INTO_CGROUP), stdio for the
 * files, and cgroup.events instead of a sleep loop.
 *
 * - cg_spawn: since Linux 5.7, clone3() can create the child directly in a
 *   group given as a directory file descriptor.  There is no moment when
 *   the child exists outside the group, so no pipe is needed to hold it.
 * - Files are written with stdio (on a descriptor from open(2)).  That is
 *   correct only because fclose()'s result is checked: fprintf() merely
 *   fills a buffer, the write(2) that the kernel can refuse happens at
 *   fclose().
 * - cg_destroy: instead of retrying rmdir, it waits until cgroup.events says
 *   "populated 0".  The kernel signals every change of that file to poll()
 *   as POLLPRI, so the wait costs nothing while processes are exiting.
 */
#include "cg_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
 * One value into dir/file; the kernel's answer comes back from fclose.  The
 * descriptor comes from open(2), not fopen(path, "w"): "w" means O_CREAT,
 * and a limit file that is missing must be an error, not a new file.
 */
static int put(const char *dir, const char *file, const char *text)
{
	char path[CG_PATH_MAX];
	if (join(path, sizeof(path), dir, file) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	int printed = fprintf(f, "%s", text);
	int saved = errno;
	if (fclose(f) != 0)
		return -1;
	if (printed < 0) {
		errno = saved;
		return -1;
	}
	return 0;
}

/* Looks for "KEY VALUE" in dir/file; key NULL: the file is one number. */
static int get(const char *dir, const char *file, const char *key, long long *value)
{
	char path[CG_PATH_MAX];
	if (join(path, sizeof(path), dir, file) != 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[256], name[64];
	long long v;
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!key)
			found = sscanf(line, "%lld", &v) == 1;
		else
			found = sscanf(line, "%63s %lld", name, &v) == 2 && strcmp(name, key) == 0;
	}
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	*value = v;
	return 0;
}

int cg_is_v2(const char *path)
{
	struct statfs fs;
	if (statfs(path, &fs) != 0)
		return -1;
	return fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cg_enable_controllers(const char *parent, const char *controllers)
{
	char path[CG_PATH_MAX], available[512] = "";
	if (join(path, sizeof(path), parent, "cgroup.controllers") != 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(available, sizeof(available), f))
		available[0] = '\0';
	fclose(f);

	char request[256], change[512] = "";
	snprintf(request, sizeof(request), "%s", controllers);
	char *save = NULL;
	for (char *name = strtok_r(request, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		/* Whole words: " cpu " is not found in " cpuset ". */
		char word[80];
		snprintf(word, sizeof(word), " %s ", name);
		char padded[520];
		snprintf(padded, sizeof(padded), " %s", available);
		padded[strcspn(padded, "\n")] = '\0';
		strncat(padded, " ", sizeof(padded) - strlen(padded) - 1);
		if (!strstr(padded, word)) {
			errno = ENOENT;
			return -1;
		}
		strncat(change, change[0] ? " +" : "+", sizeof(change) - strlen(change) - 1);
		strncat(change, name, sizeof(change) - strlen(change) - 1);
	}
	/* All in one write: the kernel takes the whole line or nothing. */
	return put(parent, "cgroup.subtree_control", change);
}

int cg_create(const char *parent, const char *name, char *path, size_t size)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		errno = EINVAL;
		return -1;
	}
	if (join(path, size, parent, name) != 0)
		return -1;
	return mkdir(path, 0755);
}

static int put_limit(const char *cgroup, const char *file, long long value)
{
	char text[32];
	if (value == CG_UNLIMITED)
		snprintf(text, sizeof(text), "max");
	else
		snprintf(text, sizeof(text), "%lld", value);
	return put(cgroup, file, text);
}

int cg_set_limits(const char *cgroup, const struct cg_limits *lim)
{
	if (put_limit(cgroup, "memory.max", lim->memory_max) != 0)
		return -1;
	if (put_limit(cgroup, "memory.swap.max", lim->memory_max == CG_UNLIMITED ? CG_UNLIMITED : 0) != 0)
		return -1;
	char cpu[64];
	if (lim->cpu_quota_us == CG_UNLIMITED)
		snprintf(cpu, sizeof(cpu), "max %lld", lim->cpu_period_us);
	else
		snprintf(cpu, sizeof(cpu), "%lld %lld", lim->cpu_quota_us, lim->cpu_period_us);
	if (put(cgroup, "cpu.max", cpu) != 0)
		return -1;
	return put_limit(cgroup, "pids.max", lim->pids_max);
}

pid_t cg_spawn(const char *cgroup, int (*fn)(void *), void *arg)
{
	int dir = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)dir;
	/* No stack given: like fork(), the child goes on on a copy of ours. */
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(dir); /* nothing of the runtime's goes on into the container */
		_exit(fn(arg));
	}
	int saved = errno;
	close(dir);
	errno = saved;
	return (pid_t)pid;
}

int cg_read_usage(const char *cgroup, struct cg_usage *usage)
{
	if (get(cgroup, "memory.current", NULL, &usage->memory_current) != 0
	    || get(cgroup, "cpu.stat", "usage_usec", &usage->cpu_usage_us) != 0
	    || get(cgroup, "cpu.stat", "nr_throttled", &usage->nr_throttled) != 0
	    || get(cgroup, "memory.events", "oom_kill", &usage->oom_kills) != 0
	    || get(cgroup, "pids.current", NULL, &usage->pids_current) != 0)
		return -1;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until cgroup.events says "populated 0", or the deadline passes. */
static int wait_empty(const char *cgroup, long long deadline)
{
	char path[CG_PATH_MAX];
	if (join(path, sizeof(path), cgroup, "cgroup.events") != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		char buf[256];
		ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
		if (got < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		buf[got] = '\0';
		if (strstr(buf, "populated 0")) {
			close(fd);
			return 0;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			close(fd);
			errno = EBUSY;
			return -1;
		}
		/* kernfs wakes pollers of a changed file with POLLPRI. */
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		if (poll(&p, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	}
}

int cg_destroy(const char *cgroup)
{
	if (put(cgroup, "cgroup.kill", "1") != 0)
		return -1;
	if (wait_empty(cgroup, now_ms() + CG_DESTROY_TIMEOUT_MS) != 0)
		return -1;
	return rmdir(cgroup);
}
