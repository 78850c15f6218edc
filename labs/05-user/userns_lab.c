/*
 * userns_lab.c - lab 05: your code goes here.
 *
 * Read the handout (README.md) first; userns_lab.h says exactly what each
 * function must do.  `make` builds the driver userns, `make check` runs the
 * public graded cases in a throwaway VM (some as root, some as an ordinary
 * user).
 */
#include "userns_lab.h"

#include <errno.h>
#include <stddef.h>

int userns_clone(struct userns_child *child, int flags, int (*fn)(void *), void *arg)
{
	/* TODO: make a pipe (O_CLOEXEC), allocate a USERNS_STACK_SIZE stack,
	 * and clone(2) with CLONE_NEWUSER | flags | SIGCHLD.  The child closes
	 * its copy of the write end, reads one byte, and only then runs fn;
	 * on end-of-file it _exits with USERNS_ABANDONED.  The parent closes
	 * the read end and keeps the write end in child->release_fd. */
	(void)child;
	(void)flags;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

int userns_deny_setgroups(pid_t pid)
{
	/* TODO: write "deny" to /proc/PID/setgroups. */
	(void)pid;
	errno = ENOSYS;
	return -1;
}

int userns_write_map(pid_t pid, const char *file, unsigned long inside, unsigned long outside,
		     unsigned long count)
{
	/* TODO: check file is "uid_map" or "gid_map", format the line
	 * "INSIDE OUTSIDE COUNT\n", and write it to /proc/PID/FILE in ONE
	 * write(2) whose result you check. */
	(void)pid;
	(void)file;
	(void)inside;
	(void)outside;
	(void)count;
	errno = ENOSYS;
	return -1;
}

int userns_map_root(pid_t pid, uid_t uid, gid_t gid)
{
	/* TODO: setgroups deny, then uid_map "0 UID 1", then gid_map
	 * "0 GID 1" - in that order (the handout says why). */
	(void)pid;
	(void)uid;
	(void)gid;
	errno = ENOSYS;
	return -1;
}

int userns_release(struct userns_child *child)
{
	/* TODO: write one byte to child->release_fd, close it, set it to -1. */
	(void)child;
	errno = ENOSYS;
	return -1;
}

pid_t userns_spawn(int flags, int (*fn)(void *), void *arg)
{
	/* TODO: userns_clone, userns_map_root with getuid() and getgid(),
	 * userns_release.  If the maps fail: close the pipe unwritten, wait
	 * for the child, and return -1 with the maps' errno. */
	(void)flags;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

int userns_set_hostname(const char *name)
{
	/* TODO: sethostname(2) with the length of the name. */
	(void)name;
	errno = ENOSYS;
	return -1;
}

const char *userns_hint(int err)
{
	/* TODO: a sentence for EPERM naming /proc/sys/kernel/unprivileged_userns_clone,
	 * one for ENOSPC naming /proc/sys/user/max_user_namespaces, NULL otherwise. */
	(void)err;
	return NULL;
}
