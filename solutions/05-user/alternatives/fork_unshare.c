/*
 * userns_lab.c - accepted alternative: fork(2) and unshare(2) instead of
 * clone, the way unshare(1) works.
 *
 * A forked child starts in OUR user namespace, and leaves it only when it
 * calls unshare(CLONE_NEWUSER).  Writing its maps before that would target
 * our own namespace (refused: its maps are long written), so the handshake
 * goes both ways: the child reports on a second pipe that it has unshared
 * (or the errno of its failure), the parent maps, then releases it.
 *
 * unshare(CLONE_NEWPID) does not move the caller (lab 01): it only decides
 * where the caller's next children go.  So when a PID namespace is asked
 * for, the released child forks once more: the grandchild, PID 1 of the new
 * namespace, runs fn, and the child waits for it and exits the same way.
 */
#include "userns_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads exactly len bytes, retrying on EINTR; returns how many it got. */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void wait_quietly(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Waits for pid and ends the same way: its exit code, or 128 + its signal. */
static void exit_like(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The forked child: unshare, say so, wait for the maps, run fn. */
static void held_child(int flags, int ready_fd, int wait_fd, int (*fn)(void *), void *arg)
{
	int err = unshare(CLONE_NEWUSER | flags) == 0 ? 0 : errno;
	ssize_t n = write(ready_fd, &err, sizeof(err));
	close(ready_fd);
	if (err != 0 || n != (ssize_t)sizeof(err))
		_exit(USERNS_ABANDONED);
	char go;
	size_t got = read_full(wait_fd, &go, 1);
	close(wait_fd);
	if (got != 1)
		_exit(USERNS_ABANDONED);
	if (flags & CLONE_NEWPID) {
		pid_t init = fork();
		if (init < 0)
			_exit(1);
		if (init == 0)
			_exit(fn(arg));
		exit_like(init);
	}
	_exit(fn(arg));
}

int userns_clone(struct userns_child *child, int flags, int (*fn)(void *), void *arg)
{
	int release[2], ready[2];
	if (pipe2(release, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) != 0) {
		int saved = errno;
		close(release[0]);
		close(release[1]);
		errno = saved;
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(release[1]); /* else read() could never see end-of-file */
		close(ready[0]);
		held_child(flags, ready[1], release[0], fn, arg);
	}
	int saved = errno;
	close(release[0]);
	close(ready[1]);
	int err = pid < 0 ? saved : 0;
	/* Wait until the child is in its own user namespace, or has failed to. */
	if (pid > 0 && read_full(ready[0], &err, sizeof(err)) != sizeof(err))
		err = ECHILD;
	close(ready[0]);
	if (err != 0) {
		close(release[1]);
		if (pid > 0)
			wait_quietly(pid);
		errno = err;
		return -1;
	}
	child->pid = pid;
	child->release_fd = release[1];
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	errno = n < 0 ? saved : EIO;
	return (size_t)n == len ? 0 : -1;
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
	/* setgroups before gid_map: the kernel's order, not ours to choose. */
	if (userns_deny_setgroups(pid) != 0 || userns_write_map(pid, "uid_map", 0, uid, 1) != 0)
		return -1;
	return userns_write_map(pid, "gid_map", 0, gid, 1);
}

int userns_release(struct userns_child *child)
{
	ssize_t n;
	do
		n = write(child->release_fd, "1", 1);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(child->release_fd);
	child->release_fd = -1;
	errno = saved;
	return n == 1 ? 0 : -1;
}

pid_t userns_spawn(int flags, int (*fn)(void *), void *arg)
{
	struct userns_child child;
	if (userns_clone(&child, flags, fn, arg) != 0)
		return -1;
	if (userns_map_root(child.pid, getuid(), getgid()) != 0) {
		int saved = errno;
		close(child.release_fd); /* unwritten: the child exits unrun */
		wait_quietly(child.pid);
		errno = saved;
		return -1;
	}
	if (userns_release(&child) != 0) {
		int saved = errno;
		wait_quietly(child.pid);
		errno = saved;
		return -1;
	}
	return child.pid;
}

int userns_set_hostname(const char *name)
{
	return sethostname(name, strlen(name));
}

const char *userns_hint(int err)
{
	if (err == EPERM)
		return "user namespaces are disabled or restricted: check "
		       "/proc/sys/kernel/unprivileged_userns_clone and the security policy";
	if (err == ENOSPC)
		return "too many user namespaces: /proc/sys/user/max_user_namespaces is reached";
	return NULL;
}
