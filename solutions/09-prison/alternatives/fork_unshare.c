/*
 * prison.c - accepted alternative: fork(2) and unshare(2) instead of clone.
 *
 * The parent forks a keeper; the keeper unshares the namespaces, which moves
 * it into the new UTS, mount, IPC (and user) namespaces at once, but not
 * into the new PID namespace: unshare(CLONE_NEWPID) only chooses where the
 * keeper's next child goes.  So the keeper forks again: that child is PID 1
 * of the new namespace, sets itself up and runs the callback, and the keeper
 * passes on how it ended - its exit code, or the same signal.
 *
 * With a user namespace the keeper writes its own id maps right after
 * unshare(): a process may map its own uid and gid (after denying
 * setgroups), so no pipe is needed to wait for the parent.  No stack to
 * allocate either: fork gives each child a copy of the caller's.
 */
#include "prison.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a failed step sends back on the report pipe. */
struct step_error {
	int err;
	char what[160];
};

static struct prison_result error_result(enum prison_status status, int err, const char *fmt, ...)
{
	struct prison_result r = {.status = status, .err = err};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	return r;
}

static int refuse(struct prison_result *r, int err, const char *message)
{
	*r = error_result(PRISON_INVALID_CONFIG, err, "%s", message);
	return -1;
}

static int validate(const struct prison_config *c, int (*callback)(void *), struct prison_result *r)
{
	if (!c || !callback || !c->hostname || !c->rootfs)
		return refuse(r, EINVAL, "config, hostname, rootfs and callback are all required");
	size_t len = strlen(c->hostname);
	if (len == 0)
		return refuse(r, EINVAL, "empty hostname: it needs 1 to 64 characters");
	if (len > PRISON_HOSTNAME_MAX) {
		*r = error_result(PRISON_INVALID_CONFIG, EINVAL,
				  "hostname too long: %zu characters, the limit is %d", len, PRISON_HOSTNAME_MAX);
		return -1;
	}
	struct stat st;
	int err = stat(c->rootfs, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (err) {
		*r = error_result(PRISON_INVALID_CONFIG, err, "rootfs %s is not a usable directory: %s",
				  c->rootfs, strerror(err));
		return -1;
	}
	if (c->namespaces & ~PRISON_NAMESPACES)
		return refuse(r, EINVAL, "namespaces: only CLONE_NEW* flags are accepted");
	if (!(c->namespaces & CLONE_NEWUTS))
		return refuse(r, EINVAL, "CLONE_NEWUTS is required, else the machine's own hostname changes");
	if (!(c->namespaces & CLONE_NEWUSER) && (c->uid_map || c->gid_map))
		return refuse(r, EINVAL, "id maps are only for a user namespace (CLONE_NEWUSER)");
	if ((c->namespaces & CLONE_NEWUSER) && !(c->namespaces & CLONE_NEWNS))
		return refuse(r, EINVAL, "with CLONE_NEWUSER, add CLONE_NEWNS: chroot needs its own mount namespace");
	if ((c->uid_map && !c->uid_map->count) || (c->gid_map && !c->gid_map->count))
		return refuse(r, EINVAL, "an id map must map at least one id (count 0)");
	return 0;
}

/* Sends the failed step and errno to the parent, and ends the process. */
static void die_step(int fd, const char *what)
{
	struct step_error e = {.err = errno};
	snprintf(e.what, sizeof(e.what), "%s", what);
	if (write(fd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static void write_file_or_die(int fd, const char *path, const char *text)
{
	int f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0 || write(f, text, strlen(text)) != (ssize_t)strlen(text)) {
		int err = errno;
		char what[160];
		snprintf(what, sizeof(what), "writing \"%.*s\" to %s%s", (int)strcspn(text, "\n"), text, path,
			 err == EPERM ? " (an ordinary user may map only its own id, with a count of 1)" : "");
		errno = err;
		die_step(fd, what);
	}
	close(f);
}

/* The keeper maps the ids it had outside to the ones given (default 0). */
static void map_self(int fd, const struct prison_config *c, uid_t uid, gid_t gid)
{
	char line[64];
	snprintf(line, sizeof(line), "%u %u %u\n", c->uid_map ? c->uid_map->inside : 0,
		 c->uid_map ? c->uid_map->outside : uid, c->uid_map ? c->uid_map->count : 1);
	write_file_or_die(fd, "/proc/self/uid_map", line);
	write_file_or_die(fd, "/proc/self/setgroups", "deny");
	snprintf(line, sizeof(line), "%u %u %u\n", c->gid_map ? c->gid_map->inside : 0,
		 c->gid_map ? c->gid_map->outside : gid, c->gid_map ? c->gid_map->count : 1);
	write_file_or_die(fd, "/proc/self/gid_map", line);
}

static void prisoner(int fd, const struct prison_config *c, int (*callback)(void *), void *arg)
{
	if (sethostname(c->hostname, strlen(c->hostname)) != 0)
		die_step(fd, "sethostname");
	if (chroot(c->rootfs) != 0) {
		int err = errno;
		char what[160];
		snprintf(what, sizeof(what), "chroot to %s", c->rootfs);
		errno = err;
		die_step(fd, what);
	}
	if (chdir("/") != 0)
		die_step(fd, "chdir to the new /");
	close(fd);
	_exit(callback(arg));
}

static int wait_for(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Runs in the forked keeper; never returns. */
static void keeper(int fd, const struct prison_config *c, int (*callback)(void *), void *arg)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(c->namespaces) != 0)
		die_step(fd, "unshare");
	if (c->namespaces & CLONE_NEWUSER)
		map_self(fd, c, uid, gid);
	pid_t pid = fork();
	if (pid < 0)
		die_step(fd, "fork of PID 1");
	if (pid == 0)
		prisoner(fd, c, callback, arg);
	close(fd);
	int status;
	if (wait_for(pid, &status) != 0)
		_exit(127);
	if (WIFSIGNALED(status)) {
		/* Die the same way, so that the parent sees the signal. */
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

struct prison_result namespace_prison(const struct prison_config *config, int (*callback)(void *),
				      void *arg)
{
	struct prison_result r;
	if (validate(config, callback, &r) != 0)
		return r;
	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0)
		return error_result(PRISON_SETUP_FAILED, errno, "pipe2: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		return error_result(PRISON_CLONE_FAILED, err, "fork: %s", strerror(err));
	}
	if (pid == 0) {
		close(report[0]);
		keeper(report[1], config, callback, arg);
	}
	close(report[1]);
	int status;
	if (wait_for(pid, &status) != 0) {
		int err = errno;
		close(report[0]);
		return error_result(PRISON_WAIT_FAILED, err, "waitpid: %s", strerror(err));
	}
	struct step_error e;
	ssize_t n = read(report[0], &e, sizeof(e));
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		/* unshare failing is this approach's clone failing. */
		enum prison_status kind = strcmp(e.what, "unshare") == 0 ? PRISON_CLONE_FAILED
									 : PRISON_SETUP_FAILED;
		return error_result(kind, e.err, "%s failed: %s%s", e.what, strerror(e.err),
				    kind == PRISON_CLONE_FAILED && e.err == EPERM
					    ? " (new namespaces need CAP_SYS_ADMIN: use namespace_prison_unprivileged)"
					    : "");
	}
	if (WIFSIGNALED(status)) {
		r = error_result(PRISON_CHILD_CRASHED, 0, "the prisoner died of signal %d (%s)",
				 WTERMSIG(status), strsignal(WTERMSIG(status)));
		r.signal = WTERMSIG(status);
		return r;
	}
	r = (struct prison_result){.status = PRISON_EXITED, .code = WEXITSTATUS(status)};
	return r;
}

struct prison_result namespace_prison_unprivileged(const struct prison_config *config,
						   int (*callback)(void *), void *arg)
{
	struct prison_config c;
	if (config) {
		c = *config;
		c.namespaces |= CLONE_NEWUSER;
	}
	return namespace_prison(config ? &c : NULL, callback, arg);
}
