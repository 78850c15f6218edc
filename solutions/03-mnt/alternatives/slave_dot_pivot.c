/*
 * mnt_lab.c - accepted alternative: slave rather than private, and
 * pivot_root(".", ".") with no folder for the old root.
 *
 * MS_SLAVE | MS_REC also stops every mount of ours from reaching the host,
 * while the host's later mounts still reach us (a USB stick mounted on the
 * host shows up in the container: sometimes wanted).
 *
 * pivot_root(".", ".") stacks the old root on top of the new one, at the
 * same place: no put_old folder to create in the image, nor to remove.  The
 * old root is then reached through a descriptor kept open, made slave, and
 * detached.
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
#include <sys/sysmacros.h>
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
	 * The copy keeps every shared mount in its peer group.  As a slave,
	 * each one still receives the host's events but sends none back; and
	 * MS_REC, because every mount below / has a type of its own.
	 */
	return mnt_set_propagation("/", PROP_SLAVE, 1);
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

/* Detaches the mount the working directory is the top of, and what is below it. */
static int detach_cwd_mount(void)
{
	/* Slave first: an unmount of a shared mount would spread to the host. */
	if (mnt_set_propagation(".", PROP_SLAVE, 1) != 0)
		return -1;
	return umount2(".", MNT_DETACH);
}

int mnt_pivot_root(const char *root)
{
	/* pivot_root() moves mounts: the new root must be one. */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) != 0)
		return -1;
	int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old_root < 0)
		return -1;
	int status = -1;
	/*
	 * With "." as both arguments, the old root is mounted over the new one;
	 * going back to it through old_root and detaching it uncovers the new
	 * root, which our root already is.
	 */
	if (chdir(root) == 0 && pivot_root(".", ".") == 0 && fchdir(old_root) == 0 && detach_cwd_mount() == 0)
		status = chdir("/");
	int saved = errno;
	close(old_root);
	errno = saved;
	return status;
}

int mnt_mount_proc(const char *target)
{
	return mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static const struct {
	const char *name;
	unsigned int major, minor;
} dev_nodes[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

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

/*
 * mknod() rather than bind mounts of the host's nodes: we are root in the
 * host's user namespace, so the kernel lets us make them, and the container
 * gets nodes of its own on its own tmpfs.  (In a user namespace mknod is
 * refused, and runtimes bind-mount the host's nodes instead.)
 */
static int make_node(const char *dev, const char *name, unsigned int major, unsigned int minor)
{
	char path[PATH_MAX];
	if (join(path, sizeof(path), dev, name) != 0)
		return -1;
	if (mknod(path, S_IFCHR | 0666, makedev(major, minor)) != 0)
		return -1;
	/* mknod() applies the umask (0644 under the usual 022): set it again. */
	return chmod(path, 0666);
}

int mnt_populate_dev(const char *dev)
{
	/* A tmpfs of its own: the nodes never land in the root file system. */
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=755,size=64k") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (make_node(dev, dev_nodes[i].name, dev_nodes[i].major, dev_nodes[i].minor) != 0)
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
	if (mnt_set_propagation("/", PROP_SLAVE, 1) != 0)
		return setup_failed("making / slave");
	if (mnt_pivot_root(c->root) != 0)
		return setup_failed("pivot_root");
	/*
	 * Now, not in the parent: a proc file system shows the PID namespace
	 * of whoever mounts it, and only this child is inside the new one.
	 */
	if (mnt_mount_proc("/proc") != 0)
		return setup_failed("mounting /proc");
	if (mnt_populate_dev("/dev") != 0)
		return setup_failed("filling /dev");
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
