/**
 * @file prison.h
 * @brief Lab 09: a namespace prison - a callback run in its own namespaces.
 *
 * namespace_prison() takes a configuration (a host name, a root directory,
 * the namespaces to create, optional user and group id maps), checks it,
 * clones a child into new namespaces, sets the host name inside, enters the
 * root directory, runs a callback there, waits for the child and says how it
 * ended.  Every way it can fail is a kind of error with a message that tells
 * the user what to change.
 *
 * namespace_prison_unprivileged() does the same for an ordinary user: it
 * creates a user namespace first, in which the child is root, so that the
 * other namespaces need no privilege on the machine.
 *
 * The handout (labs/09-prison/README.md) explains each step.
 */
#ifndef PRISON_H
#define PRISON_H

#include <sched.h>
#include <sys/types.h>

/** Size of the stack the child runs on: 1 MiB, allocated on the heap. */
#define PRISON_STACK_SIZE (1024 * 1024)

/** The longest host name the kernel accepts (HOST_NAME_MAX). */
#define PRISON_HOSTNAME_MAX 64

/** The namespaces a prison may create (any other clone flag is refused). */
#define PRISON_NAMESPACES                                                                          \
	(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP |   \
	 CLONE_NEWUSER)

/** One line of /proc/PID/uid_map or gid_map: ids inside, ids outside, how many. */
struct prison_idmap {
	unsigned int inside;  /**< first id inside the user namespace */
	unsigned int outside; /**< the id it stands for outside */
	unsigned int count;   /**< how many consecutive ids (at least 1) */
};

/** What to build the prison with. */
struct prison_config {
	const char *hostname; /**< 1 to PRISON_HOSTNAME_MAX characters */
	const char *rootfs;   /**< an existing directory, the prisoner's new / */
	int namespaces;       /**< CLONE_NEW* flags; CLONE_NEWUTS is required */
	const struct prison_idmap *uid_map; /**< with CLONE_NEWUSER: NULL maps the caller's uid to 0 */
	const struct prison_idmap *gid_map; /**< with CLONE_NEWUSER: NULL maps the caller's gid to 0 */
};

/** How a prison ended: the callback's exit code, or which step failed. */
enum prison_status {
	PRISON_EXITED = 0,      /**< the callback returned; code holds its value */
	PRISON_INVALID_CONFIG,  /**< refused before anything was created */
	PRISON_CLONE_FAILED,    /**< clone() (or the stack allocation) failed; err holds errno */
	PRISON_SETUP_FAILED,    /**< a step around the callback failed; err holds errno */
	PRISON_CHILD_CRASHED,   /**< a signal killed the child; signal holds it */
	PRISON_WAIT_FAILED,     /**< waitpid() failed; err holds errno */
};

/** The result of a prison: like Rust's Result<i32, NamespaceError>. */
struct prison_result {
	enum prison_status status; /**< PRISON_EXITED, or the kind of error */
	int code;                  /**< the callback's exit code (0-255), when PRISON_EXITED */
	int signal;                /**< the signal that killed the child, when PRISON_CHILD_CRASHED */
	int err;                   /**< errno of the failed call, for the failures that have one */
	char message[256];         /**< for errors: what went wrong, naming the value, limit or path
	                                at fault and the failed call's strerror; "" when exited */
};

/**
 * @brief Runs callback(arg) in a child with its own namespaces and root.
 *
 * Checks the configuration first (nothing is created for a bad one): a host
 * name of 1 to PRISON_HOSTNAME_MAX characters, a rootfs that is an existing
 * directory, namespaces among PRISON_NAMESPACES including CLONE_NEWUTS (else
 * the host name would be set on the machine itself), id maps only with
 * CLONE_NEWUSER and with a count of at least 1, CLONE_NEWNS with
 * CLONE_NEWUSER (chroot needs it there).  The message of a refusal names
 * what is at fault: the limit (64) for a host name too long, the path for a
 * bad rootfs, CLONE_NEWUTS when it is missing.
 *
 * Then clones the child with the namespaces and SIGCHLD on a heap stack of
 * PRISON_STACK_SIZE bytes.  With CLONE_NEWUSER the parent writes the id maps
 * (after "deny" to setgroups) while the child waits on a pipe.  The child sets
 * the host name, chroot()s into rootfs and chdir()s to its /, then runs the
 * callback and exits with its return value.  The parent waits for it (again
 * after EINTR), so that no zombie is left.
 *
 * @param config   the prison to build
 * @param callback what runs inside; its return value is the exit code
 * @param arg      passed to callback
 * @return PRISON_EXITED with the code, or an error kind with its message
 */
struct prison_result namespace_prison(const struct prison_config *config, int (*callback)(void *),
				      void *arg);

/**
 * @brief namespace_prison() for a user without privileges.
 *
 * Adds CLONE_NEWUSER to config->namespaces: the user namespace is created
 * first, the child is root in it (by default the caller's uid and gid are
 * mapped to 0), and the PID, UTS, mount and IPC namespaces it owns need no
 * privilege on the machine.
 *
 * @param config   as for namespace_prison(); CLONE_NEWNS is required
 * @param callback what runs inside
 * @param arg      passed to callback
 * @return as namespace_prison()
 */
struct prison_result namespace_prison_unprivileged(const struct prison_config *config,
						   int (*callback)(void *), void *arg);

#endif
