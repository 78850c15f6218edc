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
 *   userns remap            after userns_spawn, writes uid_map a second time
 *                           and says how that went; the child waits
 *   userns container NAME   user, PID, UTS and mount namespaces together; the
 *                           child sets the host name NAME, prints what it is
 *                           and waits to be killed
 *   userns exit N           the child returns N
 *
 * The child that runs the lab's function renames itself "userns-fn" first
 * (the COMMAND column of ps), so that a case can tell whether it has run.
 * The driver prints "spawned PID" (what userns_spawn returned) or "cloned
 * PID", then "exited CODE" or "signaled SIG" once the child has ended.  A
 * failure prints "error: FUNCTION: MESSAGE", then "hint: ..." if userns_hint
 * has one, and the driver exits with 1.
 */
#include "userns_lab.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *function)
{
	int err = errno;
	printf("error: %s: %s\n", function, strerror(err));
	const char *hint = userns_hint(err);
	if (hint)
		printf("hint: %s\n", hint);
	return 1;
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
	if (userns_set_hostname(arg) != 0) {
		printf("error: userns_set_hostname: %s\n", strerror(errno));
		return 1;
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

static int wait_and_report(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid");
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

static int run_spawn(int flags, int (*fn)(void *), void *arg)
{
	pid_t pid = userns_spawn(flags, fn, arg);
	if (pid < 0)
		return fail("userns_spawn");
	printf("spawned %d\n", (int)pid);
	return wait_and_report(pid);
}

static int run_stepwise(void)
{
	struct userns_child child;
	if (userns_clone(&child, 0, child_ids, NULL) != 0)
		return fail("userns_clone");
	printf("cloned %d\n", (int)child.pid);
	wait_for_go();
	if (userns_map_root(child.pid, getuid(), getgid()) != 0)
		return fail("userns_map_root");
	printf("mapped\n");
	wait_for_go();
	if (userns_release(&child) != 0)
		return fail("userns_release");
	printf("released\n");
	return wait_and_report(child.pid);
}

static int run_remap(void)
{
	pid_t pid = userns_spawn(0, child_ids, NULL);
	if (pid < 0)
		return fail("userns_spawn");
	printf("spawned %d\n", (int)pid);
	if (userns_write_map(pid, "uid_map", 0, getuid(), 1) == 0)
		printf("second uid_map: ok\n");
	else
		printf("second uid_map: error: %s\n", strerror(errno));
	return wait_and_report(pid);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	const char *mode = argc >= 2 ? argv[1] : "";
	if (strcmp(mode, "ids") == 0)
		return run_spawn(0, child_ids, NULL);
	if (strcmp(mode, "stepwise") == 0)
		return run_stepwise();
	if (strcmp(mode, "remap") == 0)
		return run_remap();
	if (strcmp(mode, "container") == 0 && argc == 3)
		return run_spawn(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS, child_container, argv[2]);
	if (strcmp(mode, "exit") == 0 && argc == 3) {
		number = strtol(argv[2], NULL, 10);
		return run_spawn(0, child_exit, NULL);
	}
	fprintf(stderr, "usage: userns ids | stepwise | remap | container NAME | exit N\n");
	return 2;
}
