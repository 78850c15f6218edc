/*
 * uts_lab.c - reference solution of lab 02.
 */
#include "uts_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *uts_config_error(const struct uts_config *cfg)
{
	/*
	 * strnlen, not strlen: a name without its NUL within reach stops at
	 * the limit instead of running on through memory.  The kernel itself
	 * accepts an empty host name; the empty name is refused here because
	 * a container without a name is always a configuration mistake.
	 */
	if (!cfg->hostname)
		return "hostname is missing";
	size_t len = strnlen(cfg->hostname, UTS_NAME_MAX + 1);
	if (len == 0)
		return "hostname is empty";
	if (len > UTS_NAME_MAX)
		return "hostname is longer than 64 bytes";
	if (!cfg->domainname)
		return "domain name is missing";
	if (strnlen(cfg->domainname, UTS_NAME_MAX + 1) > UTS_NAME_MAX)
		return "domain name is longer than 64 bytes";
	return NULL;
}

/* What the child needs.  It lives on the parent's stack: without CLONE_VM
 * the child works on its own copy of the parent's memory. */
struct child_args {
	const struct uts_config *cfg;
	int (*fn)(void *);
	void *arg;
	int report_fd; /* write end of the sync pipe */
	int unused_fd; /* read end: the parent's business */
};

/* Names the UTS namespace the caller is in: 0, or the errno of the call
 * that failed (what the child reports to its parent). */
static int name_namespace(const struct uts_config *cfg)
{
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
		return errno;
	if (setdomainname(cfg->domainname, strlen(cfg->domainname)) != 0)
		return errno;
	return 0;
}

static int child_main(void *p)
{
	struct child_args *a = p;
	close(a->unused_fd);
	int err = name_namespace(a->cfg);
	/*
	 * The parent is blocked reading this word: it must not say the child
	 * started before the names are in place, nor at all if naming failed.
	 */
	ssize_t sent = write(a->report_fd, &err, sizeof(err));
	close(a->report_fd);
	if (err != 0 || sent != (ssize_t)sizeof(err))
		return 127; /* never run the payload under the wrong name */
	return a->fn(a->arg);
}

/* The child's report: 0 once it is named, else the errno it failed with. */
static int read_report(int fd)
{
	int err;
	ssize_t got;
	do
		got = read(fd, &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	/*
	 * A pipe read fails with EINTR only, handled above.  Anything but a
	 * whole word is the end of the pipe: the child died before reporting.
	 */
	if (got != (ssize_t)sizeof(err))
		return EIO;
	return err;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* clone() on a heap stack: the child's PID, or -1 with errno set. */
static pid_t clone_child(struct child_args *args)
{
	char *stack = malloc(UTS_STACK_SIZE);
	if (!stack)
		return -1;
	/* The stack grows down: clone() wants the top of the block. */
	pid_t pid = clone(child_main, stack + UTS_STACK_SIZE, CLONE_NEWUTS | SIGCHLD, args);
	int saved = errno;
	free(stack); /* the child runs on its own copy */
	errno = saved;
	return pid;
}

pid_t uts_spawn(const struct uts_config *cfg, int (*fn)(void *), void *arg)
{
	/* Check first: a refused configuration must not leave anything behind. */
	if (uts_config_error(cfg)) {
		errno = EINVAL;
		return -1;
	}
	int sync_pipe[2];
	if (pipe2(sync_pipe, O_CLOEXEC) != 0)
		return -1;
	struct child_args args = {cfg, fn, arg, sync_pipe[1], sync_pipe[0]};
	pid_t pid = clone_child(&args);
	if (pid < 0) {
		int saved = errno;
		close(sync_pipe[0]);
		close(sync_pipe[1]);
		errno = saved;
		return -1;
	}
	/*
	 * Our copy of the write end must go before we read: if the child dies
	 * without writing, its copy closes and read() sees the end of the pipe
	 * - as long as no other copy is left open.
	 */
	close(sync_pipe[1]);
	int err = read_report(sync_pipe[0]);
	close(sync_pipe[0]);
	if (err != 0) {
		reap(pid); /* it exits on its own; leave no zombie behind */
		errno = err;
		return -1;
	}
	return pid;
}

int uts_join(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* CLONE_NEWUTS makes setns check that fd really is a UTS namespace. */
	int rc = setns(fd, CLONE_NEWUTS);
	int saved = errno;
	close(fd); /* once joined, the namespace is held by the process itself */
	errno = saved;
	return rc;
}
