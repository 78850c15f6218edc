/**
 * @file ipc_lab.h
 * @brief Lab 04: IPC namespaces - System V objects and POSIX message queues.
 *
 * An IPC namespace holds its own System V objects (shared memory segments,
 * message queues, semaphore sets), found by their key, and its own POSIX
 * message queues, found by their name.  A child cloned with CLONE_NEWIPC
 * starts with none of them: a key that the host uses is free inside.
 *
 * POSIX queues are also files of the mqueue filesystem, usually mounted on
 * /dev/mqueue; a mount of it shows the queues of the IPC namespace that
 * mounted it.  A container therefore mounts a fresh one, in a mount namespace
 * of its own so that the host's mount table is left alone.
 *
 * System V objects outlive the processes that create them: whoever creates
 * one removes it.
 *
 * The handout (labs/04-ipc/README.md) explains each function step by step.
 */
#ifndef IPC_LAB_H
#define IPC_LAB_H

#include <sys/types.h>

/** Size of the stack the child runs on: 1 MiB, allocated on the heap. */
#define IPCNS_STACK_SIZE (1024 * 1024)

/** Where the child mounts its own mqueue filesystem. */
#define IPCNS_MQUEUE_DIR "/dev/mqueue"

/** Size of the shared memory segment of an ipc_set, in bytes. */
#define IPCSET_SHM_SIZE 4096

/** Number of semaphores in the semaphore set of an ipc_set. */
#define IPCSET_NSEMS 1

/** Permissions of the objects of an ipc_set: read and write for the owner. */
#define IPCSET_MODE 0600

/** The three System V objects that share one key; an id is -1 when absent. */
struct ipc_set {
	int shm; /**< shared memory segment id (shmget) */
	int msg; /**< message queue id (msgget) */
	int sem; /**< semaphore set id (semget) */
};

/**
 * @brief Gives the calling process a fresh mqueue filesystem on dir.
 *
 * Meant for a child that is already in new IPC and mount namespaces.  First
 * makes every mount of its mount namespace private (MS_REC | MS_PRIVATE on
 * "/"), so that nothing it mounts propagates back to the host; then mounts
 * a new instance of the mqueue filesystem on dir, which shows the queues of
 * the caller's IPC namespace.
 *
 * @param dir an existing directory, normally IPCNS_MQUEUE_DIR
 * @return 0, or -1 with errno set by the mount(2) that failed
 */
int ipcns_mount_mqueue(const char *dir);

/**
 * @brief Starts fn(arg) in new IPC and mount namespaces, with its own /dev/mqueue.
 *
 * Clones with CLONE_NEWIPC, CLONE_NEWNS and SIGCHLD on an IPCNS_STACK_SIZE
 * heap stack, freed again in the caller.  The child calls
 * ipcns_mount_mqueue(IPCNS_MQUEUE_DIR); if that fails it prints why on
 * stderr (with strerror) and exits with status 127, without running fn.
 * Else it runs fn(arg) and exits with its return value.
 *
 * @param fn  what the child runs
 * @param arg passed to fn
 * @return the child's PID (the caller waits for it with waitpid()), or -1
 *         with errno set (EPERM without CAP_SYS_ADMIN, ENOMEM when the
 *         stack cannot be allocated)
 */
pid_t ipcns_spawn(int (*fn)(void *), void *arg);

/**
 * @brief Creates a shared memory segment, a message queue and a semaphore set with one key.
 *
 * Each is created with IPC_CREAT | IPC_EXCL | IPCSET_MODE, so that a key
 * already in use is refused (EEXIST) rather than silently shared; the
 * segment has IPCSET_SHM_SIZE bytes, the set IPCSET_NSEMS semaphores.
 * All three or none: if one cannot be created, those already created are
 * removed before returning.
 *
 * @param key the key of all three (not IPC_PRIVATE)
 * @param set filled with the three ids; on failure all three are -1
 * @return 0, or -1 with errno set by the call that failed (EEXIST: the key
 *         is taken), and nothing left behind
 */
int ipcset_create(key_t key, struct ipc_set *set);

/**
 * @brief Looks the three objects of a key up, without creating any.
 *
 * Calls shmget, msgget and semget with the key, no IPC_CREAT, and
 * IPCSET_MODE as the permission asked for: the caller means to read and
 * write the objects.  An object that does not exist (ENOENT) is not an
 * error: its id is set to -1.  One that exists but that the caller may not
 * use is (EACCES).
 *
 * @param key the key to look up
 * @param set filled with the ids found, -1 for each one absent
 * @return how many of the three exist (0 to 3), or -1 with errno set for
 *         an error other than ENOENT (EACCES: an object the caller may not
 *         read and write)
 */
int ipcset_open(key_t key, struct ipc_set *set);

/**
 * @brief Removes the objects of a set (IPC_RMID) and marks them absent.
 *
 * Every id that is not -1 is removed, even after a failure with another
 * one, and set to -1 - whether its removal worked or not.
 *
 * @param set the objects to remove
 * @return 0, or -1 with errno set by the first removal that failed (EINVAL:
 *         no such object; EPERM: the caller neither owns nor created it)
 */
int ipcset_remove(struct ipc_set *set);

#endif
