/*
 * ovl_lab.c - lab 08: your code goes here.
 *
 * Read the handout (README.md) first; ovl_lab.h says exactly what each
 * function must do.  `make` builds the driver ovlctl, `make check` runs the
 * public graded cases as root in a throwaway VM.
 */
#include "ovl_lab.h"

#include <errno.h>

int ovl_check(const struct ovl_layers *l, char *why, size_t size)
{
	/* TODO: the shape (upper and work together, enough lowers), then each
	 * directory with stat(2) and realpath(3), then overlaps involving
	 * upper or work (component by component), then st_dev of upper and
	 * work.  Explain a refusal in why: "workdir /x: No such file...". */
	(void)l;
	(void)why;
	(void)size;
	errno = ENOSYS;
	return -1;
}

int ovl_options(const struct ovl_layers *l, char *buf, size_t size)
{
	/* TODO: "lowerdir=TOP:...:BASE,upperdir=U,workdir=W" - the lowers in
	 * reverse image order; EINVAL for a path with ',' or ':', E2BIG when
	 * it does not fit (never cut it short). */
	(void)l;
	(void)buf;
	(void)size;
	errno = ENOSYS;
	return -1;
}

int ovl_mount(const struct ovl_layers *l, const char *merged, char *why, size_t size)
{
	/* TODO: ovl_check, ovl_options into OVL_OPTIONS_MAX bytes, then
	 * mount(2) with type "overlay"; fill why on every failure. */
	(void)l;
	(void)merged;
	(void)why;
	(void)size;
	errno = ENOSYS;
	return -1;
}

int ovl_umount(const char *merged)
{
	/* TODO: umount2(2), reporting its error. */
	(void)merged;
	errno = ENOSYS;
	return -1;
}

int ovl_whiteout(const char *path)
{
	/* TODO: mknod(2) a character device (S_IFCHR) numbered makedev(0, 0). */
	(void)path;
	errno = ENOSYS;
	return -1;
}

int ovl_set_opaque(const char *dir)
{
	/* TODO: setxattr(2) OVL_OPAQUE_XATTR to the one byte "y". */
	(void)dir;
	errno = ENOSYS;
	return -1;
}

int ovl_import_layer(const char *dir)
{
	/* TODO: walk dir recursively with opendir/readdir and lstat (never
	 * into a symbolic link): OVL_OCI_OPAQUE -> remove it, mark its
	 * directory opaque; ".wh.NAME" -> remove it, whiteout NAME.  Return
	 * how many markers were converted. */
	(void)dir;
	errno = ENOSYS;
	return -1;
}
