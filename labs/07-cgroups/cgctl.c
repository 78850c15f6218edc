/*
 * cgctl.c - the provided driver of lab 07 (do not change it: the grader uses
 * its own copy).  It calls your cg_lab.c the way a container runtime would,
 * and reports what happened, so that the graded cases can compare it with
 * what the group's files show from outside.
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
 *           took MS ms       (how long cg_destroy took)
 *           destroyed
 *       and exits with 1 after the first error; a group it created is
 *       destroyed on the way out.
 *
 * One function at a time (with --hold: "ready" once it has returned, then
 * it waits for SIGUSR1, so that a case can look at the process):
 *   cgctl detect PATH                 cg_is_v2: "cgroup2 yes" or "cgroup2 no"
 *   cgctl enable PARENT "LIST"        cg_enable_controllers: "enabled"
 *   cgctl create PARENT NAME [SIZE]   cg_create with a SIZE-byte path buffer
 *                                     (default CG_PATH_MAX): "created PATH"
 *   cgctl limits GROUP [--mem BYTES] [--cpu QUOTA PERIOD] [--pids N]
 *                                     cg_set_limits: "limits written"
 *   cgctl spawn GROUP PAYLOAD [ARG]   cg_spawn, then waits for the payload:
 *                                     "spawned PID", "exited CODE"...
 *   cgctl usage GROUP                 cg_read_usage: the usage line
 *   cgctl destroy GROUP               cg_destroy: "destroyed"; both say
 *                                     how long it took: "took MS ms"
 *
 * An error is printed as "error: FUNCTION returned RC, errno NAME (text)".
 * Output structures are filled with a pattern first, so that a field left
 * unset shows.
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
	fprintf(stderr,
		"usage: cgctl [--hold] run PARENT NAME [--mem BYTES] [--cpu QUOTA PERIOD] [--pids N] PAYLOAD [ARG]\n"
		"       cgctl [--hold] detect PATH | enable PARENT LIST | create PARENT NAME [SIZE]\n"
		"       cgctl [--hold] limits GROUP [--mem BYTES] [--cpu QUOTA PERIOD] [--pids N]\n"
		"       cgctl [--hold] spawn GROUP PAYLOAD [ARG] | usage GROUP | destroy GROUP\n"
		"  PAYLOAD: park | hog MB | forks N | spinners N | burn MS | exit N\n");
	return 2;
}

static int fail(const char *function, long long rc)
{
	int err = errno;
	const char *name = strerrorname_np(err);
	printf("error: %s returned %lld, errno %s (%s)\n", function, rc, name ? name : "?", strerror(err));
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for SIGUSR1, sent by whoever inspects the process meanwhile. */
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
		if (errno != EINTR) {
			printf("error: waitpid(%d): %s\n", (int)pid, strerror(errno));
			return 1;
		}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int detect(const char *path)
{
	int v2 = cg_is_v2(path);
	if (v2 != 0 && v2 != 1)
		return fail("cg_is_v2", v2);
	printf("cgroup2 %s\n", v2 ? "yes" : "no");
	return 0;
}

static int enable(const char *parent, const char *list)
{
	int rc = cg_enable_controllers(parent, list);
	if (rc != 0)
		return fail("cg_enable_controllers", rc);
	printf("enabled\n");
	return 0;
}

static int create(const char *parent, const char *name, size_t size)
{
	char *path = malloc(size + 1);
	if (!path)
		return 1;
	memset(path, 'Z', size + 1); /* what cg_create leaves unwritten stays 'Z' */
	int rc = cg_create(parent, name, path, size);
	if (rc != 0)
		return fail("cg_create", rc);
	path[size] = '\0';
	printf("created %s\n", path);
	free(path);
	return 0;
}

/* Reads --mem, --cpu, --pids from argv[*i] on; those not given are unlimited. */
static int parse_limits(int argc, char **argv, int *i, struct cg_limits *lim)
{
	*lim = (struct cg_limits){CG_UNLIMITED, CG_UNLIMITED, 100000, CG_UNLIMITED};
	for (; *i < argc && strncmp(argv[*i], "--", 2) == 0; (*i)++) {
		if (strcmp(argv[*i], "--mem") == 0 && *i + 1 < argc)
			lim->memory_max = strtoll(argv[++*i], NULL, 10);
		else if (strcmp(argv[*i], "--cpu") == 0 && *i + 2 < argc) {
			lim->cpu_quota_us = strtoll(argv[++*i], NULL, 10);
			lim->cpu_period_us = strtoll(argv[++*i], NULL, 10);
		} else if (strcmp(argv[*i], "--pids") == 0 && *i + 1 < argc)
			lim->pids_max = strtoll(argv[++*i], NULL, 10);
		else
			return -1;
	}
	return 0;
}

static int limits(const char *group, const struct cg_limits *lim)
{
	int rc = cg_set_limits(group, lim);
	if (rc != 0)
		return fail("cg_set_limits", rc);
	printf("limits written\n");
	return 0;
}

static int spawn(const char *group, int (*fn)(void *))
{
	pid_t pid = cg_spawn(group, fn, NULL);
	if (pid <= 0)
		return fail("cg_spawn", pid);
	printf("spawned %d\n", (int)pid);
	return wait_payload(pid);
}

static int read_usage(const char *group)
{
	struct cg_usage u;
	memset(&u, 0x5a, sizeof(u)); /* a field left unset reads 6510615555426900570 */
	int rc = cg_read_usage(group, &u);
	if (rc != 0)
		return fail("cg_read_usage", rc);
	printf("usage memory_current=%lld cpu_usage_us=%lld nr_throttled=%lld oom_kills=%lld pids_current=%lld\n",
	       u.memory_current, u.cpu_usage_us, u.nr_throttled, u.oom_kills, u.pids_current);
	return 0;
}

static int destroy(const char *group)
{
	long long start = now_ms();
	int rc = cg_destroy(group);
	printf("took %lld ms\n", now_ms() - start);
	if (rc != 0)
		return fail("cg_destroy", rc);
	printf("destroyed\n");
	return 0;
}

/* What run does once the group exists; the group is destroyed after it. */
static int in_group(const char *path, const struct cg_limits *lim, int (*fn)(void *), int holding)
{
	if (limits(path, lim) != 0)
		return 1;
	int status = spawn(path, fn);
	if (status != 0)
		return status;
	if (read_usage(path) != 0)
		return 1;
	if (holding)
		hold();
	return 0;
}

static int run(int argc, char **argv, int holding)
{
	if (argc < 3)
		return usage();
	const char *parent = argv[0], *name = argv[1];
	struct cg_limits lim;
	int i = 2;
	if (parse_limits(argc, argv, &i, &lim) != 0)
		return usage();
	int (*fn)(void *) = i < argc ? pick(argv[i]) : NULL;
	if (!fn)
		return usage();
	number = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 0;

	int v2 = cg_is_v2(parent);
	if (v2 != 0 && v2 != 1)
		return fail("cg_is_v2", v2);
	if (!v2) {
		printf("error: %s is not on a cgroup v2 filesystem\n", parent);
		return 1;
	}
	if (enable(parent, "cpu memory pids") != 0)
		return 1;
	char path[CG_PATH_MAX];
	int rc = cg_create(parent, name, path, sizeof(path));
	if (rc != 0)
		return fail("cg_create", rc);
	printf("cgroup %s\n", path);
	int status = in_group(path, &lim, fn, holding);
	long long start = now_ms();
	rc = cg_destroy(path);
	printf("took %lld ms\n", now_ms() - start);
	if (rc != 0)
		return status ? status : fail("cg_destroy", rc);
	printf("destroyed\n");
	return status;
}

/* The commands that call one function, with argv after the command's name. */
static int one(const char *command, int argc, char **argv, int holding)
{
	int status;
	struct cg_limits lim;
	int i = 1;
	if (strcmp(command, "detect") == 0 && argc == 1)
		status = detect(argv[0]);
	else if (strcmp(command, "enable") == 0 && argc == 2)
		status = enable(argv[0], argv[1]);
	else if (strcmp(command, "create") == 0 && (argc == 2 || argc == 3))
		status = create(argv[0], argv[1], argc == 3 ? strtoul(argv[2], NULL, 10) : CG_PATH_MAX);
	else if (strcmp(command, "limits") == 0 && argc >= 1 && parse_limits(argc, argv, &i, &lim) == 0 && i == argc)
		status = limits(argv[0], &lim);
	else if (strcmp(command, "spawn") == 0 && argc >= 2 && pick(argv[1])) {
		number = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
		status = spawn(argv[0], pick(argv[1]));
	} else if (strcmp(command, "usage") == 0 && argc == 1)
		status = read_usage(argv[0]);
	else if (strcmp(command, "destroy") == 0 && argc == 1)
		status = destroy(argv[0]);
	else
		return usage();
	if (holding)
		hold();
	return status;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int holding = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += holding;
	argc -= holding;
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2, holding);
	return one(argv[1], argc - 2, argv + 2, holding);
}
