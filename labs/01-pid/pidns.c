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
 *
 * It prints "spawned PID" (what pidns_spawn returned), then "exited CODE" or
 * "signaled SIG" (what pidns_wait reported).  With --hold it then prints
 * "ready" and waits, so that a case can inspect it (zombies, children).
 */
#include "pid_lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		{"family", child_family},
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i].name) == 0)
			return modes[i].fn;
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += hold;
	argc -= hold;
	int (*fn)(void *) = argc >= 2 ? pick(argv[1]) : NULL;
	if (!fn) {
		fprintf(stderr, "usage: pidns [--hold] exit N | slow N | crash segv|fpe | whoami | park | deep KB"
				" | orphans N | family N\n");
		return 2;
	}
	number = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	if (fn == child_crash)
		number = argc > 2 && strcmp(argv[2], "fpe") == 0;
	pid_t pid = pidns_spawn(fn, NULL);
	if (pid < 0) {
		printf("error: pidns_spawn: %s\n", strerror(errno));
		return 1;
	}
	printf("spawned %d\n", pid);
	struct child_status st;
	if (pidns_wait(pid, &st) != 0) {
		printf("error: pidns_wait: %s\n", strerror(errno));
		return 1;
	}
	if (st.exited)
		printf("exited %d\n", st.code);
	else if (st.signaled)
		printf("signaled %d\n", st.signal);
	else
		printf("neither exited nor signaled\n");
	if (hold) {
		printf("ready\n");
		pause();
	}
	return 0;
}
