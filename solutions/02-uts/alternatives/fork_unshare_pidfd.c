/*
 * uts_lab.c - accepted alternative: fork(2) then unshare(2) in the child, and
 * setns(2) on a pidfd to join.
 *
 * unshare(CLONE_NEWUTS) moves the caller itself into a new UTS namespace, a
 * copy of its old one; called in the forked child, it leaves the parent
 * where it was.  No stack to allocate: fork gives the child a copy of the
 * caller's.  The names are still set after the new namespace exists, by the
 * child, and reported through the pipe as in the reference.
 *
 * Since Linux 5.8, setns() also accepts a pidfd (pidfd_open(2)) with the
 * types of namespace to join: no path to build under /proc.
 */
#include "uts_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* 1 if name is at most max bytes long and, unless empty_ok, not empty. */
static int length_ok(const char *name, int empty_ok)
{
	if (!name)
		return 0;
	size_t len = strnlen(name, UTS_NAME_MAX + 1);
	return len <= UTS_NAME_MAX && (empty_ok || len > 0);
}

const char *uts_config_error(const struct uts_config *cfg)
{
	if (!length_ok(cfg->hostname, 0))
		return cfg->hostname && cfg->hostname[0] == '\0' ? "hostname is empty"
								 : "hostname must be 1 to 64 bytes";
	if (!length_ok(cfg->domainname, 1))
		return "domain name must be at most 64 bytes";
	return NULL;
}

/* In the forked child: a namespace of its own, then its names; errno on failure. */
static int become_named(const struct uts_config *cfg)
{
	if (unshare(CLONE_NEWUTS) != 0)
		return errno;
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
		return errno;
	if (setdomainname(cfg->domainname, strlen(cfg->domainname)) != 0)
		return errno;
	return 0;
}

static void run_child(const struct uts_config *cfg, int (*fn)(void *), void *arg, int report_fd)
{
	int err = become_named(cfg);
	int sent = write(report_fd, &err, sizeof(err)) == (ssize_t)sizeof(err);
	close(report_fd);
	_exit(err == 0 && sent ? fn(arg) : 127);
}

pid_t uts_spawn(const struct uts_config *cfg, int (*fn)(void *), void *arg)
{
	if (uts_config_error(cfg)) {
		errno = EINVAL;
		return -1;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		run_child(cfg, fn, arg, fds[1]);
	}
	int err = pid < 0 ? errno : 0;
	close(fds[1]);
	if (pid > 0) {
		ssize_t got;
		while ((got = read(fds[0], &err, sizeof(err))) < 0 && errno == EINTR)
			;
		if (got < 0)
			err = errno;
		else if (got != (ssize_t)sizeof(err))
			err = EIO;
		if (err != 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	close(fds[0]);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return pid;
}

int uts_join(pid_t pid)
{
	int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return -1;
	int rc = setns(pidfd, CLONE_NEWUTS);
	int saved = errno;
	close(pidfd);
	errno = saved;
	return rc;
}
