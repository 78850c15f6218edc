/*
 * cgroup.c - reference solution of lab 10: the container's cgroup (v2).
 *
 * A cgroup is a directory of the cgroup2 filesystem; its limits are files
 * in it, written with a plain write(); a process joins it when its PID is
 * written to cgroup.procs.  Nothing here prints: errors go back in errno.
 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* cgroup_remove waits for killed processes to leave: 200 times 10 ms. */
#define REMOVE_TRIES 200
#define REMOVE_PAUSE_NS (10 * 1000 * 1000)

/* Writes text to DIR/FILE in one write(): a cgroup file takes one value per write. */
static int write_value(const char *dir, const char *file, const char *text)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int write_limits(const char *path, const struct container_limits *l)
{
	char value[64];
	if (l->memory_max > 0) {
		snprintf(value, sizeof(value), "%lld", l->memory_max);
		if (write_value(path, "memory.max", value) != 0)
			return -1;
		/* Without this, a hog on a machine with swap is swapped out
		 * instead of killed. No swap accounting: nothing to limit. */
		if (write_value(path, "memory.swap.max", "0") != 0 && errno != ENOENT)
			return -1;
	}
	if (l->cpu_quota_us > 0) {
		snprintf(value, sizeof(value), "%ld %ld", l->cpu_quota_us,
			 l->cpu_period_us > 0 ? l->cpu_period_us : 100000L);
		if (write_value(path, "cpu.max", value) != 0)
			return -1;
	}
	if (l->pids_max > 0) {
		snprintf(value, sizeof(value), "%ld", l->pids_max);
		if (write_value(path, "pids.max", value) != 0)
			return -1;
	}
	return 0;
}

int cgroup_create(const char *parent, const char *name, const struct container_limits *limits,
		  char *path, size_t size)
{
	if (snprintf(path, size, "%s/%s", parent, name) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A child cgroup has a controller's files only if its parent hands
	 * the controller down (cgroup.subtree_control). Enabling it again is
	 * harmless. */
	if (write_value(parent, "cgroup.subtree_control", "+cpu +memory +pids") != 0)
		return -1;
	if (mkdir(path, 0755) != 0)
		return -1;
	if (write_limits(path, limits) != 0) {
		int err = errno;
		rmdir(path);
		errno = err;
		return -1;
	}
	return 0;
}

int cgroup_add(const char *path, pid_t pid)
{
	char text[32];
	snprintf(text, sizeof(text), "%d", pid);
	return write_value(path, "cgroup.procs", text);
}

int cgroup_remove(const char *path)
{
	const struct timespec pause = {.tv_nsec = REMOVE_PAUSE_NS};
	for (int tries = 0; tries < REMOVE_TRIES; tries++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0; /* ENOENT: gone already */
		if (errno != EBUSY)
			return -1;
		/* Processes are left in it.  cgroup.kill (Linux 5.14) SIGKILLs
		 * them all at once; they take a moment to leave.  Should the
		 * write fail, the next rmdir() says why. */
		write_value(path, "cgroup.kill", "1");
		nanosleep(&pause, NULL);
	}
	errno = EBUSY;
	return -1;
}
