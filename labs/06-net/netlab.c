/*
 * netlab.c - the provided driver of lab 06 (do not change it: the grader uses
 * its own copy).  It calls your net_lab.c, one function per command, and
 * says how it went; the graded cases then look at the machine with iproute2
 * (`ip -j link`, `ip -n NS -j addr`), /proc and ping.
 *
 *   netlab [OPTIONS] addns NAME                net_ns_add
 *   netlab delns NAME                          net_ns_del
 *   netlab [--hold] enter NAME                 net_ns_enter
 *   netlab veth NAME PEER                      net_veth_add
 *   netlab linkdel NAME                        net_link_del
 *   netlab setns IFNAME NS                     net_link_set_ns
 *   netlab addr IFNAME A.B.C.D/LEN             net_addr_add
 *   netlab linkup IFNAME                       net_link_up
 *   netlab up NS HOST PEER HOSTADDR PEERADDR   net_pair_up
 *   netlab down NS HOST                        net_pair_down
 *   netlab run NS CMD [ARG...]                 net_ns_fork, then CMD runs in
 *                                              the child; prints "exited N"
 *
 * Every command takes the options (before the command):
 *   --hold       once the function has returned, print "ready" and wait to be
 *                killed, so that a case can look at the driver itself (its
 *                namespace, its open descriptors).  For run, the child prints
 *                "child ready" and waits instead of running CMD (CMD may then
 *                be left out), and the parent waits for it.
 *   --nofile N   lower the limit of open descriptors to N first (setrlimit
 *                RLIMIT_NOFILE), to see what the functions do with EMFILE.
 *
 * It prints "ok" when the function returned 0, else "error: FUNCTION returned
 * RC, errno NAME (MESSAGE)" (strerrorname_np and strerror of errno) and exits
 * with 1.
 */
#include "net_lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int hold;

static void hold_on(const char *what)
{
	printf("%s\n", what);
	for (;;)
		pause(); /* until the case kills it */
}

/* The exact return value and errno name: a case compares both. */
static void print_error(const char *function, long ret, int err)
{
	const char *name = strerrorname_np(err);
	printf("error: %s returned %ld, errno %s (%s)\n", function, ret, name ? name : "?", strerror(err));
}

static int report(int ret, const char *function)
{
	if (ret != 0)
		print_error(function, ret, errno);
	else
		printf("ok\n");
	if (hold)
		hold_on("ready");
	return ret != 0;
}

static int run(const char *ns, char **argv)
{
	pid_t pid = net_ns_fork(ns);
	if (pid < 0) {
		print_error("net_ns_fork", pid, errno);
		return 1;
	}
	if (pid == 0) {
		if (hold)
			hold_on("child ready");
		execvp(argv[0], argv);
		fprintf(stderr, "netlab: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	printf("forked %d\n", (int)pid);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			printf("error: waitpid: %s\n", strerror(errno));
			return 1;
		}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: netlab [--hold] [--nofile N] COMMAND, COMMAND one of\n"
			"         addns NAME | delns NAME | enter NAME | veth NAME PEER | linkdel NAME\n"
			"       | setns IFNAME NS | addr IFNAME A.B.C.D/LEN | linkup IFNAME\n"
			"       | up NS HOST PEER HOSTADDR PEERADDR | down NS HOST\n"
			"       | run NS CMD [ARG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
			hold = 1;
			argv++;
			argc--;
		} else if (argc > 2 && strcmp(argv[1], "--nofile") == 0) {
			struct rlimit lim = {.rlim_cur = strtoul(argv[2], NULL, 10)};
			lim.rlim_max = lim.rlim_cur;
			if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
				perror("netlab: setrlimit");
				return 2;
			}
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "addns") == 0 && argc == 3)
		return report(net_ns_add(argv[2]), "net_ns_add");
	if (strcmp(cmd, "delns") == 0 && argc == 3)
		return report(net_ns_del(argv[2]), "net_ns_del");
	if (strcmp(cmd, "enter") == 0 && argc == 3)
		return report(net_ns_enter(argv[2]), "net_ns_enter");
	if (strcmp(cmd, "veth") == 0 && argc == 4)
		return report(net_veth_add(argv[2], argv[3]), "net_veth_add");
	if (strcmp(cmd, "linkdel") == 0 && argc == 3)
		return report(net_link_del(argv[2]), "net_link_del");
	if (strcmp(cmd, "setns") == 0 && argc == 4)
		return report(net_link_set_ns(argv[2], argv[3]), "net_link_set_ns");
	if (strcmp(cmd, "addr") == 0 && argc == 4)
		return report(net_addr_add(argv[2], argv[3]), "net_addr_add");
	if (strcmp(cmd, "linkup") == 0 && argc == 3)
		return report(net_link_up(argv[2]), "net_link_up");
	if (strcmp(cmd, "up") == 0 && argc == 7) {
		struct net_pair pair = {argv[2], argv[3], argv[4], argv[5], argv[6]};
		return report(net_pair_up(&pair), "net_pair_up");
	}
	if (strcmp(cmd, "down") == 0 && argc == 4) {
		struct net_pair pair = {argv[2], argv[3], NULL, NULL, NULL};
		return report(net_pair_down(&pair), "net_pair_down");
	}
	if (strcmp(cmd, "run") == 0 && (argc >= 4 || hold))
		return run(argv[2], argv + 3);
	return usage();
}
