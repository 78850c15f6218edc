/*
 * mnt_lab.c - accepted alternative: the container's devices are the host's
 * own nodes, bind-mounted, rather than nodes made with mknod().
 *
 * This is what a runtime does in a user namespace (lab 05), where mknod()
 * is refused: an empty file on the container's tmpfs, and the host's node
 * bind-mounted on it.  The host's nodes must still be reachable, so /dev is
 * filled before the pivot, in ROOT/dev; the bind mount of the root on itself
 * (MS_REC) carries them into the new root.
 */
#include "mnt_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Indexed by the enum, so that the table cannot drift from its order. */
static const unsigned long propagation_flag[] = {
	[PROP_SHARED] = MS_SHARED,
	[PROP_PRIVATE] = MS_PRIVATE,
	[PROP_SLAVE] = MS_SLAVE,
	[PROP_UNBINDABLE] = MS_UNBINDABLE,
};

int mnt_set_propagation(const char *path, enum mnt_propagation type, int recursive)
{
	if ((unsigned)type >= sizeof(propagation_flag) / sizeof(propagation_flag[0])) {
		errno = EINVAL;
		return -1;
	}
	unsigned long flags = propagation_flag[type] | (recursive ? MS_REC : 0);
	/* A propagation change ignores the source and the type: NULL says so. */
	return mount(NULL, path, NULL, flags, NULL);
}

int mnt_new_namespace(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		return -1;
	/*
	 * The copy keeps every shared mount in its peer group: on a host where
	 * / is shared (systemd makes it so), our next mount would appear in the
	 * host's table too.  MS_REC: each mount has its own propagation type,
	 * and / alone being private says nothing of /tmp below it.
	 */
	return mnt_set_propagation("/", PROP_PRIVATE, 1);
}

int mnt_chroot(const char *root)
{
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		return -1;
	if (chroot(root) != 0)
		return -1;
	/*
	 * chroot() moves the root, not the working directory: without this,
	 * "." is still outside the new root, and so is everything reached
	 * from it.
	 */
	return chdir("/");
}

/* pivot_root has no wrapper in the C library. */
static int pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int mnt_pivot_root(const char *root)
{
	/*
	 * pivot_root() moves mounts, so the new root must be one: a bind mount
	 * of the folder on itself makes it so.  MS_REC keeps what is already
	 * mounted below it.
	 */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) != 0)
		return -1;
	if (chdir(root) != 0)
		return -1;
	if (mkdir(MNT_PUT_OLD, 0700) != 0 && errno != EEXIST)
		return -1;
	/* Relative paths: the working directory is the new root. */
	if (pivot_root(".", MNT_PUT_OLD) != 0)
		return -1;
	/* pivot_root() leaves a working directory that is not the old root alone. */
	if (chdir("/") != 0)
		return -1;
	/*
	 * Private before the unmount: were the old root still shared, the
	 * unmount would spread to its peers - the host's own mounts.
	 */
	if (mnt_set_propagation("/" MNT_PUT_OLD, PROP_PRIVATE, 1) != 0)
		return -1;
	/*
	 * MNT_DETACH: the old root holds /proc, /sys, /dev... and a plain
	 * unmount of a busy tree fails with EBUSY.  Detached, it is gone from
	 * the namespace at once, and freed when nothing uses it any more.
	 */
	if (umount2("/" MNT_PUT_OLD, MNT_DETACH) != 0)
		return -1;
	return rmdir("/" MNT_PUT_OLD);
}

int mnt_mount_proc(const char *target)
{
	return mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* The host's devices a container gets, by name in the host's /dev. */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static const struct {
	const char *name;
	const char *target;
} dev_links[] = {
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"fd", "/proc/self/fd"},
};

/* dir/name into buf; ENAMETOOLONG rather than a truncated path. */
static int join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* An empty file at dev/name, with the host's /dev/name bind-mounted on it. */
static int bind_host_node(const char *dev, const char *name)
{
	char path[PATH_MAX], host[PATH_MAX];
	if (join(path, sizeof(path), dev, name) != 0 || join(host, sizeof(host), "/dev", name) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	/* The mount shows the host's node: its type, numbers and mode (0666). */
	return mount(host, path, NULL, MS_BIND, NULL);
}

int mnt_populate_dev(const char *dev)
{
	/* A tmpfs of its own: the nodes never land in the root file system. */
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=755,size=64k") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (bind_host_node(dev, dev_nodes[i]) != 0)
			return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		char path[PATH_MAX];
		if (join(path, sizeof(path), dev, dev_links[i].name) != 0)
			return -1;
		if (symlink(dev_links[i].target, path) != 0)
			return -1;
	}
	return 0;
}

struct container {
	const char *root;
	int (*fn)(void *);
	void *arg;
};

static int setup_failed(const char *step)
{
	fprintf(stderr, "container: %s: %s\n", step, strerror(errno));
	return MNT_SETUP_FAILED;
}

/* The child: in its new namespaces, but still on the host's root. */
static int container_main(void *data)
{
	const struct container *c = data;
	if (mnt_set_propagation("/", PROP_PRIVATE, 1) != 0)
		return setup_failed("making / private");
	/* Before the pivot, while the host's /dev is still there to bind from. */
	char dev[PATH_MAX];
	if (join(dev, sizeof(dev), c->root, "dev") != 0 || mnt_populate_dev(dev) != 0)
		return setup_failed("filling /dev");
	if (mnt_pivot_root(c->root) != 0)
		return setup_failed("pivot_root");
	/*
	 * Now, not in the parent: a proc file system shows the PID namespace
	 * of whoever mounts it, and only this child is inside the new one.
	 */
	if (mnt_mount_proc("/proc") != 0)
		return setup_failed("mounting /proc");
	return c->fn(c->arg);
}

pid_t mnt_container_spawn(const char *root, int (*fn)(void *), void *arg)
{
	struct container c = {root, fn, arg};
	char *stack = malloc(MNT_STACK_SIZE);
	if (!stack)
		return -1;
	/*
	 * Without CLONE_VM the child works on its own copy of our memory: c
	 * and the stack may go as soon as clone() returns.
	 */
	pid_t pid = clone(container_main, stack + MNT_STACK_SIZE, CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, &c);
	int saved = errno;
	free(stack);
	errno = saved;
	return pid;
}
