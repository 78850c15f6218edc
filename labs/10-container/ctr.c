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
 *     exits with the command's code (128 + N for a signal N), or 125 if the
 *     runtime failed (it says why on stderr)
 *
 *   ctr stop --cgroup-parent CGROUP NAME
 *     kills every process of the container; exits 0, or 1 saying why
 */
#include "container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: ctr run --image DIR --cgroup-parent CGROUP [--name NAME] [--hostname NAME]\n"
		"               [--state DIR] [--memory BYTES[K|M|G]] [--cpu QUOTA[/PERIOD]] [--pids N]\n"
		"               [--net HOST,CONTAINER/PREFIX] -- COMMAND [ARG...]\n"
		"       ctr stop --cgroup-parent CGROUP NAME\n");
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

static int cmd_run(int argc, char **argv)
{
	static struct container_net net;
	struct container_config c = {.name = "c1", .state_dir = "/tmp/ctr"};
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
		else
			return usage();
	}
	if (i + 1 >= argc)
		return usage();
	if (!c.hostname)
		c.hostname = c.name;
	c.argv = &argv[i + 1];
	int code = container_run(&c);
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

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "stop") == 0)
		return cmd_stop(argc - 2, argv + 2);
	return usage();
}
