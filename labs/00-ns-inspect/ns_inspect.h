/**
 * @file ns_inspect.h
 * @brief Lab 00: which namespaces a process is in, read from /proc/PID/ns.
 *
 * Every process has one link per namespace in /proc/PID/ns.  Reading a link
 * gives "TYPE:[INODE]", e.g. "uts:[4026531838]": two processes are in the
 * same namespace of a type exactly when their links show the same inode.
 *
 * This is the contract the graded cases check; the handout
 * (labs/00-ns-inspect/README.md) explains it step by step.
 */
#ifndef NS_INSPECT_H
#define NS_INSPECT_H

#include <stddef.h>
#include <sys/types.h>

/** Longest namespace type name, with its NUL ("time_for_children" is 18). */
#define NS_TYPE_MAX 32

/** One namespace of a process. */
struct ns_entry {
	char type[NS_TYPE_MAX]; /**< link name in /proc/PID/ns: "mnt", "pid_for_children"... */
	unsigned long inode;    /**< namespace inode, e.g. 4026531836 (it does not fit an int) */
};

/**
 * @brief Lists the namespaces of a process.
 *
 * Reads every link of /proc/PID/ns, in the order the directory lists them,
 * and fills at most @p max entries.  Like snprintf, it returns how many
 * namespaces the process has, which may be more than @p max: a caller can
 * then retry with a bigger array.  Nothing is written past entries[max - 1].
 * If one of the links cannot be read, the whole call fails: this happens to
 * pid_for_children right after unshare(CLONE_NEWPID), while the new
 * namespace has no process yet (readlink fails with ENOENT).
 *
 * @param pid     the process, or 0 for the calling process
 * @param entries where to write; may be NULL when @p max is 0
 * @param max     capacity of @p entries
 * @return the number of namespaces, or -1 with errno set (ENOENT: no such
 *         process; EACCES: not allowed to look)
 */
int ns_list(pid_t pid, struct ns_entry *entries, size_t max);

/**
 * @brief Reads the inode of one namespace of a process.
 *
 * @param pid   the process, or 0 for the calling process
 * @param type  a link name of /proc/PID/ns, e.g. "net"
 * @param inode where to store the inode
 * @return 0, or -1 with errno set (ENOENT: no such process or type;
 *         EINVAL: an empty type, or one holding a '/', which would name some
 *         other file than a link of /proc/PID/ns)
 */
int ns_inode(pid_t pid, const char *type, unsigned long *inode);

/**
 * @brief Tells whether two processes share a namespace.
 *
 * @param a    a process, or 0 for the calling process
 * @param b    another process, or 0 for the calling process
 * @param type a link name of /proc/PID/ns, e.g. "uts"
 * @return 1 if @p a and @p b are in the same namespace of @p type, 0 if
 *         not, -1 with errno set if either cannot be read
 */
int ns_same(pid_t a, pid_t b, const char *type);

#endif
