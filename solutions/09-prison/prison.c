/*
 * prison.c - reference solution of lab 09.
 *
 * The parent checks the configuration, clones the child into its new
 * namespaces and waits for it; the child sets itself up (host name, root)
 * and runs the callback.  Two pipes join them:
 *   - report: the child writes on it which setup step failed, so that the
 *     parent can tell "sethostname failed" from "the callback returned 127";
 *   - release (with a user namespace only): the child waits on it until the
 *     parent has written its id maps, so that it is root when it goes on.
 */
#include "prison.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child needs.  It lives in the parent's memory: the child, cloned
 * without CLONE_VM, reads its own copy. */
struct prisoner {
	const struct prison_config *config;
	int (*callback)(void *);
	void *arg;
	int report_fd;  /* write end of the report pipe */
	int release_fd; /* read end of the release pipe, or -1 */
	int parent_fd;  /* the parent's end of it, which the child must close */
	int report_parent_fd; /* the parent's read end of report: not the callback's */
};

/* One record on the report pipe: the step that failed and its errno. */
struct setup_failure {
	int err;
	char step[160];
};

static struct prison_result failure(enum prison_status status, int err, const char *fmt, ...)
{
	struct prison_result r = {.status = status, .err = err};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	return r;
}

/* ------------------------------------------------------------ the check */

static int check_id_map(const struct prison_idmap *map, const char *name, struct prison_result *r)
{
	if (map && map->count == 0) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL, "the %s has a count of 0: map at least one id", name);
		return -1;
	}
	return 0;
}

/* Refuses a configuration before anything is created, saying what to change. */
static int check_config(const struct prison_config *c, int (*callback)(void *), struct prison_result *r)
{
	if (!c || !callback || !c->hostname || !c->rootfs) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "the config, its hostname, its rootfs and the callback must not be NULL");
		return -1;
	}
	size_t len = strlen(c->hostname);
	if (len == 0) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "the hostname is empty: give the prison a name of 1 to %d characters",
			     PRISON_HOSTNAME_MAX);
		return -1;
	}
	/* sethostname() would refuse it with EINVAL, but only in the child,
	 * after the namespaces exist: say it now, with the limit. */
	if (len > PRISON_HOSTNAME_MAX) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "the hostname has %zu characters; the kernel accepts at most %d", len,
			     PRISON_HOSTNAME_MAX);
		return -1;
	}
	struct stat st;
	if (stat(c->rootfs, &st) != 0) {
		*r = failure(PRISON_INVALID_CONFIG, errno, "rootfs %s: %s", c->rootfs, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*r = failure(PRISON_INVALID_CONFIG, ENOTDIR, "rootfs %s is not a directory", c->rootfs);
		return -1;
	}
	if (c->namespaces & ~PRISON_NAMESPACES) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "namespaces 0x%x hold flags that are not CLONE_NEW* namespaces",
			     (unsigned)(c->namespaces & ~PRISON_NAMESPACES));
		return -1;
	}
	/* Without its own UTS namespace the child would rename the machine. */
	if (!(c->namespaces & CLONE_NEWUTS)) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "namespaces lack CLONE_NEWUTS: the hostname would be set on the machine itself");
		return -1;
	}
	int user = c->namespaces & CLONE_NEWUSER;
	if (!user && (c->uid_map || c->gid_map)) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL, "a uid or gid map needs CLONE_NEWUSER");
		return -1;
	}
	/* chroot() needs CAP_SYS_CHROOT in the user namespace that owns the
	 * caller's mount namespace: with a new user namespace, a new mount
	 * namespace too. */
	if (user && !(c->namespaces & CLONE_NEWNS)) {
		*r = failure(PRISON_INVALID_CONFIG, EINVAL,
			     "CLONE_NEWUSER needs CLONE_NEWNS: chroot() is allowed only in a mount "
			     "namespace the new user namespace owns");
		return -1;
	}
	return check_id_map(c->uid_map, "uid map", r) || check_id_map(c->gid_map, "gid map", r) ? -1 : 0;
}

/* ------------------------------------------------------------ the child */

/* Tells the parent which step failed (errno is the step's), then gives up. */
static int report_failure(const struct prisoner *p, const char *fmt, const char *value)
{
	struct setup_failure f = {.err = errno};
	snprintf(f.step, sizeof(f.step), fmt, value);
	/* A pipe write of less than PIPE_BUF bytes is whole or nothing. */
	if (write(p->report_fd, &f, sizeof(f)) != (ssize_t)sizeof(f))
		return 126;
	return 127;
}

/* Blocks until the parent has written the id maps: 1 byte, or EOF if it gave up. */
static int wait_for_release(int fd)
{
	char byte;
	ssize_t n;
	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == 1 ? 0 : -1;
}

static int prisoner_main(void *data)
{
	const struct prisoner *p = data;
	const struct prison_config *c = p->config;
	if (p->release_fd >= 0) {
		/* Our copy of the parent's end would keep the pipe open: no
		 * EOF, and a child that waits forever if the parent fails. */
		close(p->parent_fd);
		if (wait_for_release(p->release_fd) != 0)
			return 127; /* the parent failed and says why */
	}
	close(p->report_parent_fd);
	if (sethostname(c->hostname, strlen(c->hostname)) != 0)
		return report_failure(p, "sethostname(\"%s\")", c->hostname);
	/* chroot() alone leaves the working directory outside the new root. */
	if (chroot(c->rootfs) != 0)
		return report_failure(p, "chroot(\"%s\")", c->rootfs);
	if (chdir("/") != 0)
		return report_failure(p, "chdir(\"%s\") in the new root", "/");
	/* Set up: from now on, an exit code is the callback's. */
	close(p->report_fd);
	return p->callback(p->arg);
}

/* ----------------------------------------------------------- the parent */

/* /proc/PID/uid_map and its kin take their whole text in one write(). */
static int write_proc_file(pid_t pid, const char *name, const char *text, struct prison_result *r)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (n == (ssize_t)strlen(text))
		return 0;
	*r = failure(PRISON_SETUP_FAILED, err, "writing \"%.*s\" to %s: %s%s", (int)strcspn(text, "\n"),
		     text, path, strerror(err),
		     err == EPERM ? " (an ordinary user may map only its own id, with a count of 1)" : "");
	return -1;
}

static int write_id_map(pid_t pid, const char *name, const struct prison_idmap *map,
			unsigned int own_id, struct prison_result *r)
{
	struct prison_idmap own = {.inside = 0, .outside = own_id, .count = 1};
	if (!map)
		map = &own;
	char line[64];
	snprintf(line, sizeof(line), "%u %u %u\n", map->inside, map->outside, map->count);
	return write_proc_file(pid, name, line, r);
}

/* The child's uid and gid maps.  An unprivileged process may write a gid map
 * only once setgroups() is denied in the namespace: else it could drop a
 * supplementary group that denies it access to a file. */
static int write_id_maps(pid_t pid, const struct prison_config *c, struct prison_result *r)
{
	if (write_id_map(pid, "uid_map", c->uid_map, getuid(), r) != 0)
		return -1;
	if (write_proc_file(pid, "setgroups", "deny", r) != 0)
		return -1;
	return write_id_map(pid, "gid_map", c->gid_map, getgid(), r);
}

static int wait_child(pid_t pid, int *status)
{
	pid_t got;
	do
		got = waitpid(pid, status, 0);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -1 : 0;
}

/* After a failure of the parent's: the child has been told to give up. */
static void reap_quietly(pid_t pid)
{
	int status;
	wait_child(pid, &status);
}

/* Makes the pipes, clones, and with a user namespace writes the maps. */
static struct prison_result start_and_wait(const struct prison_config *c, int (*callback)(void *),
					   void *arg)
{
	int user = c->namespaces & CLONE_NEWUSER;
	int report[2], release[2] = {-1, -1};
	if (pipe2(report, O_CLOEXEC) != 0)
		return failure(PRISON_SETUP_FAILED, errno, "pipe2: %s", strerror(errno));
	if (user && pipe2(release, O_CLOEXEC) != 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		return failure(PRISON_SETUP_FAILED, err, "pipe2: %s", strerror(err));
	}
	struct prisoner p = {c, callback, arg, report[1], release[0], release[1], report[0]};
	char *stack = malloc(PRISON_STACK_SIZE);
	pid_t pid = -1;
	int err = ENOMEM;
	if (stack) {
		/* The stack grows down: clone() wants the top of the block.
		 * SIGCHLD makes the child an ordinary one for waitpid(). */
		pid = clone(prisoner_main, stack + PRISON_STACK_SIZE, c->namespaces | SIGCHLD, &p);
		err = errno;
		free(stack); /* the child has its own copy of it */
	}
	/* Only the child writes reports and reads releases: with our ends
	 * closed, a read on report gives EOF once the child has exited. */
	close(report[1]);
	if (user)
		close(release[0]);
	if (pid < 0) {
		close(report[0]);
		if (user)
			close(release[1]);
		return failure(PRISON_CLONE_FAILED, err, "clone: %s%s", strerror(err),
			       err == EPERM ? " (new namespaces need CAP_SYS_ADMIN; an ordinary user "
					      "needs a user namespace first: namespace_prison_unprivileged)"
					    : "");
	}
	struct prison_result r = {.status = PRISON_EXITED};
	if (user) {
		int mapped = write_id_maps(pid, c, &r) == 0;
		/* One byte releases the child; EOF alone tells it to give up. */
		if (mapped && write(release[1], "1", 1) != 1)
			mapped = 0, r = failure(PRISON_SETUP_FAILED, errno, "releasing the child: %s",
						strerror(errno));
		close(release[1]);
		if (!mapped) {
			reap_quietly(pid);
			close(report[0]);
			return r;
		}
	}
	int status;
	if (wait_child(pid, &status) != 0) {
		err = errno;
		close(report[0]);
		return failure(PRISON_WAIT_FAILED, err, "waitpid(%d): %s", pid, strerror(err));
	}
	struct setup_failure f;
	ssize_t n = read(report[0], &f, sizeof(f));
	close(report[0]);
	if (n == (ssize_t)sizeof(f))
		return failure(PRISON_SETUP_FAILED, f.err, "%s in the prison: %s", f.step, strerror(f.err));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		r = failure(PRISON_CHILD_CRASHED, 0, "the callback was killed by signal %d (%s)", sig,
			    strsignal(sig));
		r.signal = sig;
		return r;
	}
	r.code = WEXITSTATUS(status);
	return r;
}

struct prison_result namespace_prison(const struct prison_config *config, int (*callback)(void *),
				      void *arg)
{
	struct prison_result r;
	if (check_config(config, callback, &r) != 0)
		return r;
	return start_and_wait(config, callback, arg);
}

struct prison_result namespace_prison_unprivileged(const struct prison_config *config,
						   int (*callback)(void *), void *arg)
{
	if (!config)
		return namespace_prison(config, callback, arg);
	struct prison_config with_user = *config;
	with_user.namespaces |= CLONE_NEWUSER;
	return namespace_prison(&with_user, callback, arg);
}
