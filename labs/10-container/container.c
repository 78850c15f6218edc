/*
 * container.c - lab 10: the runtime and the container's init.
 *
 * Read the handout (README.md) first; container.h says exactly what each
 * function must do.  `make` builds ctr, `make check` runs the public graded
 * cases as root in a throwaway VM.
 */
#include "container.h"

#include <errno.h>
#include <stdio.h>

int container_run(const struct container_config *config)
{
	/* TODO (section 2): check the config; make STATE/NAME/{upper,work,merged};
	 * create the cgroup (cgroup.c); clone the init with CLONE_NEWPID,
	 * CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET and SIGCHLD on a
	 * heap stack; move it into the cgroup, create the veth pair (netlink.c);
	 * release it through a pipe.
	 * TODO (section 6): pass SIGTERM, SIGINT, ... on to the init; waitpid.
	 * TODO (section 7): delete the veth pair, the cgroup, work and merged;
	 * return the command's code.
	 * The init (sections 2, 4, 5, 6): wait for the release; unshare the
	 * cgroup namespace; hostname; lo and the veth end; private mounts,
	 * overlay, /proc, /dev, pivot_root; fork the command, pass signals on,
	 * reap everyone, exit with the command's code. */
	(void)config;
	errno = ENOSYS;
	perror("ctr: container_run");
	return -1;
}

int container_stop(const char *cgroup_parent, const char *name)
{
	/* TODO (section 7): write 1 to CGROUP_PARENT/NAME/cgroup.kill. */
	(void)cgroup_parent;
	(void)name;
	errno = ENOSYS;
	return -1;
}
