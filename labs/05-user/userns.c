/*
 * userns.c - the provided driver of lab 05 (do not change it: the grader uses
 * its own copy).  It calls your userns_lab.c and reports what happened, so
 * that the graded cases can compare it with what the kernel shows from
 * outside (/proc/PID/uid_map, /proc/PID/status, the namespaces' inodes).
 *
 *   userns ids              the child (uid 0 inside) prints its ids and waits
 *                           to be killed
 *   userns stepwise         userns_clone, then waits for SIGUSR1; writes the
 *                           maps, waits for SIGUSR1 again; then releases the
 *                           child, which prints its ids and waits to be killed
 *   userns abandon UID GID  userns_clone, then waits for SIGUSR1; then
 *                           userns_map_root with UID and GID: if that fails,
 *                           the driver closes the pipe's write end itself
 *                           and waits for the child, which must exit with
 *                           USERNS_ABANDONED without running the function
 *   userns remap            after userns_spawn, tries what the kernel refuses
 *                           once the maps exist: uid_map a second time
 *                           ("second uid_map: ..."), setgroups ("late
 *                           setgroups: ..."), the whole userns_map_root
 *                           ("late map_root: ..."), and userns_write_map on a
 *                           file that is no map ("write_map setgroups: ...");
 *                           the child waits
 *   userns release-dead     userns_clone, kill the child (SIGKILL) and reap
 *                           it, then userns_release: "release: ..." and what
 *                           release_fd became
 *   userns container NAME   user, PID, UTS and mount namespaces together; the
 *                           child sets the host name NAME, prints what it is
 *                           and waits to be killed
 *   userns hostname NAME    userns_set_hostname(NAME) right here, in the
 *                           driver's own namespaces (as an ordinary user, the
 *                           kernel refuses it): "hostname: ..."
 *   userns hint ERRNO-NAME  prints "hint: ..." (what userns_hint says of that
 *                           errno), or "no hint"
 *   userns exit N           the child returns N
 *   userns many N           N times in turn: userns_spawn a child that returns
 *                           0 at once, and wait for it; then "spawned N
 *                           children", and the driver waits to be killed
 *
 * The child that runs the lab's function renames itself "userns-fn" first
 * (the COMMAND column of ps), so that a case can tell whether it has run.
 * The driver prints "spawned PID" (what userns_spawn returned) or "cloned
 * PID", then "exited CODE" or "signaled SIG" once the child has ended.  A
 * failure prints "error: FUNCTION returned RC, errno NAME (text)", then
 * "hint: ..." if userns_hint has one, and the driver exits with 1 - or, in
 * the modes that then wait for the child, goes on.  Before each call of
 * yours, errno is set to EDOM, as an earlier failure may have left it.  The
 * driver ignores SIGPIPE.
 *
 * Options, before the mode:
 *   --hold          after a failure of userns_spawn or userns_clone, print
 *                   "ready" and wait to be killed (so that a case can look at
 *                   what the driver holds)
 *   --interrupt     SIGALRM gets a handler installed without SA_RESTART,
 *                   which the child inherits: a SIGALRM sent to the waiting
 *                   child makes its read() fail with EINTR
 *   --no-fds        before userns_spawn or userns_clone, the limit on open
 *                   files is lowered so that no new file descriptor can be
 *                   opened (EMFILE)
 *   --short-memory  before userns_spawn or userns_clone, the address space
 *                   is limited to what the driver uses plus 256 KiB: a 1 MiB
 *                   allocation fails
 *   --close-stdin   fd 0 is closed first
 *   --deny-write-opens  a seccomp filter makes every open() for writing
 *                   (O_WRONLY or O_RDWR) fail with EACCES: the map files
 *                   cannot be opened
 */
#include "userns_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "userns: add this architecture's AUDIT_ARCH_ value"
#endif

static int hold, no_fds, short_memory;

/* A static buffer: no allocation is needed to print, even under --short-memory. */
static char out_buffer[8192];

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "?";
}

static void hold_if_asked(void)
{
	if (!hold)
		return;
	printf("ready\n");
	for (;;)
		pause(); /* until a signal kills it */
}

/* "error: FUNCTION returned RC, errno NAME (text)", and the hint if any. */
static int fail(const char *function, long rc)
{
	int err = errno;
	printf("error: %s returned %ld, errno %s (%s)\n", function, rc, errno_name(err), strerror(err));
	const char *hint = userns_hint(err);
	if (hint)
		printf("hint: %s\n", hint);
	return 1;
}

/* "WHAT: ok" or "WHAT: returned RC, errno NAME". */
static void said(const char *what, int rc)
{
	int err = errno;
	if (rc == 0)
		printf("%s: ok\n", what);
	else
		printf("%s: returned %d, errno %s\n", what, rc, errno_name(err));
}

/* The first thing the lab's function does: a name visible from outside. */
static void mark_running(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "userns-fn", 0, 0, 0);
}

static void park(void)
{
	printf("parked\n");
	fflush(stdout);
	for (;;)
		pause(); /* until a signal kills it */
}

static int child_ids(void *arg)
{
	(void)arg;
	mark_running();
	printf("inside uid %d gid %d\n", (int)getuid(), (int)getgid());
	park();
	return 0;
}

static int child_container(void *arg)
{
	mark_running();
	errno = EDOM;
	int rc = userns_set_hostname(arg);
	if (rc != 0) {
		printf("inside error: userns_set_hostname returned %d, errno %s\n", rc, errno_name(errno));
		park();
	}
	char name[128] = "";
	gethostname(name, sizeof(name) - 1);
	printf("inside pid %d uid %d hostname %s\n", (int)getpid(), (int)getuid(), name);
	park();
	return 0;
}

static long number;

static int child_exit(void *arg)
{
	(void)arg;
	mark_running();
	printf("inside uid %d gid %d\n", (int)getuid(), (int)getgid());
	return (int)number;
}

static int child_quick(void *arg)
{
	(void)arg;
	return 0;
}

static int wait_and_report(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid", -1);
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

/* Blocks until the case sends SIGUSR1 (blocked since main's start). */
static void wait_for_go(void)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	while (sigwaitinfo(&usr1, NULL) < 0)
		;
}

/* The lowest file descriptor not open. */
static int lowest_free_fd(void)
{
	int fd = 0;
	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
}

/* What the process maps now, in bytes (VmSize). */
static long mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/* Right before userns_spawn or userns_clone: the limits the options ask for. */
static void inject_before_call(void)
{
	if (short_memory) {
		struct rlimit as = {mapped_bytes() + 256 * 1024, RLIM_INFINITY};
		if (setrlimit(RLIMIT_AS, &as) != 0)
			perror("userns: setrlimit(RLIMIT_AS)");
	}
	if (no_fds) {
		struct rlimit files;
		getrlimit(RLIMIT_NOFILE, &files);
		files.rlim_cur = (rlim_t)lowest_free_fd();
		if (setrlimit(RLIMIT_NOFILE, &files) != 0)
			perror("userns: setrlimit(RLIMIT_NOFILE)");
	}
	errno = EDOM;
}

static int run_spawn(int flags, int (*fn)(void *), void *arg)
{
	inject_before_call();
	pid_t pid = userns_spawn(flags, fn, arg);
	if (pid <= 0) {
		fail("userns_spawn", pid);
		hold_if_asked();
		return 1;
	}
	printf("spawned %d\n", (int)pid);
	return wait_and_report(pid);
}

static int clone_held(struct userns_child *child, int (*fn)(void *))
{
	memset(child, 0x5a, sizeof(*child));
	inject_before_call();
	int rc = userns_clone(child, 0, fn, NULL);
	if (rc != 0) {
		fail("userns_clone", rc);
		hold_if_asked();
		return 1;
	}
	printf("cloned %d\n", (int)child->pid);
	return 0;
}

static int run_stepwise(void)
{
	struct userns_child child;
	if (clone_held(&child, child_ids) != 0)
		return 1;
	wait_for_go();
	errno = EDOM;
	int rc = userns_map_root(child.pid, getuid(), getgid());
	if (rc != 0)
		return fail("userns_map_root", rc);
	printf("mapped\n");
	wait_for_go();
	errno = EDOM;
	rc = userns_release(&child);
	if (rc != 0)
		return fail("userns_release", rc);
	printf("released, release_fd %d\n", child.release_fd);
	return wait_and_report(child.pid);
}

static int run_abandon(uid_t uid, gid_t gid)
{
	struct userns_child child;
	if (clone_held(&child, child_ids) != 0)
		return 1;
	wait_for_go();
	errno = EDOM;
	int rc = userns_map_root(child.pid, uid, gid);
	if (rc == 0) {
		printf("mapped\n");
		rc = userns_release(&child);
		return rc == 0 ? wait_and_report(child.pid) : fail("userns_release", rc);
	}
	fail("userns_map_root", rc);
	close(child.release_fd); /* unwritten: the child must give up */
	return wait_and_report(child.pid);
}

static int run_remap(void)
{
	inject_before_call();
	pid_t pid = userns_spawn(0, child_ids, NULL);
	if (pid <= 0)
		return fail("userns_spawn", pid);
	printf("spawned %d\n", (int)pid);
	errno = EDOM;
	said("second uid_map", userns_write_map(pid, "uid_map", 0, getuid(), 1));
	errno = EDOM;
	said("late setgroups", userns_deny_setgroups(pid));
	errno = EDOM;
	said("late map_root", userns_map_root(pid, getuid(), getgid()));
	errno = EDOM;
	said("write_map setgroups", userns_write_map(pid, "setgroups", 0, getuid(), 1));
	return wait_and_report(pid);
}

static int run_release_dead(void)
{
	struct userns_child child;
	if (clone_held(&child, child_ids) != 0)
		return 1;
	kill(child.pid, SIGKILL);
	while (waitpid(child.pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = EDOM;
	said("release", userns_release(&child));
	printf("release_fd %d\n", child.release_fd);
	hold = 1;
	hold_if_asked();
	return 0;
}

static int run_hostname(const char *name)
{
	errno = EDOM;
	said("hostname", userns_set_hostname(name));
	return 0;
}

static int run_hint(const char *name)
{
	int err = 0;
	for (int e = 1; e < 200 && !err; e++)
		if (strerrorname_np(e) && strcmp(strerrorname_np(e), name) == 0)
			err = e;
	const char *hint = userns_hint(err);
	if (hint)
		printf("hint: %s\n", hint);
	else
		printf("no hint\n");
	return 0;
}

static int run_many(long n)
{
	for (long i = 0; i < n; i++) {
		errno = EDOM;
		pid_t pid = userns_spawn(0, child_quick, NULL);
		if (pid <= 0)
			return fail("userns_spawn", pid);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	printf("spawned %ld children\n", n);
	hold = 1;
	hold_if_asked();
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A seccomp filter: every openat() for writing fails with EACCES. */
static int deny_write_opens(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* the low half of the flags, argument 2 (little-endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int usage(void)
{
	fprintf(stderr, "usage: userns [OPTIONS] ids | stepwise | abandon UID GID | remap | release-dead\n"
			"                        | container NAME | hostname NAME | hint ERRNO-NAME | exit N | many N\n"
			"options: --hold --interrupt --no-fds --short-memory --close-stdin --deny-write-opens\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, out_buffer, _IOLBF, sizeof(out_buffer));
	signal(SIGPIPE, SIG_IGN);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--hold") == 0) {
			hold = 1;
		} else if (strcmp(argv[1], "--interrupt") == 0) {
			struct sigaction sa;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_alarm;
			sigaction(SIGALRM, &sa, NULL);
		} else if (strcmp(argv[1], "--no-fds") == 0) {
			no_fds = 1;
		} else if (strcmp(argv[1], "--short-memory") == 0) {
			short_memory = 1;
		} else if (strcmp(argv[1], "--close-stdin") == 0) {
			close(0);
		} else if (strcmp(argv[1], "--deny-write-opens") == 0) {
			if (deny_write_opens() != 0) {
				perror("userns: installing the seccomp filter");
				return 2;
			}
		} else {
			return usage();
		}
	}
	const char *mode = argc >= 2 ? argv[1] : "";
	if (strcmp(mode, "ids") == 0)
		return run_spawn(0, child_ids, NULL);
	if (strcmp(mode, "stepwise") == 0)
		return run_stepwise();
	if (strcmp(mode, "abandon") == 0 && argc == 4)
		return run_abandon((uid_t)strtol(argv[2], NULL, 10), (gid_t)strtol(argv[3], NULL, 10));
	if (strcmp(mode, "remap") == 0)
		return run_remap();
	if (strcmp(mode, "release-dead") == 0)
		return run_release_dead();
	if (strcmp(mode, "container") == 0 && argc == 3)
		return run_spawn(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS, child_container, argv[2]);
	if (strcmp(mode, "hostname") == 0 && argc == 3)
		return run_hostname(argv[2]);
	if (strcmp(mode, "hint") == 0 && argc == 3)
		return run_hint(argv[2]);
	if (strcmp(mode, "exit") == 0 && argc == 3) {
		number = strtol(argv[2], NULL, 10);
		return run_spawn(0, child_exit, NULL);
	}
	if (strcmp(mode, "many") == 0 && argc == 3)
		return run_many(strtol(argv[2], NULL, 10));
	return usage();
}
