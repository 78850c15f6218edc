/**
 * @file mnt_lab.h
 * @brief Lab 03: a root filesystem of its own - mount namespaces, chroot,
 *        pivot_root, /proc and /dev, mount propagation.
 *
 * A mount namespace is a private copy of the mount table: what is mounted or
 * unmounted in it is not seen by the others - unless the copy still shares
 * mounts with them (propagation), which is why / is made private first.  In
 * it, a container's root is swapped for a prepared directory with
 * pivot_root(2), the host's mounts are detached, and the container gets its
 * own /proc (for its PID namespace) and a /dev with a handful of safe
 * devices.
 *
 * Every function returns 0 (or a PID) on success, or -1 with errno set by the
 * call that failed, so that the caller can say why.  The handout
 * (labs/03-mnt/README.md) explains each step.
 */
#ifndef MNT_LAB_H
#define MNT_LAB_H

#include <sys/types.h>

/** Size of the stack clone() runs the container's first process on. */
#define MNT_STACK_SIZE (1024 * 1024)

/** Where mnt_pivot_root() puts the old root, inside the new one, for a moment. */
#define MNT_PUT_OLD ".oldroot"

/** Exit code of a container whose set-up failed before fn() could run. */
#define MNT_SETUP_FAILED 125

/** The four propagation types of a mount (mount_namespaces(7)). */
enum mnt_propagation {
	PROP_SHARED,     /**< mounts and unmounts spread to and from its peers */
	PROP_PRIVATE,    /**< nothing spreads, either way */
	PROP_SLAVE,      /**< events of its master reach it, its own go nowhere */
	PROP_UNBINDABLE, /**< private, and it cannot be the source of a bind mount */
};

/**
 * @brief Changes the propagation type of a mount.
 *
 * mount(2) with a NULL source and file system type, and exactly one of
 * MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE (plus MS_REC if asked).
 *
 * @param path      a mount point, e.g. "/" (a plain directory gives EINVAL)
 * @param type      the propagation type to give it
 * @param recursive non-zero: also every mount below it (MS_REC)
 * @return 0, or -1 with errno set (EINVAL: not a mount point, or a type that
 *         is none of the four - checked before mount(2) is called)
 */
int mnt_set_propagation(const char *path, enum mnt_propagation type, int recursive);

/**
 * @brief Moves the caller into a new mount namespace that leaks nothing.
 *
 * unshare(CLONE_NEWNS) gives the caller a copy of its mount table in which
 * shared mounts are still peers of the originals; then every mount of the
 * copy, from / down, is made private (or slave), so that what the caller
 * mounts from now on stays in its namespace.  The caller's old namespace is
 * left exactly as it was.
 *
 * @return 0, or -1 with errno set (EPERM without CAP_SYS_ADMIN)
 */
int mnt_new_namespace(void);

/**
 * @brief Makes a directory the caller's root with chroot(2).
 *
 * Creates @p root with mode 0755 if it does not exist yet (its parent must),
 * changes the root to it, then the working directory to the new "/" - else
 * the working directory is left outside the new root.
 *
 * chroot alone is not a container: a process that may still call chroot can
 * walk out of it (see the handout).
 *
 * @param root the new root directory, e.g. "/tmp/root"
 * @return 0, or -1 with errno set (ENOENT: a missing parent; ENOTDIR: not a
 *         directory; EPERM without CAP_SYS_CHROOT)
 */
int mnt_chroot(const char *root);

/**
 * @brief Swaps the root of the caller's mount namespace for @p root.
 *
 * The caller must be in a mount namespace of its own where / is not shared
 * (see mnt_new_namespace()).  Bind-mounts @p root on itself (pivot_root(2)
 * wants the new root to be a mount point), pivots so that @p root is "/" and
 * the old root sits on /MNT_PUT_OLD (a folder created if missing, kept if
 * already there), moves to the new "/", makes the old root and every mount
 * below it private - so that detaching it never unmounts anything in other
 * namespaces - detaches it (MNT_DETACH), and removes the empty /MNT_PUT_OLD.
 * Afterwards nothing of the old root is left in the namespace.
 *
 * @param root a directory holding the new root file system, e.g. "/tmp/root"
 * @return 0, or -1 with errno set (ENOENT: no such root; ENOTDIR: root, or
 *         root/MNT_PUT_OLD, is not a directory; EROFS: no MNT_PUT_OLD can be
 *         made; EINVAL: / is shared, or the current root cannot be moved)
 */
int mnt_pivot_root(const char *root);

/**
 * @brief Mounts a proc file system.
 *
 * A proc file system shows the processes of the PID namespace of the process
 * that mounts it: mount it from inside the container's PID namespace.
 * Mounted with MS_NOSUID, MS_NODEV and MS_NOEXEC.
 *
 * @param target where to mount it, e.g. "/proc" once the root is pivoted
 * @return 0, or -1 with errno set
 */
int mnt_mount_proc(const char *target);

/**
 * @brief Gives a container a minimal /dev.
 *
 * Mounts a tmpfs (mode 0755) on @p dev, so that nothing is written into the
 * root file system's own dev folder, and fills it with the character devices
 * null (1,3), zero (1,5), full (1,7), random (1,8), urandom (1,9) and tty
 * (5,0), each of mode 0666 whatever the umask, and the links stdin, stdout,
 * stderr and fd to /proc/self/fd/0, /proc/self/fd/1, /proc/self/fd/2 and
 * /proc/self/fd.  Nothing else of the host's devices.
 *
 * @param dev the folder to fill, e.g. "/dev" once the root is pivoted
 * @return 0, or -1 with errno set (ENOENT: no such folder; EPERM: creating
 *         device nodes is refused, e.g. in a user namespace; ENAMETOOLONG:
 *         a node's path would not fit in PATH_MAX bytes - never cut short)
 */
int mnt_populate_dev(const char *dev);

/**
 * @brief Starts fn(arg) as PID 1 of a container whose root is @p root.
 *
 * Clones a child into new mount and PID namespaces (and SIGCHLD, so that the
 * caller waits for it as usual) on a heap stack of MNT_STACK_SIZE bytes.
 * The child makes / private recursively, pivots to @p root, mounts /proc from
 * inside its PID namespace, fills /dev, then returns fn(arg) as its exit
 * code.  If a step fails, the child prints which one and why on stderr and
 * exits with MNT_SETUP_FAILED without running fn.  The caller's mount table
 * is never touched.
 *
 * @param root the container's root file system, e.g. "/tmp/root"
 * @param fn   what the container runs
 * @param arg  passed to fn
 * @return the child's PID in the caller's namespace, or -1 with errno set
 *         (EPERM without CAP_SYS_ADMIN).  The stack is the caller's to free
 *         as soon as clone() has returned: the child runs on its own copy.
 */
pid_t mnt_container_spawn(const char *root, int (*fn)(void *), void *arg);

#endif
