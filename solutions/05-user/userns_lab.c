/*
 * userns_lab.c - reference solution of lab 05.
 */
#include "userns_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the cloned child needs: its function, and both ends of the pipe. */
struct held {
	int (*fn)(void *);
	void *arg;
	int wait_fd;
	int release_fd;
};

static int held_child_main(void *p)
{
	struct held *h = p;
	/*
	 * Our copy of the write end must go first: as long as any write end is
	 * open, read() cannot see end-of-file, and a parent that gives up would
	 * leave us blocked forever.
	 */
	close(h->release_fd);
	char go;
	ssize_t n;
	do
		n = read(h->wait_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	close(h->wait_fd);
	if (n != 1)
		_exit(USERNS_ABANDONED); /* the parent closed the pipe: no maps */
	return h->fn(h->arg);
}

int userns_clone(struct userns_child *child, int flags, int (*fn)(void *), void *arg)
{
	int fds[2];
	/* O_CLOEXEC: a program fn executes must not inherit the pipe. */
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	char *stack = malloc(USERNS_STACK_SIZE);
	if (!stack) {
		close(fds[0]);
		close(fds[1]);
		errno = ENOMEM;
		return -1;
	}
	/*
	 * Without CLONE_VM the child gets a copy of our memory, this struct on
	 * our stack included, and we may free our copy of its stack at once.
	 */
	struct held h = {fn, arg, fds[0], fds[1]};
	pid_t pid = clone(held_child_main, stack + USERNS_STACK_SIZE, CLONE_NEWUSER | flags | SIGCHLD, &h);
	int saved = errno;
	free(stack);
	close(fds[0]); /* the child's end */
	if (pid < 0) {
		close(fds[1]);
		errno = saved;
		return -1;
	}
	child->pid = pid;
	child->release_fd = fds[1];
	return 0;
}

/* Writes text to /proc/PID/name in one write(2), as the map files require. */
static int write_proc_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/*
	 * One write: these files take the whole line at once or refuse it,
	 * and a second write would be a second map, refused.
	 */
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

int userns_deny_setgroups(pid_t pid)
{
	return write_proc_file(pid, "setgroups", "deny");
}

int userns_write_map(pid_t pid, const char *file, unsigned long inside, unsigned long outside,
		     unsigned long count)
{
	if (strcmp(file, "uid_map") != 0 && strcmp(file, "gid_map") != 0) {
		errno = EINVAL;
		return -1;
	}
	char line[96];
	snprintf(line, sizeof(line), "%lu %lu %lu\n", inside, outside, count);
	return write_proc_file(pid, file, line);
}

int userns_map_root(pid_t pid, uid_t uid, gid_t gid)
{
	/*
	 * setgroups first: the kernel lets an unprivileged writer set gid_map
	 * only once setgroups(2) is denied in the namespace, and refuses to
	 * change setgroups once gid_map is written.
	 */
	if (userns_deny_setgroups(pid) != 0)
		return -1;
	/* One id each: ours becomes 0 inside, every other id stays unmapped. */
	if (userns_write_map(pid, "uid_map", 0, uid, 1) != 0)
		return -1;
	return userns_write_map(pid, "gid_map", 0, gid, 1);
}

int userns_release(struct userns_child *child)
{
	/*
	 * One byte into an empty pipe: the write never blocks, so no signal
	 * can interrupt it.  It fails (EPIPE) if the child is gone.
	 */
	ssize_t n = write(child->release_fd, "1", 1);
	int saved = errno;
	close(child->release_fd);
	child->release_fd = -1;
	if (n != 1) {
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * The maps or the release failed.  A pipe closed unwritten makes the child
 * exit unrun (a failed release has closed it already: the child is gone);
 * either way it is ours to reap.
 */
static void abandon(struct userns_child *child)
{
	if (child->release_fd >= 0)
		close(child->release_fd);
	while (waitpid(child->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

pid_t userns_spawn(int flags, int (*fn)(void *), void *arg)
{
	struct userns_child child;
	if (userns_clone(&child, flags, fn, arg) != 0)
		return -1;
	if (userns_map_root(child.pid, getuid(), getgid()) == 0 && userns_release(&child) == 0)
		return child.pid;
	int saved = errno;
	abandon(&child);
	errno = saved;
	return -1;
}

int userns_set_hostname(const char *name)
{
	/* The length of the string, not of the pointer holding it. */
	return sethostname(name, strlen(name));
}

const char *userns_hint(int err)
{
	switch (err) {
	case EPERM:
		return "user namespaces are disabled or restricted for this user: "
		       "/proc/sys/kernel/unprivileged_userns_clone may be 0, or a security "
		       "policy (AppArmor, SELinux, seccomp) forbids them";
	case ENOSPC:
		return "the limit on user namespaces is reached: see "
		       "/proc/sys/user/max_user_namespaces (0 disables them), and nesting "
		       "stops at 32 levels";
	default:
		return NULL;
	}
}
