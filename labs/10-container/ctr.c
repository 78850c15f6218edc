/*
 * ctr.c - the provided driver of lab 10 (do not change it: the grader uses
 * its own copy): the command line of the runtime.
 *
 *   ctr run --image DIR --cgroup-parent CGROUP [OPTIONS] -- COMMAND [ARG...]
 *       --name NAME          the container's name (default c1): its cgroup is
 *                            CGROUP/NAME, its veth ends vh-NAME and vc-NAME,
 *                            its layers STATE/NAME/{upper,work,merged}
 *       --hostname NAME      its host name (default: its name)
 *       --state DIR          where its layers go (default /tmp/ctr)
 *       --memory BYTES       memory.max; K, M or G may follow the number
 *       --cpu QUOTA[/PERIOD] cpu.max, in microseconds (period 100000 by default)
 *       --pids N             pids.max
 *       --net HOST,CONTAINER/PREFIX   a veth pair, e.g. 10.200.0.1,10.200.0.2/24
 *       --deny SYSCALL       make SYSCALL fail with EPERM (a seccomp filter,
 *                            set before container_run and inherited by the
 *                            init): pivot_root, umount2, sethostname, mknod,
 *                            symlink or chdir, calls only the init makes; to
 *                            see the runtime report a failure in the init
 *     exits with the command's code (128 + N for a signal N), or 125 if the
 *     runtime failed (it says why on stderr)
 *
 *   ctr stop --cgroup-parent CGROUP NAME
 *     kills every process of the container; exits 0, or 1 saying why
 *
 *   ctr call [--fds N] FUNCTION ARG... [-- FUNCTION ARG...]...
 *     calls functions of cgroup.c, netlink.c and container_stop alone, in turn, to try them
 *     one by one; for each, prints "FUNCTION returned RC" (cgroup_create
 *     then prints "path PATH"), or "error: FUNCTION returned RC, errno NAME
 *     (text)" when it returned -1; exits 0 if all returned 0, else 1.
 *     --fds N: with N descriptors at most (RLIMIT_NOFILE), to see a
 *     function fail to open one:
 *       cgroup_create PARENT NAME [SIZE [MEMORY [CPU_QUOTA [CPU_PERIOD [PIDS]]]]]
 *                                 (SIZE of the path buffer, 4096 by default)
 *       cgroup_add PATH PID
 *       cgroup_remove PATH
 *       net_veth_create HOST PEER PID  (PID self: both ends here, in ctr's own
 *                                 network namespace)
 *       net_addr_add IFNAME ADDR PREFIX
 *       net_link_up IFNAME
 *       net_link_delete IFNAME
 *       container_stop CGROUP NAME
 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: ctr run --image DIR --cgroup-parent CGROUP [--name NAME] [--hostname NAME]\n"
		"               [--state DIR] [--memory BYTES[K|M|G]] [--cpu QUOTA[/PERIOD]] [--pids N]\n"
		"               [--net HOST,CONTAINER/PREFIX] [--deny SYSCALL] -- COMMAND [ARG...]\n"
		"       ctr stop --cgroup-parent CGROUP NAME\n"
		"       ctr call [--fds N] FUNCTION ARG... [-- FUNCTION ARG...]...\n");
	return 2;
}

static long long parse_size(const char *text)
{
	char *end;
	long long n = strtoll(text, &end, 10);
	switch (*end) {
	case 'G':
		n *= 1024;
		/* fall through */
	case 'M':
		n *= 1024;
		/* fall through */
	case 'K':
		n *= 1024;
		end++;
		break;
	}
	return *end || n <= 0 ? -1 : n;
}

static int parse_net(char *text, struct container_net *net)
{
	char *comma = strchr(text, ','), *slash = strchr(text, '/');
	if (!comma || !slash || slash < comma)
		return -1;
	*comma = *slash = '\0';
	net->host_addr = text;
	net->container_addr = comma + 1;
	net->prefix = (int)strtol(slash + 1, NULL, 10);
	return 0;
}

/* The calls --deny can make fail; glibc may use either number of each. */
static const struct {
	const char *name;
	long numbers[2];
} deniable[] = {
	{"pivot_root", {SYS_pivot_root, SYS_pivot_root}}, {"umount2", {SYS_umount2, SYS_umount2}},
	{"sethostname", {SYS_sethostname, SYS_sethostname}}, {"mknod", {SYS_mknod, SYS_mknodat}},
	{"symlink", {SYS_symlink, SYS_symlinkat}},	  {"chdir", {SYS_chdir, SYS_chdir}},
};

/* From now on, in this process and its children, the system call `name`
 * fails with EPERM: a failure the grader can cause from outside the code
 * it grades. */
static int deny_syscall(const char *name)
{
	size_t i = 0;
	while (i < sizeof(deniable) / sizeof(deniable[0]) && strcmp(deniable[i].name, name) != 0)
		i++;
	if (i == sizeof(deniable) / sizeof(deniable[0])) {
		fprintf(stderr, "ctr: --deny %s: not a call it can deny\n", name);
		return -1;
	}
	struct sock_filter filter[] = {
		/* Another architecture's numbers mean other calls: leave them. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deniable[i].numbers[0], 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deniable[i].numbers[1], 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
		fprintf(stderr, "ctr: --deny %s: %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Which of descriptors 0 to 63 are open, one bit each. */
static unsigned long long open_fds(void)
{
	unsigned long long mask = 0;
	for (int fd = 0; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			mask |= 1ULL << fd;
	return mask;
}

static int cmd_run(int argc, char **argv)
{
	static struct container_net net;
	struct container_config c = {.name = "c1", .state_dir = "/tmp/ctr"};
	const char *deny = NULL;
	int i = 0;
	for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			return usage();
		if (strcmp(opt, "--name") == 0)
			c.name = val;
		else if (strcmp(opt, "--hostname") == 0)
			c.hostname = val;
		else if (strcmp(opt, "--image") == 0)
			c.image = val;
		else if (strcmp(opt, "--state") == 0)
			c.state_dir = val;
		else if (strcmp(opt, "--cgroup-parent") == 0)
			c.cgroup_parent = val;
		else if (strcmp(opt, "--memory") == 0 && (c.limits.memory_max = parse_size(val)) > 0)
			;
		else if (strcmp(opt, "--cpu") == 0 && sscanf(val, "%ld/%ld", &c.limits.cpu_quota_us,
							       &c.limits.cpu_period_us) >= 1)
			;
		else if (strcmp(opt, "--pids") == 0 && (c.limits.pids_max = strtol(val, NULL, 10)) > 0)
			;
		else if (strcmp(opt, "--net") == 0 && parse_net(argv[i + 1], &net) == 0)
			c.net = &net;
		else if (strcmp(opt, "--deny") == 0)
			deny = val;
		else
			return usage();
	}
	if (i + 1 >= argc)
		return usage();
	if (!c.hostname)
		c.hostname = c.name;
	c.argv = &argv[i + 1];
	if (deny && deny_syscall(deny) != 0)
		return CONTAINER_FAILED;
	unsigned long long open_before = open_fds();
	int code = container_run(&c);
	/* What the header promises, checked: an exit code or -1, and every
	 * descriptor the runtime opened closed again, on success or failure. */
	if (code < -1 || code > 255) {
		fprintf(stderr, "ctr: container_run returned %d: not an exit code, nor -1\n", code);
		return CONTAINER_FAILED;
	}
	unsigned long long left = open_fds() & ~open_before;
	for (int fd = 0; fd < 64; fd++)
		if (left & (1ULL << fd)) {
			fprintf(stderr, "ctr: container_run left descriptor %d open\n", fd);
			return CONTAINER_FAILED;
		}
	return code < 0 ? CONTAINER_FAILED : code;
}

static int cmd_stop(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "--cgroup-parent") != 0)
		return usage();
	if (container_stop(argv[1], argv[2]) != 0) {
		fprintf(stderr, "ctr: stop %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return 0;
}

/* What the path buffer holds before cgroup_create writes it: not zeros, so
 * that a path left unwritten or unterminated shows. */
#define FILL 'X'

static long number(const char *text)
{
	return strcmp(text, "self") == 0 ? (long)getpid() : strtol(text, NULL, 10);
}

static int report(const char *function, int rc)
{
	int err = errno;
	if (rc == -1)
		printf("error: %s returned %d, errno %s (%s)\n", function, rc, strerrorname_np(err), strerror(err));
	else
		printf("%s returned %d\n", function, rc);
	return rc == 0 ? 0 : 1;
}

static int call_cgroup_create(int argc, char **argv)
{
	size_t size = argc > 2 ? (size_t)number(argv[2]) : 4096;
	struct container_limits limits = {
		.memory_max = argc > 3 ? strtoll(argv[3], NULL, 10) : 0,
		.cpu_quota_us = argc > 4 ? number(argv[4]) : 0,
		.cpu_period_us = argc > 5 ? number(argv[5]) : 0,
		.pids_max = argc > 6 ? number(argv[6]) : 0,
	};
	/* One byte more than announced: it must come back untouched. */
	char *path = malloc(size + 1);
	if (!path) {
		perror("ctr: malloc");
		return 1;
	}
	memset(path, FILL, size + 1);
	errno = 0;
	int rc = cgroup_create(argv[0], argv[1], &limits, path, size);
	int failed = report("cgroup_create", rc);
	if (path[size] != FILL)
		printf("overflow: cgroup_create wrote past byte %zu of path\n", size);
	else if (rc == 0)
		printf("path %s\n", memchr(path, '\0', size) ? path : "(not terminated)");
	free(path);
	return failed;
}

/* One function, its arguments argv[0..argc-1]; 2 when they do not fit it. */
static int call_one(const char *function, int argc, char **argv)
{
	errno = 0;
	if (strcmp(function, "cgroup_create") == 0 && argc >= 2)
		return call_cgroup_create(argc, argv);
	if (strcmp(function, "cgroup_add") == 0 && argc == 2)
		return report(function, cgroup_add(argv[0], (pid_t)number(argv[1])));
	if (strcmp(function, "cgroup_remove") == 0 && argc == 1)
		return report(function, cgroup_remove(argv[0]));
	if (strcmp(function, "net_veth_create") == 0 && argc == 3)
		return report(function, net_veth_create(argv[0], argv[1], (pid_t)number(argv[2])));
	if (strcmp(function, "net_addr_add") == 0 && argc == 3)
		return report(function, net_addr_add(argv[0], argv[1], (int)number(argv[2])));
	if (strcmp(function, "net_link_up") == 0 && argc == 1)
		return report(function, net_link_up(argv[0]));
	if (strcmp(function, "net_link_delete") == 0 && argc == 1)
		return report(function, net_link_delete(argv[0]));
	if (strcmp(function, "container_stop") == 0 && argc == 2)
		return report(function, container_stop(argv[0], argv[1]));
	return 2;
}

static int cmd_call(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[0], "--fds") == 0) {
		struct rlimit fds = {(rlim_t)number(argv[1]), (rlim_t)number(argv[1])};
		if (setrlimit(RLIMIT_NOFILE, &fds) != 0) {
			perror("ctr: setrlimit");
			return 1;
		}
		argc -= 2;
		argv += 2;
	}
	int failed = 0;
	for (int i = 0; i < argc;) {
		int end = i + 1;
		while (end < argc && strcmp(argv[end], "--") != 0)
			end++;
		int rc = call_one(argv[i], end - i - 1, argv + i + 1);
		if (rc == 2)
			return usage();
		failed |= rc;
		i = end + 1;
	}
	return argc == 0 ? usage() : failed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "stop") == 0)
		return cmd_stop(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "call") == 0)
		return cmd_call(argc - 2, argv + 2);
	return usage();
}
