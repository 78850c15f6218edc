/*
 * cell.c - the provided driver of lab 09 (do not change it: the grader uses
 * its own copy).  It builds a prison_config from its arguments, calls your
 * prison.c, and prints what namespace_prison returned, so that the graded
 * cases can compare it with what the kernel shows from outside.
 *
 *   cell [OPTIONS] HOSTNAME ROOTFS MODE [N]
 *
 * OPTIONS
 *   --hold          once the prison has returned, print "ready" and wait
 *   --user          call namespace_prison_unprivileged instead
 *   --ns LIST       the namespaces, a comma list of pid,uts,mnt,ipc,net,cgroup,user
 *                   (default pid,uts,mnt,ipc); "none" for no namespace at all; a number
 *                   (0x40000) adds those raw clone flags
 *   --uid-map I:O:N, --gid-map I:O:N   the id maps (default: none given)
 *   --null WHAT     passes NULL for WHAT: config, hostname, rootfs or callback
 *
 * MODE, what the callback does inside the prison
 *   exit N      returns N
 *   abort       calls abort()
 *   segv        writes through a NULL pointer
 *   whoami      prints "inside pid P uid U gid G hostname H os ID" (ID from
 *               /etc/os-release of its root, "none" if it has none), returns 0
 *   park        prints "parked" and waits to be killed
 *   deep KB     uses KB kilobytes of stack, returns 0
 *   names       HOSTNAME is ignored: for each line of the standard input, a
 *               prison with that line as its host name, whose callback prints
 *               "inside HOSTNAME-IT-SEES"; each is announced by "try NAME"
 *
 * Each prison ends with one line: "result exited CODE", or
 * "result STATUS signal S err E: MESSAGE" for the others, STATUS one of
 * invalid_config, clone_failed, setup_failed, child_crashed, wait_failed.
 */
#include "prison.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long number;
static int null_config, null_callback;

static int callback_exit(void *arg)
{
	(void)arg;
	return (int)number;
}

static int callback_abort(void *arg)
{
	(void)arg;
	abort();
}

/* A real fault: PID 1 of a namespace ignores the signals it sends itself. */
static int callback_segv(void *arg)
{
	static volatile int zero;
	(void)arg;
	volatile int *nowhere = (int *)(long)zero;
	*nowhere = 1;
	return 0;
}

static void os_id(char *id, size_t size)
{
	snprintf(id, size, "none");
	FILE *f = fopen("/etc/os-release", "r");
	if (!f)
		return;
	char line[128];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "ID=", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(id, size, "%s", line + 3);
		}
	fclose(f);
}

static int callback_whoami(void *arg)
{
	(void)arg;
	char host[128] = "?", id[64];
	gethostname(host, sizeof(host));
	os_id(id, sizeof(id));
	printf("inside pid %d uid %d gid %d hostname %s os %s\n", getpid(), getuid(), getgid(), host, id);
	fflush(stdout); /* the child ends with _exit: nothing else flushes it */
	return 0;
}

static int callback_park(void *arg)
{
	(void)arg;
	printf("parked\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* Uses about kb kilobytes of stack, a few at a time, as real code does. */
static int recurse(long kb)
{
	volatile char frame[1024];
	memset((char *)frame, (int)kb, sizeof(frame));
	return kb <= 1 ? frame[0] - frame[0] : recurse(kb - 1) + frame[1] - frame[1];
}

static int callback_deep(void *arg)
{
	(void)arg;
	return recurse(number);
}

static int callback_name(void *arg)
{
	(void)arg;
	char host[128] = "?";
	gethostname(host, sizeof(host));
	printf("inside %s\n", host);
	fflush(stdout);
	return 0;
}

static const char *status_name(enum prison_status s)
{
	switch (s) {
	case PRISON_EXITED:
		return "exited";
	case PRISON_INVALID_CONFIG:
		return "invalid_config";
	case PRISON_CLONE_FAILED:
		return "clone_failed";
	case PRISON_SETUP_FAILED:
		return "setup_failed";
	case PRISON_CHILD_CRASHED:
		return "child_crashed";
	case PRISON_WAIT_FAILED:
		return "wait_failed";
	}
	return "unknown_status";
}

static void print_result(const struct prison_result *r)
{
	if (r->status == PRISON_EXITED)
		printf("result exited %d\n", r->code);
	else
		printf("result %s signal %d err %d: %s\n", status_name(r->status), r->signal, r->err,
		       r->message);
}

static int parse_namespaces(const char *list)
{
	static const struct {
		const char *name;
		int flag;
	} kinds[] = {{"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS},	   {"mnt", CLONE_NEWNS},
		     {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},	   {"cgroup", CLONE_NEWCGROUP},
		     {"user", CLONE_NEWUSER}, {"none", 0}};
	int flags = 0;
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", list);
	char *rest = copy, *word;
	while ((word = strsep(&rest, ","))) {
		if (*word >= '0' && *word <= '9') {
			flags |= (int)strtol(word, NULL, 0);
			continue;
		}
		size_t i = 0;
		while (i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(word, kinds[i].name) != 0)
			i++;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			return -1;
		flags |= kinds[i].flag;
	}
	return flags;
}

static int parse_map(const char *text, struct prison_idmap *map)
{
	return sscanf(text, "%u:%u:%u", &map->inside, &map->outside, &map->count) == 3 ? 0 : -1;
}

static int (*pick(const char *mode))(void *)
{
	static const struct {
		const char *name;
		int (*fn)(void *);
	} modes[] = {{"exit", callback_exit}, {"abort", callback_abort}, {"segv", callback_segv},
		     {"whoami", callback_whoami}, {"park", callback_park},	 {"deep", callback_deep},
		     {"names", callback_name}};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i].name) == 0)
			return modes[i].fn;
	return NULL;
}

static struct prison_result run(int user, const struct prison_config *config, int (*fn)(void *))
{
	if (null_config)
		config = NULL;
	if (null_callback)
		fn = NULL;
	return user ? namespace_prison_unprivileged(config, fn, NULL) : namespace_prison(config, fn, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: cell [--hold] [--user] [--ns pid,uts,mnt,ipc,net,cgroup,user|none|0xFLAGS]\n"
			"            [--uid-map I:O:N] [--gid-map I:O:N] [--null config|hostname|rootfs|callback]\n"
			"            HOSTNAME ROOTFS MODE [N]\n"
			"  MODE: exit N | abort | segv | whoami | park | deep KB | names (hostnames on stdin)\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int hold = 0, user = 0, null_hostname = 0, null_rootfs = 0, i = 1;
	struct prison_idmap uid_map, gid_map;
	struct prison_config config = {.namespaces = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC};
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[i], "--user") == 0)
			user = 1;
		else if (strcmp(argv[i], "--ns") == 0 && i + 1 < argc)
			config.namespaces = parse_namespaces(argv[++i]);
		else if (strcmp(argv[i], "--uid-map") == 0 && i + 1 < argc && parse_map(argv[++i], &uid_map) == 0)
			config.uid_map = &uid_map;
		else if (strcmp(argv[i], "--gid-map") == 0 && i + 1 < argc && parse_map(argv[++i], &gid_map) == 0)
			config.gid_map = &gid_map;
		else if (strcmp(argv[i], "--null") == 0 && i + 1 < argc) {
			const char *what = argv[++i];
			if (strcmp(what, "config") == 0)
				null_config = 1;
			else if (strcmp(what, "callback") == 0)
				null_callback = 1;
			else if (strcmp(what, "hostname") == 0)
				null_hostname = 1;
			else if (strcmp(what, "rootfs") == 0)
				null_rootfs = 1;
			else
				return usage();
		} else
			return usage();
	}
	if (config.namespaces < 0 || argc - i < 3)
		return usage();
	config.hostname = null_hostname ? NULL : argv[i];
	config.rootfs = null_rootfs ? NULL : argv[i + 1];
	int (*fn)(void *) = pick(argv[i + 2]);
	if (!fn)
		return usage();
	number = argc - i > 3 ? strtol(argv[i + 3], NULL, 10) : 0;
	struct prison_result r;
	if (fn == callback_name) {
		char line[256];
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\n")] = '\0';
			printf("try %s\n", line);
			config.hostname = line;
			r = run(user, &config, fn);
			print_result(&r);
		}
	} else {
		r = run(user, &config, fn);
		print_result(&r);
	}
	if (hold) {
		printf("ready\n");
		pause();
	}
	return 0;
}
