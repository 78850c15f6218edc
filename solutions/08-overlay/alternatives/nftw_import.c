/*
 * ovl_lab.c - accepted alternative: nftw(3) walks the layer, snprintf builds
 * the options.
 *
 * - ovl_import_layer lets the C library walk the tree: nftw() with
 *   FTW_PHYS reports a symbolic link as such (FTW_SL) and never follows it,
 *   which is the safety the reference gets from lstat().  nftw's callback
 *   takes no user argument, so the count lives in a static variable: fine
 *   in a single-threaded runtime, and reset at each call.
 * - ovl_options writes each piece with snprintf and checks every return:
 *   a result as large as the space left means the text was cut, which is
 *   reported as E2BIG instead.
 * - ovl_check compares the real paths with an explicit component boundary.
 */
#include "ovl_lab.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ------------------------------------------------------------- checking */

#define ROLE_LOWER "lowerdir"
#define ROLE_UPPER "upperdir"
#define ROLE_WORK "workdir"

/* Real path of one directory, or -1 with why filled. */
static int resolve(const char *role, const char *path, char *real, dev_t *dev, char *why, size_t size)
{
	struct stat st;
	int err = 0;
	if (stat(path, &st) != 0)
		err = errno;
	else if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else if (!realpath(path, real))
		err = errno;
	if (err) {
		snprintf(why, size, "%s %s: %s", role, path, strerror(err));
		errno = err;
		return -1;
	}
	*dev = st.st_dev;
	return 0;
}

/* Does one of the two contain the other (or are they the same)? */
static int overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	const char *shorter = la <= lb ? a : b, *longer = la <= lb ? b : a;
	size_t n = la <= lb ? la : lb;
	if (strcmp(shorter, "/") == 0)
		return 1;
	return strncmp(shorter, longer, n) == 0 && (longer[n] == '\0' || longer[n] == '/');
}

int ovl_check(const struct ovl_layers *l, char *why, size_t size)
{
	if (l->nlower == 0 || (l->upper == NULL) != (l->work == NULL) || (!l->upper && l->nlower < 2)) {
		snprintf(why, size, "%s", l->nlower == 0 ? "no lowerdir given"
				 : (l->upper == NULL) != (l->work == NULL) ? "upperdir and workdir must be given together"
				 : "without upperdir, at least two lowerdirs are needed");
		errno = EINVAL;
		return -1;
	}
	char upper[PATH_MAX], work[PATH_MAX], lower[PATH_MAX];
	dev_t upper_dev = 0, work_dev = 0, dev;
	if (l->upper && (resolve(ROLE_UPPER, l->upper, upper, &upper_dev, why, size) != 0
			 || resolve(ROLE_WORK, l->work, work, &work_dev, why, size) != 0))
		return -1;
	for (size_t i = 0; i < l->nlower; i++) {
		if (resolve(ROLE_LOWER, l->lower[i], lower, &dev, why, size) != 0)
			return -1;
		if (!l->upper)
			continue;
		int in_upper = overlap(upper, lower);
		if (in_upper || overlap(work, lower)) {
			snprintf(why, size, "%s %s and %s %s overlap: one is inside the other",
				 in_upper ? ROLE_UPPER : ROLE_WORK, in_upper ? l->upper : l->work, ROLE_LOWER,
				 l->lower[i]);
			errno = EINVAL;
			return -1;
		}
	}
	if (l->upper && overlap(upper, work)) {
		snprintf(why, size, "%s %s and %s %s overlap: one is inside the other", ROLE_WORK, l->work,
			 ROLE_UPPER, l->upper);
		errno = EINVAL;
		return -1;
	}
	if (l->upper && upper_dev != work_dev) {
		snprintf(why, size, "%s %s and %s %s are on different filesystems", ROLE_WORK, l->work, ROLE_UPPER,
			 l->upper);
		errno = EXDEV;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ mounting */

/* snprintf at buf + *used; a cut result is E2BIG. */
static int add(char *buf, size_t size, size_t *used, const char *label, const char *path)
{
	if (path && strpbrk(path, ",:")) {
		errno = EINVAL;
		return -1;
	}
	int n = snprintf(buf + *used, size - *used, "%s%s", label, path ? path : "");
	if (n < 0 || (size_t)n >= size - *used) {
		errno = E2BIG;
		return -1;
	}
	*used += (size_t)n;
	return 0;
}

int ovl_options(const struct ovl_layers *l, char *buf, size_t size)
{
	if (size == 0) {
		errno = E2BIG;
		return -1;
	}
	size_t used = 0;
	for (size_t k = 0; k < l->nlower; k++) {
		/* k-th from the top: image order reversed. */
		const char *layer = l->lower[l->nlower - 1 - k];
		if (add(buf, size, &used, k == 0 ? "lowerdir=" : ":", layer) != 0)
			return -1;
	}
	if (l->upper && (add(buf, size, &used, ",upperdir=", l->upper) != 0
			 || add(buf, size, &used, ",workdir=", l->work) != 0))
		return -1;
	return 0;
}

int ovl_mount(const struct ovl_layers *l, const char *merged, char *why, size_t size)
{
	if (ovl_check(l, why, size) != 0)
		return -1;
	char options[OVL_OPTIONS_MAX];
	if (ovl_options(l, options, sizeof(options)) != 0) {
		int err = errno;
		if (err == E2BIG)
			snprintf(why, size, "mount options: longer than the %d bytes the kernel reads",
				 OVL_OPTIONS_MAX - 1);
		else
			snprintf(why, size, "mount options: a path contains ',' or ':'");
		errno = err;
		return -1;
	}
	if (mount("overlay", merged, "overlay", 0, options) != 0) {
		int err = errno;
		snprintf(why, size, "mount overlay on %s: %s", merged, strerror(err));
		errno = err;
		return -1;
	}
	return 0;
}

int ovl_umount(const char *merged)
{
	return umount2(merged, 0);
}

/* -------------------------------------------------------------- markers */

int ovl_whiteout(const char *path)
{
	return mknod(path, S_IFCHR, makedev(0, 0));
}

int ovl_set_opaque(const char *dir)
{
	static const char yes = 'y';
	return setxattr(dir, OVL_OPAQUE_XATTR, &yes, sizeof(yes), 0);
}

static int imported; /* markers converted by the current walk */

/* The marker's directory: path up to its last '/'. */
static void parent_of(const char *path, int base, char *dir, size_t size)
{
	snprintf(dir, size, "%.*s", base > 0 ? base - 1 : 0, path);
}

static int convert(const char *path, const struct stat *st, int type, struct FTW *where)
{
	(void)st;
	if (type == FTW_DNR || type == FTW_NS)
		return errno ? errno : EACCES;
	if (type != FTW_F)
		return 0; /* directories are walked, symbolic links (FTW_SL) are not */
	const char *name = path + where->base;
	char dir[PATH_MAX], target[PATH_MAX];
	parent_of(path, where->base, dir, sizeof(dir));
	if (strcmp(name, OVL_OCI_OPAQUE) == 0) {
		if (unlink(path) != 0 || ovl_set_opaque(dir) != 0)
			return errno;
	} else if (strncmp(name, OVL_OCI_WHITEOUT, strlen(OVL_OCI_WHITEOUT)) == 0) {
		const char *hidden = name + strlen(OVL_OCI_WHITEOUT);
		if (!*hidden || !strcmp(hidden, ".") || !strcmp(hidden, ".."))
			return EINVAL;
		int n = snprintf(target, sizeof(target), "%s/%s", dir, hidden);
		if (n < 0 || (size_t)n >= sizeof(target))
			return ENAMETOOLONG;
		if (unlink(path) != 0 || ovl_whiteout(target) != 0)
			return errno;
	} else {
		return 0;
	}
	imported++;
	return 0;
}

int ovl_import_layer(const char *dir)
{
	imported = 0;
	int err = nftw(dir, convert, 16, FTW_PHYS);
	if (err != 0) {
		errno = err > 0 ? err : errno;
		return -1;
	}
	return imported;
}
