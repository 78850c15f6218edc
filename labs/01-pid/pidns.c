/*
 * pidns.c - the provided driver of lab 01 (do not change it: the grader uses
 * its own copy).  It calls your pid_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside.
 *
 *   pidns [--hold] exit N       the child returns N
 *   pidns [--hold] slow N       the child sleeps 0.3 s, then returns N
 *   pidns [--hold] crash KIND   the child faults: KIND segv (a write through a
 *                               NULL pointer) or fpe (an integer division by 0)
 *   pidns [--hold] whoami       the child prints its PID and parent PID
 *   pidns [--hold] park         the child prints "parked" and waits to be killed
 *   pidns [--hold] deep KB      the child uses KB kilobytes of stack, returns 0
 *   pidns [--hold] orphans N    the child is an init (pidns_init) whose payload
 *                               leaves N orphans behind, then sleeps 3 s
 *   pidns [--hold] family N     the child is an init whose payload starts N
 *                               children, and all of them wait to be killed
 *   pidns [--hold] init-exit N  the child is an init whose payload returns N
 *   pidns [--hold] init-crash   the child is an init whose payload faults
 *
 * It prints "spawned PID" (what pidns_spawn returned), then "exited CODE" or
 * "signaled SIG" and the whole struct child_status (what pidns_wait
 * reported).  Three more modes call one function alone:
 *
 *   pidns stranger              pidns_wait on a process that is not a child
 *   pidns init-alone N          pidns_init here, in the caller's namespace,
 *                               with a payload that sleeps 0.3 s and returns N
 *   pidns many N                N children spawned and waited for, in turn
 *
 * Options, before the mode: --hold prints "ready" at the end and waits, so
 * that a case can inspect the process (zombies, children, memory);
 * --interrupt makes a SIGALRM arrive every 20 ms, without SA_RESTART, so
 * that every blocking call may fail with EINTR.
 *
 * An error is printed as "error: FUNCTION returned RC, errno NAME (text)".
 */
#include "pid_lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static long number;

static int child_exit(void *arg)
{
	(void)arg;
	return (int)number;
}

static int child_slow(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	return (int)number;
}

/*
 * A real fault, not raise(): PID 1 of a namespace ignores every signal it has
 * no handler for, even one it sends itself, but the kernel forces the signal
 * of a fault on it.
 */
static int child_crash(void *arg)
{
	static volatile int zero;
	(void)arg;
	if (number == 0) {
		volatile int *nowhere = (int *)(long)zero;
		*nowhere = 1;
	}
	return 100 / zero;
}

static int child_whoami(void *arg)
{
	(void)arg;
	printf("inside pid %d ppid %d\n", getpid(), getppid());
	fflush(stdout);
	return 0;
}

static int child_park(void *arg)
{
	(void)arg;
	printf("parked\n");
	fflush(stdout);
	for (;;)
		pause(); /* until a signal kills it */
	return 0;
}

/* Uses about kb kilobytes of stack, a few at a time, as real code does. */
static int recurse(long kb)
{
	volatile char frame[1024];
	memset((char *)frame, (int)kb, sizeof(frame));
	return kb <= 1 ? frame[0] - frame[0] : recurse(kb - 1) + frame[1] - frame[1];
}

static int child_deep(void *arg)
{
	(void)arg;
	return recurse(number);
}

/* Double fork: the grandchild's parent exits at once, so PID 1 adopts it. */
static int make_orphan(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (fork() == 0) {
			usleep(100 * 1000);
			_exit(0);
		}
		_exit(0);
	}
	return 0;
}

static int payload_orphans(void *arg)
{
	(void)arg;
	for (long i = 0; i < number; i++)
		if (make_orphan() != 0)
			return 1;
	sleep(3);
	return 0;
}

static int payload_family(void *arg)
{
	(void)arg;
	for (long i = 0; i < number; i++)
		if (fork() == 0)
			break;
	for (;;)
		pause(); /* every one of them, until killed */
	return 0;
}

static int payload_exit(void *arg)
{
	return child_exit(arg);
}

static int payload_slow(void *arg)
{
	return child_slow(arg);
}

static int payload_crash(void *arg)
{
	number = 0;
	return child_crash(arg);
}

static int child_init_exit(void *arg)
{
	return pidns_init(payload_exit, arg);
}

static int child_init_crash(void *arg)
{
	return pidns_init(payload_crash, arg);
}

static int child_orphans(void *arg)
{
	return pidns_init(payload_orphans, arg);
}

static int child_family(void *arg)
{
	return pidns_init(payload_family, arg);
}

static int (*pick(const char *mode))(void *)
{
	static const struct {
		const char *name;
		int (*fn)(void *);
	} modes[] = {
		{"exit", child_exit},	  {"slow", child_slow},		{"crash", child_crash},
		{"whoami", child_whoami},
		{"park", child_park},	  {"deep", child_deep},		{"orphans", child_orphans},
		{"family", child_family}, {"init-exit", child_init_exit}, {"init-crash", child_init_crash},
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i].name) == 0)
			return modes[i].fn;
	return NULL;
}

static int fail(const char *function, int rc)
{
	int err = errno;
	printf("error: %s returned %d, errno %s (%s)\n", function, rc, strerrorname_np(err), strerror(err));
	return 1;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A SIGALRM every 20 ms, whose handler does not restart system calls. */
static void interrupt_often(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &every, NULL);
}

static int report_wait(pid_t pid)
{
	struct child_status st;
	memset(&st, 0x5a, sizeof(st));
	int rc = pidns_wait(pid, &st);
	if (rc != 0)
		return fail("pidns_wait", rc);
	if (st.exited)
		printf("exited %d\n", st.code);
	else if (st.signaled)
		printf("signaled %d\n", st.signal);
	printf("status exited=%d code=%d signaled=%d signal=%d\n", st.exited, st.code, st.signaled,
	       st.signal);
	return 0;
}

static int spawn_and_wait(int (*fn)(void *))
{
	pid_t pid = pidns_spawn(fn, NULL);
	if (pid < 0)
		return fail("pidns_spawn", pid);
	printf("spawned %d\n", pid);
	return report_wait(pid);
}

static int many(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = pidns_spawn(child_exit, NULL);
		struct child_status st;
		if (pid < 0)
			return fail("pidns_spawn", pid);
		int rc = pidns_wait(pid, &st);
		if (rc != 0)
			return fail("pidns_wait", rc);
	}
	printf("spawned %ld children\n", n);
	return 0;
}

static int init_alone(void)
{
	int rc = pidns_init(payload_slow, NULL);
	if (rc < 0)
		return fail("pidns_init", rc);
	printf("init returned %d\n", rc);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int hold = 0;
	while (argc > 1 && strncmp(argv[1], "--", 2) == 0) {
		if (strcmp(argv[1], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[1], "--interrupt") == 0)
			interrupt_often();
		argv++, argc--;
	}
	const char *mode = argc >= 2 ? argv[1] : "";
	number = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	int status;
	if (strcmp(mode, "stranger") == 0) {
		status = report_wait(getppid());
	} else if (strcmp(mode, "init-alone") == 0) {
		status = init_alone();
	} else if (strcmp(mode, "many") == 0) {
		status = many(number);
	} else if (pick(mode)) {
		if (strcmp(mode, "crash") == 0)
			number = argc > 2 && strcmp(argv[2], "fpe") == 0;
		status = spawn_and_wait(pick(mode));
	} else {
		fprintf(stderr, "usage: pidns [--hold] [--interrupt] MODE [N], MODE one of exit slow crash"
				" whoami park deep orphans family init-exit init-crash stranger"
				" init-alone many\n");
		return 2;
	}
	if (hold) {
		printf("ready\n");
		for (;;)
			pause();
	}
	return status;
}
