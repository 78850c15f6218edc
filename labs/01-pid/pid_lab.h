/**
 * @file pid_lab.h
 * @brief Lab 01: a child that is PID 1 of its own PID namespace.
 *
 * clone(2) with CLONE_NEWPID starts a child in a new PID namespace, where it
 * is PID 1 and its parent, outside, is invisible (getppid() gives 0).  The
 * parent still sees the child under an ordinary PID of its own namespace,
 * waits for it like any child, and learns how it ended.  Inside, PID 1 has a
 * duty no other process has: every orphan of the namespace becomes its child,
 * and only it can reap them.
 *
 * The handout (labs/01-pid/README.md) explains each function step by step.
 */
#ifndef PID_LAB_H
#define PID_LAB_H

#include <sys/types.h>

/** Size of the stack clone() runs the child on: 1 MiB, allocated on the heap. */
#define PIDNS_STACK_SIZE (1024 * 1024)

/** How a child ended, decoded from waitpid()'s status. */
struct child_status {
	int exited;   /**< 1 if it ended with exit() or by returning, else 0 */
	int code;     /**< its exit code when exited, else 0 */
	int signaled; /**< 1 if a signal killed it, else 0 */
	int signal;   /**< that signal when signaled, else 0 */
};

/**
 * @brief Starts fn(arg) as PID 1 of a new PID namespace.
 *
 * Clones with CLONE_NEWPID and SIGCHLD (so that the parent can wait for the
 * child like for any other) on a stack of PIDNS_STACK_SIZE bytes taken from
 * the heap.  The child runs fn(arg) and exits with its return value.
 *
 * @param fn  what the child runs
 * @param arg passed to fn
 * @return the child's PID in the caller's namespace, or -1 with errno set
 *         (EPERM without CAP_SYS_ADMIN)
 */
pid_t pidns_spawn(int (*fn)(void *), void *arg);

/**
 * @brief Waits for a child and tells how it ended.
 *
 * Retries when a signal interrupts the wait (EINTR).
 *
 * @param pid a child of the caller, e.g. from pidns_spawn()
 * @param st  filled with the exit code or the killing signal
 * @return 0, or -1 with errno set (ECHILD: not a child of the caller)
 */
int pidns_wait(pid_t pid, struct child_status *st);

/**
 * @brief What PID 1 of a namespace does: run the payload, reap everyone.
 *
 * Forks a child that runs payload(arg) and exits with its return value, then
 * waits for *every* process that ends in the namespace - orphans are
 * re-parented to PID 1, and a zombie nobody waits for stays in the process
 * table - until the payload itself has ended.
 *
 * @param payload what the payload child runs
 * @param arg     passed to payload
 * @return the payload's exit code, 128 + the signal that killed it, or -1
 *         with errno set if it could not be started (EAGAIN: no more
 *         processes allowed).  A signal interrupting the wait is no error.
 */
int pidns_init(int (*payload)(void *), void *arg);

#endif
