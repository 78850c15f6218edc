/*
 * ns_inspect.c - accepted alternative: stat(2) instead of readlink(2).
 *
 * stat follows the /proc/PID/ns/X link to the namespace's nsfs file, whose
 * st_ino is the namespace inode: the same number the link's text shows,
 * without any parsing.  (lstat would not follow the link, and would give the
 * inode of the link itself: see the handout's pitfalls.)
 */
#include "ns_inspect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static DIR *open_ns_dir(pid_t pid)
{
	char path[64];
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/ns");
	else
		snprintf(path, sizeof(path), "/proc/%jd/ns", (intmax_t)pid);
	return opendir(path);
}

/* The inode of the namespace a link of the open ns directory points to. */
static int ns_stat(DIR *dir, const char *type, unsigned long *inode)
{
	struct stat st;
	if (fstatat(dirfd(dir), type, &st, 0) != 0)
		return -1;
	*inode = (unsigned long)st.st_ino;
	return 0;
}

int ns_inode(pid_t pid, const char *type, unsigned long *inode)
{
	if (!type || !*type || strchr(type, '/')) {
		errno = EINVAL;
		return -1;
	}
	DIR *dir = open_ns_dir(pid);
	if (!dir)
		return -1;
	int rc = ns_stat(dir, type, inode);
	int saved = errno;
	closedir(dir);
	errno = saved;
	return rc;
}

int ns_list(pid_t pid, struct ns_entry *entries, size_t max)
{
	DIR *dir = open_ns_dir(pid);
	if (!dir)
		return -1;
	int count = 0, rc = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)count < max) {
			size_t len = strlen(e->d_name);
			if (len >= NS_TYPE_MAX) {
				errno = ENAMETOOLONG;
				rc = -1;
				break;
			}
			memcpy(entries[count].type, e->d_name, len + 1);
			if (ns_stat(dir, e->d_name, &entries[count].inode) != 0) {
				rc = -1;
				break;
			}
		}
		count++;
	}
	int saved = errno;
	closedir(dir);
	errno = saved;
	return rc ? -1 : count;
}

int ns_same(pid_t a, pid_t b, const char *type)
{
	unsigned long ia, ib;
	if (ns_inode(a, type, &ia) != 0 || ns_inode(b, type, &ib) != 0)
		return -1;
	return ia == ib;
}
