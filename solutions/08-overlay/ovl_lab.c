/*
 * ovl_lab.c - reference solution of lab 08.
 *
 * Mounting is one mount(2) call; the work is in what comes before it.  The
 * kernel's own errors are terse (a missing workdir gives ENOENT, and
 * mount(8) then says "special device overlay does not exist"), and some
 * mistakes it does not refuse at all (an upperdir inside a lowerdir mounts,
 * with undefined results).  So the directories are checked first, and a
 * refusal says which directory and why.
 */
#include "ovl_lab.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ------------------------------------------------------------- checking */

/* One directory of the overlay, as the checks need it. */
struct dir {
	const char *role; /* "lowerdir", "upperdir", "workdir" */
	const char *path; /* as given: refusals quote it */
	char *real;       /* after realpath(3): what overlap is decided on */
	dev_t dev;        /* its filesystem */
	int writable;     /* upper or work: may overlap nothing */
};

/* Fills why like snprintf, and returns -1 with errno err. */
static int refuse(char *why, size_t size, int err, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t size, int err, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(why, size, format, args);
	va_end(args);
	errno = err;
	return -1;
}

/* Is b the directory a, or inside it?  Component by component. */
static int inside(const char *a, const char *b)
{
	size_t len = strlen(a);
	if (strcmp(a, "/") == 0)
		return 1;
	return strncmp(a, b, len) == 0 && (b[len] == '\0' || b[len] == '/');
}

static void free_dirs(struct dir *dirs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(dirs[i].real);
	free(dirs);
}

/* Each directory must exist and be one; its real path and device are kept. */
static int look_up(struct dir *d, char *why, size_t size)
{
	struct stat st;
	if (stat(d->path, &st) != 0)
		return refuse(why, size, errno, "%s %s: %s", d->role, d->path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return refuse(why, size, ENOTDIR, "%s %s: %s", d->role, d->path, strerror(ENOTDIR));
	d->dev = st.st_dev;
	d->real = realpath(d->path, NULL);
	if (!d->real)
		return refuse(why, size, errno, "%s %s: %s", d->role, d->path, strerror(errno));
	return 0;
}

static int check_shape(const struct ovl_layers *l, char *why, size_t size)
{
	if (l->nlower == 0)
		return refuse(why, size, EINVAL, "no lowerdir: an overlay needs at least one lower layer");
	if (!l->upper != !l->work)
		return refuse(why, size, EINVAL, "upperdir and workdir go together: give both or neither");
	if (!l->upper && l->nlower < 2)
		return refuse(why, size, EINVAL, "a read-only overlay (no upperdir) needs at least two lowerdirs");
	return 0;
}

int ovl_check(const struct ovl_layers *l, char *why, size_t size)
{
	if (check_shape(l, why, size) != 0)
		return -1;
	size_t count = l->nlower + (l->upper ? 2 : 0);
	struct dir *dirs = calloc(count, sizeof(*dirs));
	if (!dirs)
		return refuse(why, size, errno, "%s", strerror(errno));
	for (size_t i = 0; i < l->nlower; i++)
		dirs[i] = (struct dir){.role = "lowerdir", .path = l->lower[i]};
	if (l->upper) {
		dirs[count - 2] = (struct dir){.role = "upperdir", .path = l->upper, .writable = 1};
		dirs[count - 1] = (struct dir){.role = "workdir", .path = l->work, .writable = 1};
	}
	int result = 0;
	for (size_t i = 0; i < count && result == 0; i++)
		result = look_up(&dirs[i], why, size);
	/*
	 * Lower layers may share a tree (they are only read), but what overlay
	 * writes - upper and work - must be apart from everything else.
	 */
	for (size_t i = 0; i < count && result == 0; i++) {
		for (size_t j = i + 1; j < count && result == 0; j++) {
			if (!dirs[i].writable && !dirs[j].writable)
				continue;
			if (inside(dirs[i].real, dirs[j].real) || inside(dirs[j].real, dirs[i].real))
				result = refuse(why, size, EINVAL, "%s %s and %s %s overlap: one is inside the other",
						dirs[i].role, dirs[i].path, dirs[j].role, dirs[j].path);
		}
	}
	/* Overlay moves files from work to upper with rename(2): one filesystem. */
	if (result == 0 && l->upper && dirs[count - 1].dev != dirs[count - 2].dev)
		result = refuse(why, size, EXDEV, "workdir %s and upperdir %s are on different filesystems",
				l->work, l->upper);
	int saved = errno;
	free_dirs(dirs, count);
	errno = saved;
	return result;
}

/* ------------------------------------------------------------ mounting */

/* Appends text to buf, or fails with E2BIG: options are never cut short. */
static int append(char *buf, size_t size, size_t *used, const char *text)
{
	size_t len = strlen(text);
	if (*used + len + 1 > size) {
		errno = E2BIG;
		return -1;
	}
	memcpy(buf + *used, text, len + 1);
	*used += len;
	return 0;
}

/* ',' separates options and ':' lower layers: such a path would be cut. */
static int append_path(char *buf, size_t size, size_t *used, const char *path)
{
	if (strpbrk(path, ",:")) {
		errno = EINVAL;
		return -1;
	}
	return append(buf, size, used, path);
}

int ovl_options(const struct ovl_layers *l, char *buf, size_t size)
{
	size_t used = 0;
	if (size == 0) {
		errno = E2BIG;
		return -1;
	}
	buf[0] = '\0';
	if (append(buf, size, &used, "lowerdir=") != 0)
		return -1;
	/* Image order is base first; overlayfs wants the topmost first. */
	for (size_t i = l->nlower; i-- > 0;) {
		if (i != l->nlower - 1 && append(buf, size, &used, ":") != 0)
			return -1;
		if (append_path(buf, size, &used, l->lower[i]) != 0)
			return -1;
	}
	if (!l->upper)
		return 0;
	if (append(buf, size, &used, ",upperdir=") != 0 || append_path(buf, size, &used, l->upper) != 0
	    || append(buf, size, &used, ",workdir=") != 0 || append_path(buf, size, &used, l->work) != 0)
		return -1;
	return 0;
}

int ovl_mount(const struct ovl_layers *l, const char *merged, char *why, size_t size)
{
	if (ovl_check(l, why, size) != 0)
		return -1;
	char options[OVL_OPTIONS_MAX];
	if (ovl_options(l, options, sizeof(options)) != 0) {
		if (errno == E2BIG)
			return refuse(why, size, E2BIG, "mount options: longer than the %d bytes the kernel reads",
				      OVL_OPTIONS_MAX - 1);
		return refuse(why, size, errno, "mount options: a path contains ',' or ':'");
	}
	if (mount("overlay", merged, "overlay", 0, options) != 0)
		return refuse(why, size, errno, "mount overlay on %s: %s", merged, strerror(errno));
	return 0;
}

int ovl_umount(const char *merged)
{
	/* Not MNT_DETACH: a busy overlay is reported, not hidden away. */
	return umount2(merged, 0);
}

/* -------------------------------------------------------------- markers */

int ovl_whiteout(const char *path)
{
	/* S_IFCHR is the file type: without it, mknod makes a regular file. */
	return mknod(path, S_IFCHR | 0000, makedev(0, 0));
}

int ovl_set_opaque(const char *dir)
{
	/* One byte, "y": overlay reads exactly that, without a NUL. */
	return setxattr(dir, OVL_OPAQUE_XATTR, "y", 1, 0);
}

static int join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int import_dir(const char *dir);

/*
 * What one entry of the layer becomes: 1 if it was a marker, the count of
 * its subtree if it is a directory, 0 otherwise.
 */
static int import_entry(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if (join(path, sizeof(path), dir, name) != 0)
		return -1;
	/* The opaque marker first: it starts with ".wh." too. */
	if (strcmp(name, OVL_OCI_OPAQUE) == 0) {
		if (unlink(path) != 0 || ovl_set_opaque(dir) != 0)
			return -1;
		return 1;
	}
	size_t prefix = strlen(OVL_OCI_WHITEOUT);
	if (strncmp(name, OVL_OCI_WHITEOUT, prefix) == 0) {
		const char *hidden = name + prefix;
		if (*hidden == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0) {
			errno = EINVAL;
			return -1;
		}
		char target[PATH_MAX];
		if (join(target, sizeof(target), dir, hidden) != 0)
			return -1;
		if (unlink(path) != 0 || ovl_whiteout(target) != 0)
			return -1;
		return 1;
	}
	/*
	 * lstat, not stat: a symbolic link in a layer may point anywhere, even
	 * outside it, and is never walked into.
	 */
	struct stat st;
	if (lstat(path, &st) != 0)
		return -1;
	return S_ISDIR(st.st_mode) ? import_dir(path) : 0;
}

static int import_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int converted = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int done = import_entry(dir, e->d_name);
		if (done < 0) {
			int saved = errno;
			closedir(d);
			errno = saved;
			return -1;
		}
		converted += done;
	}
	int saved = errno; /* readdir's own error, or 0 at the end */
	closedir(d);
	errno = saved;
	return saved ? -1 : converted;
}

int ovl_import_layer(const char *dir)
{
	return import_dir(dir);
}
