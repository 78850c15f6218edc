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
 *   ovlctl import DIR               prints "imported N" (markers converted)
 *
 * A failure prints "error: FUNCTION: WHY [ERRNO TEXT]" (WHY only for the
 * functions that explain themselves) and exits with 1.
 */
#include "ovl_lab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: ovlctl mount MERGED [--upper DIR --work DIR] LOWER...\n"
			"       ovlctl check [--upper DIR --work DIR] LOWER...\n"
			"       ovlctl umount MERGED | whiteout PATH | opaque DIR | import DIR\n");
	return 2;
}

static int fail(const char *function, const char *why)
{
	int err = errno;
	if (why)
		printf("error: %s: %s [%s]\n", function, why, strerror(err));
	else
		printf("error: %s: %s\n", function, strerror(err));
	return 1;
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
		if (ovl_mount(&l, argv[2], why, sizeof(why)) != 0)
			return fail("ovl_mount", why);
		printf("mounted %s\n", argv[2]);
	} else if (strcmp(cmd, "check") == 0) {
		if (layers(argc - 2, argv + 2, &l) != 0)
			return usage();
		if (ovl_check(&l, why, sizeof(why)) != 0)
			return fail("ovl_check", why);
		printf("ok\n");
	} else if (strcmp(cmd, "umount") == 0 && argc == 3) {
		if (ovl_umount(argv[2]) != 0)
			return fail("ovl_umount", NULL);
		printf("unmounted %s\n", argv[2]);
	} else if (strcmp(cmd, "whiteout") == 0 && argc == 3) {
		if (ovl_whiteout(argv[2]) != 0)
			return fail("ovl_whiteout", NULL);
		printf("whiteout %s\n", argv[2]);
	} else if (strcmp(cmd, "opaque") == 0 && argc == 3) {
		if (ovl_set_opaque(argv[2]) != 0)
			return fail("ovl_set_opaque", NULL);
		printf("opaque %s\n", argv[2]);
	} else if (strcmp(cmd, "import") == 0 && argc == 3) {
		int n = ovl_import_layer(argv[2]);
		if (n < 0)
			return fail("ovl_import_layer", NULL);
		printf("imported %d\n", n);
	} else {
		return usage();
	}
	return 0;
}
