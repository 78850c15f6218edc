/*
 * cgctl.c - the provided driver of lab 07 (do not change it: the grader uses
 * its own copy).  It calls your cg_lab.c the way a container runtime would,
 * and reports what happened, so that the graded cases can compare it with
 * what the group's files show from outside.
 *
 *   cgctl detect PATH
 *       prints "cgroup2 yes" or "cgroup2 no" (cg_is_v2)
 *
 *   cgctl [--hold] run PARENT NAME [--mem BYTES] [--cpu QUOTA PERIOD]
 *                                  [--pids N] PAYLOAD [ARG]
 *       enables cpu, memory and pids in PARENT, creates PARENT/NAME, writes
 *       the limits (those not given are unlimited), starts PAYLOAD in the
 *       group and waits for it, reads the group's usage, then destroys the
 *       group.  It prints, one per line:
 *           cgroup PATH
 *           spawned PID
 *           exited CODE | signaled SIG
 *           usage memory_current=N cpu_usage_us=N nr_throttled=N oom_kills=N pids_current=N
 *           ready            (with --hold: then it waits for SIGUSR1)
 *           destroyed
 *       or "error: FUNCTION: REASON" and exits with 1; a group it created is
 *       destroyed on the way out.
 *
 * Payloads (they run in the group):
 *   park          prints "parked" and waits to be killed
 *   hog MB        touches MB mebibytes of memory, 1 MiB at a time, then
 *                 prints "survived"
 *   forks N       forks N children that wait to be killed, stops at the first
 *                 fork that fails, prints "forked K" and the error, exits 0
 *                 (the children stay)
 *   spinners N    forks N children that spin on the CPU forever, exits 0
 *   burn MS       spins on the CPU for MS milliseconds of wall time, exits 0
 *   exit N        exits with N
 */
#include "cg_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long number;

/* Children left behind by a payload must not hold the driver's stdout. */
static void quiet(void)
{
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

static int payload_park(void *arg)
{
	(void)arg;
	printf("parked\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int payload_hog(void *arg)
{
	(void)arg;
	for (long i = 0; i < number; i++) {
		char *chunk = malloc(1 << 20);
		if (!chunk) {
			printf("malloc failed after %ld MiB\n", i);
			return 1;
		}
		memset(chunk, 0x5a, 1 << 20); /* touched: really charged */
	}
	printf("survived\n");
	fflush(stdout);
	return 0;
}

static int payload_forks(void *arg)
{
	(void)arg;
	long made = 0;
	int err = 0;
	while (made < number) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			quiet();
			for (;;)
				pause();
		}
		made++;
	}
	printf("forked %ld\n", made);
	if (err)
		printf("fork failed: %s\n", strerror(err));
	fflush(stdout);
	return 0;
}

static void spin_forever(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}

static int payload_spinners(void *arg)
{
	(void)arg;
	for (long i = 0; i < number; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork failed: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			quiet();
			spin_forever();
		}
	}
	printf("spinning %ld\n", number);
	fflush(stdout);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int payload_burn(void *arg)
{
	(void)arg;
	double end = now() + (double)number / 1000.0;
	volatile unsigned long spins = 0;
	while (now() < end)
		spins++;
	return 0;
}

static int payload_exit(void *arg)
{
	(void)arg;
	return (int)number;
}

static int (*pick(const char *name))(void *)
{
	static const struct {
		const char *name;
		int (*fn)(void *);
	} payloads[] = {
		{"park", payload_park},		{"hog", payload_hog},	{"forks", payload_forks},
		{"spinners", payload_spinners}, {"burn", payload_burn}, {"exit", payload_exit},
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
		if (strcmp(name, payloads[i].name) == 0)
			return payloads[i].fn;
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: cgctl detect PATH\n"
			"       cgctl [--hold] run PARENT NAME [--mem BYTES] [--cpu QUOTA PERIOD] [--pids N]"
			" park | hog MB | forks N | spinners N | burn MS | exit N\n");
	return 2;
}

static int fail(const char *function)
{
	printf("error: %s: %s\n", function, strerror(errno));
	return 1;
}

static int detect(const char *path)
{
	int v2 = cg_is_v2(path);
	if (v2 < 0)
		return fail("cg_is_v2");
	printf("cgroup2 %s\n", v2 ? "yes" : "no");
	return 0;
}

/* Waits for SIGUSR1, sent by whoever inspects the group meanwhile. */
static void hold(void)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&usr1, &sig);
}

static int wait_payload(pid_t pid)
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

/* What run does once the group exists; the group is destroyed after it. */
static int in_group(const char *path, const struct cg_limits *lim, int (*fn)(void *), int holding)
{
	if (cg_set_limits(path, lim) != 0)
		return fail("cg_set_limits");
	pid_t pid = cg_spawn(path, fn, NULL);
	if (pid < 0)
		return fail("cg_spawn");
	printf("spawned %d\n", (int)pid);
	if (wait_payload(pid) != 0)
		return 1;
	struct cg_usage u;
	if (cg_read_usage(path, &u) != 0)
		return fail("cg_read_usage");
	printf("usage memory_current=%lld cpu_usage_us=%lld nr_throttled=%lld oom_kills=%lld pids_current=%lld\n",
	       u.memory_current, u.cpu_usage_us, u.nr_throttled, u.oom_kills, u.pids_current);
	if (holding)
		hold();
	return 0;
}

static int run(int argc, char **argv, int holding)
{
	if (argc < 3)
		return usage();
	const char *parent = argv[0], *name = argv[1];
	struct cg_limits lim = {CG_UNLIMITED, CG_UNLIMITED, 100000, CG_UNLIMITED};
	int i = 2;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc)
			lim.memory_max = strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--cpu") == 0 && i + 2 < argc) {
			lim.cpu_quota_us = strtoll(argv[++i], NULL, 10);
			lim.cpu_period_us = strtoll(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--pids") == 0 && i + 1 < argc)
			lim.pids_max = strtoll(argv[++i], NULL, 10);
		else
			return usage();
	}
	int (*fn)(void *) = i < argc ? pick(argv[i]) : NULL;
	if (!fn)
		return usage();
	number = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 0;

	int v2 = cg_is_v2(parent);
	if (v2 < 0)
		return fail("cg_is_v2");
	if (!v2) {
		printf("error: %s is not on a cgroup v2 filesystem\n", parent);
		return 1;
	}
	if (cg_enable_controllers(parent, "cpu memory pids") != 0)
		return fail("cg_enable_controllers");
	char path[CG_PATH_MAX];
	if (cg_create(parent, name, path, sizeof(path)) != 0)
		return fail("cg_create");
	printf("cgroup %s\n", path);
	int status = in_group(path, &lim, fn, holding);
	if (cg_destroy(path) != 0)
		return status ? status : fail("cg_destroy");
	printf("destroyed\n");
	return status;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int holding = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += holding;
	argc -= holding;
	if (argc == 3 && strcmp(argv[1], "detect") == 0)
		return detect(argv[2]);
	if (argc > 1 && strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2, holding);
	return usage();
}
