/*
 * mnt_lab.c - lab 03: your code goes here.
 *
 * Read the handout (README.md) first; mnt_lab.h says exactly what each
 * function must do.  `make` builds the driver mntns, `make check` runs the
 * public graded cases as root in a throwaway VM.
 */
#include "mnt_lab.h"

#include <errno.h>

int mnt_set_propagation(const char *path, enum mnt_propagation type, int recursive)
{
	/* TODO: mount(2) with no source and no type, and the one flag that
	 * matches type (MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE), plus
	 * MS_REC when recursive. */
	(void)path;
	(void)type;
	(void)recursive;
	errno = ENOSYS;
	return -1;
}

int mnt_new_namespace(void)
{
	/* TODO: unshare(2) the mount namespace, then make every mount of the
	 * copy private, from / down - in that order. */
	errno = ENOSYS;
	return -1;
}

int mnt_chroot(const char *root)
{
	/* TODO: create root (0755) unless it exists, chroot(2) into it, and
	 * move the working directory into the new root. */
	(void)root;
	errno = ENOSYS;
	return -1;
}

int mnt_pivot_root(const char *root)
{
	/* TODO: make root a mount point (bind it on itself), pivot_root(2)
	 * through syscall(SYS_pivot_root, ...) with the old root put on
	 * root/MNT_PUT_OLD, go to the new /, then make the old root private,
	 * detach it and remove its folder. */
	(void)root;
	errno = ENOSYS;
	return -1;
}

int mnt_mount_proc(const char *target)
{
	/* TODO: mount a proc file system on target (nosuid, nodev, noexec). */
	(void)target;
	errno = ENOSYS;
	return -1;
}

int mnt_populate_dev(const char *dev)
{
	/* TODO: a tmpfs on dev, the six device nodes (mode 0666, whatever the
	 * umask says) and the four links to /proc/self/fd. */
	(void)dev;
	errno = ENOSYS;
	return -1;
}

pid_t mnt_container_spawn(const char *root, int (*fn)(void *), void *arg)
{
	/* TODO: clone(2) a child into new mount and PID namespaces; in the
	 * child, make / private recursively, pivot to root, mount /proc, fill
	 * /dev, then return fn(arg). */
	(void)root;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}
