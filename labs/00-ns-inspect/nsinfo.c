/*
 * nsinfo.c - the provided driver of lab 00 (do not change it: the grader
 * uses its own copy).  It calls your ns_inspect.c and prints the results in a
 * form the graded cases compare with what the kernel says.
 *
 *   nsinfo list PID|self [MAX]   count, then "TYPE INODE" per stored entry
 *   nsinfo inode PID|self TYPE   the inode
 *   nsinfo same A B TYPE         "same" or "different"
 *   nsinfo repeat N              calls ns_list(self) N times
 *
 * With --hold first, nsinfo then prints "ready" and waits for a signal, so
 * that a case can look at the process from outside (/proc/PID/ns, fd).
 *
 * An error is printed as "error: FUNCTION returned RC, errno NAME (text)".
 * Exit status: 0 done, 1 your function reported an error, 2 bad usage,
 * 3 your function wrote past the array it was given.
 */
#include "ns_inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the entries hold before ns_list writes them: not zeros, so that a
 * type copied without its terminating NUL shows. */
#define FILL 0x5a

static pid_t parse_pid(const char *arg)
{
	return strcmp(arg, "self") == 0 ? 0 : (pid_t)strtol(arg, NULL, 10);
}

static int fail(const char *function, int rc)
{
	int err = errno;
	printf("error: %s returned %d, errno %s (%s)\n", function, rc, strerrorname_np(err), strerror(err));
	return 1;
}

static int cmd_list(pid_t pid, size_t max)
{
	/* One more entry than announced: it must come back untouched. */
	struct ns_entry *entries = malloc((max + 1) * sizeof(*entries));
	if (!entries) {
		perror("nsinfo: malloc");
		return 2;
	}
	memset(entries, FILL, (max + 1) * sizeof(*entries));
	struct ns_entry untouched;
	memset(&untouched, FILL, sizeof(untouched));
	int count = ns_list(pid, max ? entries : NULL, max);
	if (memcmp(&entries[max], &untouched, sizeof(untouched)) != 0) {
		printf("overflow: ns_list wrote past entry %zu of %zu\n", max, max);
		return 3;
	}
	if (count < 0)
		return fail("ns_list", count);
	printf("count %d\n", count);
	for (size_t i = 0; i < (size_t)count && i < max; i++)
		printf("%.*s %lu\n", NS_TYPE_MAX, entries[i].type, entries[i].inode);
	free(entries);
	return 0;
}

static int cmd_repeat(long times)
{
	struct ns_entry entries[16];
	for (long i = 0; i < times; i++) {
		int rc = ns_list(0, entries, 16);
		if (rc < 0)
			return fail("ns_list", rc);
	}
	printf("done %ld\n", times);
	return 0;
}

static int dispatch(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[0], "list") == 0)
		return cmd_list(parse_pid(argv[1]), argc > 2 ? strtoul(argv[2], NULL, 10) : 32);
	if (argc == 3 && strcmp(argv[0], "inode") == 0) {
		unsigned long inode;
		int rc = ns_inode(parse_pid(argv[1]), argv[2], &inode);
		if (rc != 0)
			return fail("ns_inode", rc);
		printf("%lu\n", inode);
		return 0;
	}
	if (argc == 4 && strcmp(argv[0], "same") == 0) {
		int same = ns_same(parse_pid(argv[1]), parse_pid(argv[2]), argv[3]);
		if (same != 0 && same != 1)
			return fail("ns_same", same);
		printf("%s\n", same ? "same" : "different");
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "repeat") == 0)
		return cmd_repeat(strtol(argv[1], NULL, 10));
	fprintf(stderr, "usage: nsinfo [--hold] list PID|self [MAX] | inode PID TYPE | same A B TYPE"
			" | repeat N\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
	int status = dispatch(argc - 1 - hold, argv + 1 + hold);
	if (hold) {
		printf("ready\n");
		pause();
	}
	return status;
}
