/**
 * @file uts_lab.h
 * @brief Lab 02: a child with its own host name, in a new UTS namespace.
 *
 * A UTS namespace holds two strings: the host name and the NIS domain name
 * (what uname(2) calls nodename and domainname).  A child cloned with
 * CLONE_NEWUTS starts with a copy of its parent's, and may then change them
 * without the host seeing anything.  Another process can join that
 * namespace later with setns(2), and sees the same names.
 *
 * The runtime checks the configuration before it creates anything, names
 * the child's namespace from inside the child, and tells its caller
 * whether that worked - through a pipe - before it says the child started.
 *
 * The handout (labs/02-uts/README.md) explains each function step by step.
 */
#ifndef UTS_LAB_H
#define UTS_LAB_H

#include <sys/types.h>

/** Longest host name or domain name, in bytes, without the final NUL (the kernel's limit). */
#define UTS_NAME_MAX 64

/** Size of the stack the child runs on: 1 MiB, allocated on the heap. */
#define UTS_STACK_SIZE (1024 * 1024)

/** The names a new UTS namespace is given. */
struct uts_config {
	const char *hostname;   /**< 1 to UTS_NAME_MAX bytes */
	const char *domainname; /**< 0 to UTS_NAME_MAX bytes ("" is allowed: no domain) */
};

/**
 * @brief Says what is wrong with a configuration, if anything.
 *
 * The host name must be 1 to UTS_NAME_MAX bytes long, the domain name 0 to
 * UTS_NAME_MAX bytes; neither may be NULL.  Lengths are in bytes (strlen),
 * not in characters.  No name is read past its (UTS_NAME_MAX + 1)th byte:
 * a name with no NUL in its first 65 bytes is too long, whatever follows
 * (strnlen).  Nothing is created, nothing is printed.
 *
 * @param cfg the configuration to check
 * @return NULL if cfg is valid, else a short constant sentence naming the
 *         field at fault and the rule it breaks, such as
 *         "hostname is longer than 64 bytes"
 */
const char *uts_config_error(const struct uts_config *cfg);

/**
 * @brief Starts fn(arg) in a new UTS namespace named after cfg.
 *
 * 1. Refuses an invalid cfg (uts_config_error()) with EINVAL, before any
 *    namespace or process is created.
 * 2. Clones a child with CLONE_NEWUTS and SIGCHLD on a UTS_STACK_SIZE heap
 *    stack.  The child sets the host name, then the domain name, of its new
 *    namespace, and reports the outcome to the parent through a pipe: 0, or
 *    the errno of the call that failed.  Only once the names are set does
 *    it run fn(arg), and it exits with fn's return value.  If naming
 *    failed, it exits without running fn.
 * 3. The parent waits for that report, reading again when a signal
 *    interrupts it (EINTR).  On failure it reaps the child and returns -1
 *    with the child's errno; if the child died before reporting, with EIO.
 *
 * The caller's own host name and domain name never change, and no file
 * descriptor or memory is left behind, by the caller or in the child: the
 * child holds only what the caller held before the call.
 *
 * @param cfg the names to give the new namespace
 * @param fn  what the child runs once its namespace is named
 * @param arg passed to fn
 * @return the child's PID (the caller waits for it with waitpid()), or -1
 *         with errno set: EINVAL for an invalid cfg, EMFILE when no file
 *         descriptor is left for the pipe, ENOMEM when the stack cannot be
 *         allocated, EPERM without CAP_SYS_ADMIN, ENOSPC when no more UTS
 *         namespaces may be created, whatever sethostname() or
 *         setdomainname() failed with in the child, or EIO if the child died
 *         before it could report
 */
pid_t uts_spawn(const struct uts_config *cfg, int (*fn)(void *), void *arg);

/**
 * @brief Moves the calling process into the UTS namespace of process pid.
 *
 * Opens /proc/PID/ns/uts and calls setns(2) on it.  The file descriptor is
 * closed again whatever happens: once joined, the namespace is held by the
 * process itself.
 *
 * @param pid a process in the namespace to join
 * @return 0, or -1 with errno set (ENOENT or ESRCH: no such process; EPERM without
 *         CAP_SYS_ADMIN; EMFILE when no file descriptor is left).  File
 *         descriptor 0 is a descriptor like any other: when stdin is closed,
 *         open() may return it.
 */
int uts_join(pid_t pid);

#endif
