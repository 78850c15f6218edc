/**
 * @file userns_lab.h
 * @brief Lab 05: a child that is root in its own user namespace.
 *
 * clone(2) with CLONE_NEWUSER starts a child in a new user namespace, where
 * it holds every capability - but over the namespaces that user namespace
 * owns, not over the machine.  Which ids it has there is decided from
 * outside, by writing /proc/PID/uid_map and /proc/PID/gid_map: "0 1000 1"
 * makes uid 1000 of the parent's namespace uid 0 inside.  Until the maps are
 * written the child is "nobody" (65534), so it must wait for its parent:
 * it blocks on a pipe, and the parent writes one byte once the maps exist.
 *
 * With a user namespace first, an ordinary user can create PID, UTS and
 * mount namespaces too, and set the host name of its own UTS namespace.
 *
 * The handout (labs/05-user/README.md) explains each function step by step.
 */
#ifndef USERNS_LAB_H
#define USERNS_LAB_H

#include <sys/types.h>

/** Size of the stack clone() runs the child on: 1 MiB, allocated on the heap. */
#define USERNS_STACK_SIZE (1024 * 1024)

/** Exit code of a held child whose parent gave up without releasing it. */
#define USERNS_ABANDONED 125

/** A child cloned into a new user namespace, held until its parent releases it. */
struct userns_child {
	pid_t pid;      /**< its PID in the caller's PID namespace */
	int release_fd; /**< the write end of the pipe it waits on; -1 once released */
};

/**
 * @brief Clones fn(arg) into a new user namespace, held until released.
 *
 * Creates a pipe, then clones with CLONE_NEWUSER | @p flags | SIGCHLD on a
 * stack of USERNS_STACK_SIZE bytes from the heap (freed again in the
 * caller).  The child first reads one byte from the pipe, again when a
 * signal interrupts the read: it does not run fn before userns_release().
 * If it reads end-of-file instead (the parent closed the pipe without
 * writing), it exits with USERNS_ABANDONED without running fn.  Otherwise
 * it closes the pipe and exits with fn's return value: fn runs with no
 * descriptor but those the caller had.  The caller keeps only the write
 * end, in @p child.
 *
 * Namespaces asked for in @p flags are created together with the user
 * namespace, and owned by it.
 *
 * @param child filled with the child's PID and the pipe's write end
 * @param flags more namespaces: CLONE_NEWPID, CLONE_NEWUTS, CLONE_NEWNS...
 *              (0 for a user namespace only)
 * @param fn    what the child runs once released
 * @param arg   passed to fn
 * @return 0, or -1 with errno set, and no descriptor left open: EPERM
 *         (user namespaces disabled or restricted), ENOSPC
 *         (max_user_namespaces reached), EINVAL, EMFILE (no descriptor left
 *         for the pipe), ENOMEM (no memory for the stack)
 */
int userns_clone(struct userns_child *child, int flags, int (*fn)(void *), void *arg);

/**
 * @brief Writes "deny" to /proc/PID/setgroups.
 *
 * An unprivileged parent may write gid_map only after this: otherwise the
 * child, root inside, could drop a supplementary group with setgroups(2)
 * and gain access that group was denied.
 *
 * @param pid a child in a user namespace whose gid_map is not written yet
 * @return 0, or -1 with errno set (EPERM once gid_map is written; whatever
 *         open(2) failed with: ENOENT for no such process, EACCES...)
 */
int userns_deny_setgroups(pid_t pid);

/**
 * @brief Writes one line "INSIDE OUTSIDE COUNT" to /proc/PID/FILE.
 *
 * The whole map goes in a single write(2): the kernel takes a map once, in
 * one write, and refuses every later one.
 *
 * @param pid     a child in a new user namespace
 * @param file    "uid_map" or "gid_map" (anything else: EINVAL)
 * @param inside  first id inside the namespace
 * @param outside the id it stands for in the writer's namespace
 * @param count   how many consecutive ids the line maps
 * @return 0, or -1 with errno set (EPERM: already written, not allowed to
 *         map those ids, or gid_map before setgroups is denied; EINVAL)
 */
int userns_write_map(pid_t pid, const char *file, unsigned long inside, unsigned long outside,
		     unsigned long count);

/**
 * @brief Makes @p uid and @p gid root inside the child's user namespace.
 *
 * In this order: denies setgroups, writes "0 UID 1" to uid_map, writes
 * "0 GID 1" to gid_map.  Every other id stays unmapped: inside, it reads as
 * 65534 (the overflow id, "nobody").
 *
 * @param pid a held child from userns_clone()
 * @param uid the caller's uid, usually getuid()
 * @param gid the caller's gid, usually getgid()
 * @return 0, or -1 with errno set by the step that failed
 */
int userns_map_root(pid_t pid, uid_t uid, gid_t gid);

/**
 * @brief Lets a held child run its function.
 *
 * Writes one byte to the pipe and closes the parent's end, whether the
 * write worked or not.
 *
 * @param child from userns_clone(); its release_fd becomes -1
 * @return 0, or -1 with errno set (EPIPE: the child is gone; the caller
 *         ignores SIGPIPE)
 */
int userns_release(struct userns_child *child);

/**
 * @brief Starts fn(arg) as root of a new user namespace, mapped to the caller.
 *
 * userns_clone(), userns_map_root() with the caller's own uid and gid, then
 * userns_release().  If the maps cannot be written, the child is not
 * released: the pipe is closed so that it exits with USERNS_ABANDONED, it
 * is waited for, and -1 is returned with the errno of the failed step.  If
 * the release fails, the child is waited for too.
 *
 * @param flags more namespaces, as for userns_clone()
 * @param fn    what the child runs, as uid 0 and gid 0 inside
 * @param arg   passed to fn
 * @return the child's PID in the caller's namespace, or -1 with errno set
 */
pid_t userns_spawn(int flags, int (*fn)(void *), void *arg);

/**
 * @brief Sets the host name of the caller's UTS namespace.
 *
 * Called by the child inside its namespaces: an ordinary user may do it in
 * a UTS namespace that its own user namespace owns, and nowhere else.
 *
 * @param name the new host name, a NUL-terminated string (at most 64 bytes)
 * @return 0, or -1 with errno set (EPERM outside such a namespace, EINVAL
 *         for a name too long)
 */
int userns_set_hostname(const char *name);

/**
 * @brief Explains why creating a user namespace failed.
 *
 * For EPERM, a sentence saying user namespaces are disabled or restricted
 * that names /proc/sys/kernel/unprivileged_userns_clone; for ENOSPC, one
 * saying the limit on user namespaces is reached that names
 * /proc/sys/user/max_user_namespaces.
 *
 * @param err an errno value from userns_clone() or userns_spawn()
 * @return that sentence (a string constant), or NULL for any other error
 */
const char *userns_hint(int err);

#endif
