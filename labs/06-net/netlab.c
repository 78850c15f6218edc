/*
 * netlab.c - the provided driver of lab 06 (do not change it: the grader uses
 * its own copy).  It calls your net_lab.c, one function per command, and
 * says how it went; the graded cases then look at the machine with iproute2
 * (`ip -j link`, `ip -n NS -j addr`), /proc and ping.
 *
 *   netlab [--hold] addns NAME                 net_ns_add
 *   netlab delns NAME                          net_ns_del
 *   netlab veth NAME PEER                      net_veth_add
 *   netlab linkdel NAME                        net_link_del
 *   netlab setns IFNAME NS                     net_link_set_ns
 *   netlab addr IFNAME A.B.C.D/LEN             net_addr_add
 *   netlab linkup IFNAME                       net_link_up
 *   netlab [--hold] up NS HOST PEER HOSTADDR PEERADDR
 *                                              net_pair_up
 *   netlab down NS HOST                        net_pair_down
 *   netlab run NS CMD [ARG...]                 net_ns_fork, then CMD runs in
 *                                              the child; prints "exited N"
 *
 * It prints "ok" when the function returned 0, else "error: FUNCTION: MESSAGE"
 * (strerror of errno) and exits with 1.  With --hold it then prints "ready"
 * and waits to be killed, so that a case can look at the driver itself.
 */
#include "net_lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int hold;

static int report(int ret, const char *function)
{
	if (ret != 0) {
		printf("error: %s: %s\n", function, strerror(errno));
		return 1;
	}
	printf("ok\n");
	if (hold) {
		printf("ready\n");
		for (;;)
			pause(); /* until the case kills it */
	}
	return 0;
}

static int run(const char *ns, char **argv)
{
	pid_t pid = net_ns_fork(ns);
	if (pid < 0) {
		printf("error: net_ns_fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
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
	fprintf(stderr, "usage: netlab [--hold] addns NAME | delns NAME | veth NAME PEER | linkdel NAME\n"
			"       | setns IFNAME NS | addr IFNAME A.B.C.D/LEN | linkup IFNAME\n"
			"       | [--hold] up NS HOST PEER HOSTADDR PEERADDR | down NS HOST\n"
			"       | run NS CMD [ARG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += hold;
	argc -= hold;
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "addns") == 0 && argc == 3)
		return report(net_ns_add(argv[2]), "net_ns_add");
	if (strcmp(cmd, "delns") == 0 && argc == 3)
		return report(net_ns_del(argv[2]), "net_ns_del");
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
	if (strcmp(cmd, "run") == 0 && argc >= 4)
		return run(argv[2], argv + 3);
	return usage();
}
