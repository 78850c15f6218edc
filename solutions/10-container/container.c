/*
 * container.c - reference solution of lab 10: the runtime and the container's init.
 *
 * Two processes, one pipe between them:
 *
 *   runtime (ctr run)                      init (PID 1 of the container)
 *   dirs, cgroup, pipe, clone  ----------> waits on the pipe
 *   cgroup.procs, veth pair
 *   one byte on the pipe       ----------> cgroup ns, hostname, network,
 *   passes signals on to init              overlay, /proc, /dev, pivot_root,
 *   waitpid                                fork + exec the command, reap all
 *   veth, cgroup, dirs away   <----------  exits with the command's code
 *
 * The init waits because what the runtime does for it needs its PID: the
 * cgroup it must be in before its cgroup namespace is made, the veth end
 * that must exist in its network namespace before it configures it.
 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* The signals a container gets when its runtime gets them. */
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

/* Where the container's files are: STATE/NAME and its three folders. */
struct layout {
	char dir[1024], upper[1100], work[1100], merged[1100];
};

/* What the init needs; it reads its own copy (no CLONE_VM). */
struct launch {
	const struct container_config *config;
	const struct layout *dirs;
	int release_r, release_w; /* the pipe the runtime releases the init through */
};

/* Says what failed, with errno's text, on stderr (the user's terminal):
 * "ctr: WHAT: strerror(errno)", WHAT formatted as by printf. */
__attribute__((format(printf, 1, 2))) static int fail(const char *what, ...)
{
	int err = errno;
	va_list args;
	va_start(args, what);
	fputs("ctr: ", stderr);
	vfprintf(stderr, what, args);
	va_end(args);
	fprintf(stderr, ": %s\n", strerror(err));
	errno = err;
	return -1;
}

/* The PID a forwarding handler sends to: the init (runtime) or the command (init). */
static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static int forward_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	/* Not SA_RESTART: waitpid() returns EINTR and loops, which is fine. */
	for (size_t i = 0; i < NFORWARDED; i++)
		if (sigaction(forwarded[i], &sa, NULL) != 0)
			return -1;
	return 0;
}

static int wait_status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ================================================================ the init */

static int mount_overlay(const struct container_config *c, const struct layout *d)
{
	char options[4096];
	snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s,workdir=%s", c->image, d->upper, d->work);
	if (mount("overlay", d->merged, "overlay", 0, options) != 0)
		return fail("mount overlay on %s", d->merged);
	return 0;
}

static int mount_proc(const char *root)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/proc", root);
	/* A new proc instance: it shows the PID namespace of the mounter. */
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		return fail("mount proc on %s", path);
	return 0;
}

/* A tmpfs /dev with the few devices programs expect, and nothing of the host's. */
static int mount_dev(const char *root)
{
	static const struct {
		const char *name;
		unsigned int major, minor;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5},    {"full", 1, 7},
		     {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	static const char *const links[][2] = {{"fd", "/proc/self/fd"},	 {"stdin", "/proc/self/fd/0"},
					       {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
	char dev[1200], path[1300];
	snprintf(dev, sizeof(dev), "%s/dev", root);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=64k") != 0)
		return fail("mount tmpfs on %s", dev);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) != 0)
			return fail("mknod %s", path);
		/* The umask took bits off 0666; a device is useless without them. */
		if (chmod(path, 0666) != 0)
			return fail("chmod %s", path);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, links[i][0]);
		if (symlink(links[i][1], path) != 0)
			return fail("symlink %s", path);
	}
	return 0;
}

static int pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* Makes merged the root, and the old root disappear from the namespace. */
static int enter_root(const char *merged)
{
	if (chdir(merged) != 0)
		return fail("chdir %s", merged);
	if (mkdir(".oldroot", 0700) != 0)
		return fail("mkdir .oldroot in the new root");
	/* The overlay is a mount: it can be the new root as it is. */
	if (pivot_root(".", ".oldroot") != 0)
		return fail("pivot_root to %s", merged);
	if (chdir("/") != 0)
		return fail("chdir /");
	/* MNT_DETACH: the old root is busy (it holds /proc, /sys, ...). */
	if (umount2("/.oldroot", MNT_DETACH) != 0)
		return fail("umount /.oldroot");
	if (rmdir("/.oldroot") != 0)
		return fail("rmdir /.oldroot");
	return 0;
}

static int setup_root(const struct container_config *c, const struct layout *d)
{
	/* Every mount private: what follows must not propagate to the host's
	 * mount namespace, and pivot_root refuses shared mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return fail("make / private");
	if (mount_overlay(c, d) != 0 || mount_proc(d->merged) != 0 || mount_dev(d->merged) != 0)
		return -1;
	return enter_root(d->merged);
}

static int setup_network(const struct container_config *c)
{
	if (net_link_up("lo") != 0)
		return fail("set up lo");
	if (!c->net)
		return 0;
	char peer[32];
	snprintf(peer, sizeof(peer), "vc-%s", c->name);
	if (net_addr_add(peer, c->net->container_addr, c->net->prefix) != 0)
		return fail("add the container's address to %s", peer);
	if (net_link_up(peer) != 0)
		return fail("set up %s", peer);
	return 0;
}

static int wait_for_release(struct launch *l)
{
	char byte;
	ssize_t n;
	/* Our copy of the write end would keep the pipe open forever. */
	close(l->release_w);
	do
		n = read(l->release_r, &byte, 1);
	while (n < 0 && errno == EINTR);
	close(l->release_r);
	return n == 1 ? 0 : -1; /* EOF: the runtime failed and gave up */
}

static void exec_command(char *const *argv)
{
	execvp(argv[0], argv);
	fail("exec %s", argv[0]);
	_exit(errno == ENOENT ? 127 : 126);
}

/* PID 1's job: run the command, pass signals on to it, reap every process. */
static int run_command(char *const *argv)
{
	sigset_t all, old;
	sigfillset(&all);
	/* No signal between fork and forward_to being set: it would be lost. */
	sigprocmask(SIG_BLOCK, &all, &old);
	if (forward_signals() != 0)
		return fail("sigaction"), CONTAINER_FAILED;
	pid_t command = fork();
	if (command == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		exec_command(argv); /* exec resets the handlers to their default */
	}
	if (command < 0)
		return fail("fork %s", argv[0]), CONTAINER_FAILED;
	forward_to = command;
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		int status;
		pid_t ended = wait(&status);
		if (ended < 0 && errno == EINTR)
			continue;
		if (ended < 0)
			return fail("wait"), CONTAINER_FAILED;
		if (ended == command)
			return wait_status_code(status); /* the kernel kills the rest */
	}
}

static int container_init(void *data)
{
	struct launch *l = data;
	const struct container_config *c = l->config;
	if (wait_for_release(l) != 0)
		return CONTAINER_FAILED;
	/* Now that the runtime has put us in our cgroup: the new cgroup
	 * namespace is rooted there, and /proc/self/cgroup says "0::/". */
	if (unshare(CLONE_NEWCGROUP) != 0)
		return fail("unshare(CLONE_NEWCGROUP)"), CONTAINER_FAILED;
	if (sethostname(c->hostname, strlen(c->hostname)) != 0)
		return fail("sethostname %s", c->hostname), CONTAINER_FAILED;
	if (setup_network(c) != 0 || setup_root(c, l->dirs) != 0)
		return CONTAINER_FAILED;
	return run_command(c->argv);
}

/* ============================================================= the runtime */

static int valid_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > CONTAINER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	return 1;
}

static int check_config(const struct container_config *c)
{
	errno = EINVAL;
	if (!valid_name(c->name))
		return fail("the name must have 1 to %d of [a-z0-9-], not '%s'", CONTAINER_NAME_MAX, c->name ? c->name : "");
	if (!c->hostname || !*c->hostname || strlen(c->hostname) > 64)
		return fail("the host name must have 1 to 64 characters");
	if (!c->image || !c->state_dir || !c->cgroup_parent || !c->argv || !c->argv[0])
		return fail("an image, a state folder, a cgroup parent and a command are needed");
	if (c->net && (!c->net->host_addr || !c->net->container_addr))
		return fail("a network needs both addresses");
	struct stat st;
	if (stat(c->image, &st) != 0)
		return fail("image %s", c->image);
	return 0;
}

static int make_layout(const struct container_config *c, struct layout *d)
{
	snprintf(d->dir, sizeof(d->dir), "%s/%s", c->state_dir, c->name);
	snprintf(d->upper, sizeof(d->upper), "%s/upper", d->dir);
	snprintf(d->work, sizeof(d->work), "%s/work", d->dir);
	snprintf(d->merged, sizeof(d->merged), "%s/merged", d->dir);
	if (mkdir(c->state_dir, 0755) != 0 && errno != EEXIST)
		return fail("mkdir %s", c->state_dir);
	/* EEXIST: a container of that name ran here; its upper layer is still there. */
	if (mkdir(d->dir, 0700) != 0)
		return fail("mkdir %s", d->dir);
	if (mkdir(d->upper, 0755) != 0 || mkdir(d->work, 0700) != 0 || mkdir(d->merged, 0755) != 0)
		return fail("mkdir in %s", d->dir);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes what only a running container needs; the upper layer stays. */
static void remove_layout(const struct layout *d)
{
	/* overlayfs keeps files of its own in workdir (a whiteout it links
	 * every deletion to): the whole tree goes, depth first, never
	 * following a link or crossing into another mount. */
	if (nftw(d->work, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		fail("remove %s", d->work);
	if (rmdir(d->merged) != 0)
		fail("rmdir %s", d->merged);
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* What the runtime does for the init before releasing it.  *veth says
 * whether the pair was made: only then is it this runtime's to delete. */
static int prepare_init(const struct container_config *c, const char *cgroup, pid_t pid, const char *host,
			int *veth)
{
	if (cgroup_add(cgroup, pid) != 0)
		return fail("add the init to %s", cgroup);
	if (!c->net)
		return 0;
	char peer[32];
	snprintf(peer, sizeof(peer), "vc-%s", c->name);
	if (net_veth_create(host, peer, pid) != 0)
		return fail("create the veth pair %s", host);
	*veth = 1;
	if (net_addr_add(host, c->net->host_addr, c->net->prefix) != 0)
		return fail("add the host's address to %s", host);
	if (net_link_up(host) != 0)
		return fail("set up %s", host);
	return 0;
}

static pid_t clone_init(struct launch *l)
{
	char *stack = malloc(CONTAINER_STACK_SIZE);
	if (!stack)
		return -1;
	/* No CLONE_NEWCGROUP here: the init makes it once it is in its cgroup. */
	int flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD;
	pid_t pid = clone(container_init, stack + CONTAINER_STACK_SIZE, flags, l);
	int err = errno;
	free(stack);
	errno = err;
	return pid;
}

/* Starts the init, prepares and releases it, waits: its wait status, or -1. */
static int start_and_wait(const struct container_config *c, const struct layout *d, const char *cgroup,
			  const char *host)
{
	int release[2];
	if (pipe2(release, O_CLOEXEC) != 0)
		return fail("pipe2");
	struct launch l = {c, d, release[0], release[1]};
	pid_t pid = clone_init(&l);
	close(release[0]);
	if (pid < 0) {
		close(release[1]);
		return fail("clone");
	}
	int veth = 0;
	int ready = prepare_init(c, cgroup, pid, host, &veth) == 0;
	forward_to = pid;
	if (ready && forward_signals() != 0)
		ready = 0, fail("sigaction");
	/* One byte: go on. EOF alone: give up. */
	if (ready && write(release[1], "1", 1) != 1)
		ready = 0, fail("release the init");
	close(release[1]);
	int status;
	if (wait_child(pid, &status) != 0)
		return fail("waitpid");
	/* The init is gone: its network namespace, and the veth end in it,
	 * go with it, but only once the kernel gets round to it. Deleting the
	 * host end deletes the pair now. */
	if (veth && net_link_delete(host) != 0 && errno != ENODEV)
		fail("delete %s", host);
	return ready ? status : -1;
}

int container_run(const struct container_config *c)
{
	struct layout d;
	char cgroup[4096], host[32];
	if (check_config(c) != 0 || make_layout(c, &d) != 0)
		return -1;
	snprintf(host, sizeof(host), "vh-%s", c->name);
	if (cgroup_create(c->cgroup_parent, c->name, &c->limits, cgroup, sizeof(cgroup)) != 0) {
		fail("create the cgroup %s/%s", c->cgroup_parent, c->name);
		remove_layout(&d);
		return -1;
	}
	int status = start_and_wait(c, &d, cgroup, host);
	if (cgroup_remove(cgroup) != 0)
		fail("remove the cgroup %s", cgroup);
	remove_layout(&d);
	return status < 0 ? -1 : wait_status_code(status);
}

int container_stop(const char *cgroup_parent, const char *name)
{
	if (!valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/cgroup.kill", cgroup_parent, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, "1", 1);
	int err = errno;
	close(fd);
	errno = err;
	return n == 1 ? 0 : -1;
}
