/*
 * cg_lab.c - lab 07: your code goes here.
 *
 * Read the handout (README.md) first; cg_lab.h says exactly what each
 * function must do.  `make` builds the driver cgctl, `make check` runs the
 * public graded cases as root in a throwaway VM (cgroups are never
 * experimented with on your own machine's tree).
 */
#include "cg_lab.h"

#include <errno.h>

int cg_is_v2(const char *path)
{
	/* TODO: statfs(2) path and compare f_type with CGROUP2_SUPER_MAGIC
	 * (<linux/magic.h>). */
	(void)path;
	errno = ENOSYS;
	return -1;
}

int cg_enable_controllers(const char *parent, const char *controllers)
{
	/* TODO: check each name against parent/cgroup.controllers, then write
	 * "+cpu +memory +pids" (one '+' per name) to
	 * parent/cgroup.subtree_control in a single write(2), and check it. */
	(void)parent;
	(void)controllers;
	errno = ENOSYS;
	return -1;
}

int cg_create(const char *parent, const char *name, char *path, size_t size)
{
	/* TODO: refuse a name that is not one path component (EINVAL), build
	 * "parent/name" into path (ENAMETOOLONG if it does not fit), mkdir it. */
	(void)parent;
	(void)name;
	(void)path;
	(void)size;
	errno = ENOSYS;
	return -1;
}

int cg_set_limits(const char *cgroup, const struct cg_limits *lim)
{
	/* TODO: write memory.max, memory.swap.max (0 when memory is limited),
	 * cpu.max ("QUOTA PERIOD") and pids.max; CG_UNLIMITED is "max". */
	(void)cgroup;
	(void)lim;
	errno = ENOSYS;
	return -1;
}

pid_t cg_spawn(const char *cgroup, int (*fn)(void *), void *arg)
{
	/* TODO: fork a child that waits (on a pipe) until the parent has
	 * written its PID to cgroup/cgroup.procs, then runs fn(arg) and
	 * _exits with its result.  On failure, kill and reap the child. */
	(void)cgroup;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

int cg_read_usage(const char *cgroup, struct cg_usage *usage)
{
	/* TODO: read memory.current, usage_usec and nr_throttled from
	 * cpu.stat, oom_kill from memory.events, and pids.current. */
	(void)cgroup;
	(void)usage;
	errno = ENOSYS;
	return -1;
}

int cg_destroy(const char *cgroup)
{
	/* TODO: write 1 to cgroup/cgroup.kill, then rmdir(2) the group,
	 * retrying every few milliseconds while it fails with EBUSY, for at
	 * most CG_DESTROY_TIMEOUT_MS. */
	(void)cgroup;
	errno = ENOSYS;
	return -1;
}
