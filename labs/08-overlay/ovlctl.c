/*
 * ovlctl.c - the provided driver of lab 08 (do not change it: the grader uses
 * its own copy).  It calls your ovl_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside
 * (mountinfo, the files of each layer, their types and attributes).
 *
 *   ovlctl mount MERGED [--upper DIR --work DIR] LOWER...
 *       LOWER in image order: the base layer first.  Prints
 *       "options OPTIONS" (ovl_options) and "mounted MERGED" (ovl_mount).
 *   ovlctl check [--upper DIR --work DIR] LOWER...
 *       prints "ok" if ovl_check accepts the directories
 *   ovlctl umount MERGED            prints "unmounted MERGED"
 *   ovlctl whiteout PATH            prints "whiteout PATH"
 *   ovlctl opaque DIR               prints "opaque DIR"
 *   ovlctl import DIR               prints "imported N" (markers converted),
 *                                   then "fds leaked N" (directories left open)
 *   ovlctl options SIZE [--upper DIR --work DIR] LOWER...
 *       ovl_options into a buffer of SIZE bytes: prints "options OPTIONS",
 *       and "overflow N" if it wrote N bytes past SIZE
 *
 * check also prints "heap leaked N" (bytes ovl_check left allocated over
 * ten more calls).  "check --short-memory ..." limits the address space
 * (RLIMIT_AS) to what the driver uses plus 256 KiB just before the call: a
 * 1 MiB allocation fails.  A failure prints
 * "error: FUNCTION returned RC, errno NAME (text)", then ": WHY" for the
 * functions that explain themselves, and exits with 1.
 */
#include "ovl_lab.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Bytes written past the end of the options buffer are detected here. */
#define CANARY 'Z'
#define CANARY_SIZE 64

static int usage(void)
{
	fprintf(stderr, "usage: ovlctl mount MERGED [--upper DIR --work DIR] LOWER...\n"
			"       ovlctl check [--short-memory] [--upper DIR --work DIR] LOWER...\n"
			"       ovlctl options SIZE [--upper DIR --work DIR] LOWER...\n"
			"       ovlctl umount MERGED | whiteout PATH | opaque DIR | import DIR\n");
	return 2;
}

static int fail(const char *function, long rc, const char *why)
{
	int err = errno;
	const char *name = strerrorname_np(err);
	printf("error: %s returned %ld, errno %s (%s)", function, rc, name ? name : "?", strerror(err));
	if (why)
		printf(": %s", why);
	printf("\n");
	return 1;
}

/* The bytes of address space this process uses (VmSize), or -1. */
static long mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/* How many file descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * Bytes ovl_check leaves allocated over ten calls.  Twenty calls first fill
 * the C library's per-thread caches of freed blocks, which mallinfo2 counts
 * as in use.
 */
static long check_leak(const struct ovl_layers *l)
{
	char why[OVL_WHY_MAX];
	for (int i = 0; i < 20; i++)
		ovl_check(l, why, sizeof(why));
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 10; i++)
		ovl_check(l, why, sizeof(why));
	return (long)(mallinfo2().uordblks - before);
}

/* [--upper DIR --work DIR] LOWER... into l; 0, or -1 on bad usage. */
static int layers(int argc, char **argv, struct ovl_layers *l)
{
	int i = 0;
	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--upper") == 0)
			l->upper = argv[i + 1];
		else if (strcmp(argv[i], "--work") == 0)
			l->work = argv[i + 1];
		else
			return -1;
		i += 2;
	}
	l->lower = (const char *const *)(argv + i);
	l->nlower = (size_t)(argc - i);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	struct ovl_layers l = {0};
	char why[OVL_WHY_MAX] = "";

	if (strcmp(cmd, "mount") == 0) {
		if (layers(argc - 3, argv + 3, &l) != 0)
			return usage();
		char options[OVL_OPTIONS_MAX];
		if (ovl_options(&l, options, sizeof(options)) == 0)
			printf("options %s\n", options);
		int rc = ovl_mount(&l, argv[2], why, sizeof(why));
		if (rc != 0)
			return fail("ovl_mount", rc, why);
		printf("mounted %s\n", argv[2]);
	} else if (strcmp(cmd, "check") == 0) {
		int short_memory = strcmp(argv[2], "--short-memory") == 0;
		if (layers(argc - 2 - short_memory, argv + 2 + short_memory, &l) != 0)
			return usage();
		if (short_memory) {
			struct rlimit as = {mapped_bytes() + 256 * 1024, RLIM_INFINITY};
			if (setrlimit(RLIMIT_AS, &as) != 0)
				perror("ovlctl: setrlimit(RLIMIT_AS)");
		}
		int rc = ovl_check(&l, why, sizeof(why));
		int err = errno;
		printf("heap leaked %ld\n", check_leak(&l));
		errno = err;
		if (rc != 0)
			return fail("ovl_check", rc, why);
		printf("ok\n");
	} else if (strcmp(cmd, "options") == 0) {
		size_t size = strtoul(argv[2], NULL, 10);
		if (layers(argc - 3, argv + 3, &l) != 0)
			return usage();
		char *buf = malloc(size + CANARY_SIZE + 1);
		if (!buf)
			return fail("malloc", 0, NULL);
		memset(buf, CANARY, size + CANARY_SIZE);
		buf[size + CANARY_SIZE] = '\0';
		int rc = ovl_options(&l, buf, size);
		int err = errno;
		size_t past = 0;
		for (size_t i = size; i < size + CANARY_SIZE; i++)
			past += buf[i] != CANARY;
		if (past)
			printf("overflow %zu\n", past);
		errno = err;
		if (rc != 0) {
			free(buf);
			return fail("ovl_options", rc, NULL);
		}
		printf("options %s\n", buf);
		free(buf);
	} else if (strcmp(cmd, "umount") == 0 && argc == 3) {
		int rc = ovl_umount(argv[2]);
		if (rc != 0)
			return fail("ovl_umount", rc, NULL);
		printf("unmounted %s\n", argv[2]);
	} else if (strcmp(cmd, "whiteout") == 0 && argc == 3) {
		int rc = ovl_whiteout(argv[2]);
		if (rc != 0)
			return fail("ovl_whiteout", rc, NULL);
		printf("whiteout %s\n", argv[2]);
	} else if (strcmp(cmd, "opaque") == 0 && argc == 3) {
		int rc = ovl_set_opaque(argv[2]);
		if (rc != 0)
			return fail("ovl_set_opaque", rc, NULL);
		printf("opaque %s\n", argv[2]);
	} else if (strcmp(cmd, "import") == 0 && argc == 3) {
		int fds = open_fds();
		int n = ovl_import_layer(argv[2]);
		int err = errno;
		printf("fds leaked %d\n", open_fds() - fds);
		errno = err;
		if (n < 0)
			return fail("ovl_import_layer", n, NULL);
		printf("imported %d\n", n);
	} else {
		return usage();
	}
	return 0;
}
