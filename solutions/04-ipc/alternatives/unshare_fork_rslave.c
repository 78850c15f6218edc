/*
 * ipc_lab.c - accepted alternative: fork(2) then unshare(2) in the child,
 * mounts made slaves rather than private, and a goto-based rollback.
 *
 * unshare(CLONE_NEWIPC | CLONE_NEWNS) moves the forked child itself into new
 * namespaces; the parent stays where it was.  MS_SLAVE also stops the
 * child's mounts from propagating back to the host, while still letting the
 * host's later mounts reach the child (what `unshare --propagation slave`
 * does); either is right for this lab.
 */
#include "ipc_lab.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

int ipcns_mount_mqueue(const char *dir)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
		return -1;
	return mount("mqueue", dir, "mqueue", 0, NULL);
}

static void run_child(int (*fn)(void *), void *arg)
{
	if (unshare(CLONE_NEWIPC | CLONE_NEWNS) != 0) {
		fprintf(stderr, "ipcns: unshare: %s\n", strerror(errno));
		_exit(127);
	}
	if (ipcns_mount_mqueue(IPCNS_MQUEUE_DIR) != 0) {
		fprintf(stderr, "ipcns: mounting mqueue on %s: %s\n", IPCNS_MQUEUE_DIR, strerror(errno));
		_exit(127);
	}
	_exit(fn(arg));
}

pid_t ipcns_spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid == 0)
		run_child(fn, arg);
	return pid;
}

int ipcset_create(key_t key, struct ipc_set *set)
{
	const int flags = IPC_CREAT | IPC_EXCL | IPCSET_MODE;
	int err;
	set->shm = set->msg = set->sem = -1;
	if ((set->shm = shmget(key, IPCSET_SHM_SIZE, flags)) < 0)
		return -1;
	if ((set->msg = msgget(key, flags)) < 0)
		goto undo_shm;
	if ((set->sem = semget(key, IPCSET_NSEMS, flags)) < 0)
		goto undo_msg;
	return 0;
undo_msg:
	err = errno;
	msgctl(set->msg, IPC_RMID, NULL);
	set->msg = -1;
	errno = err;
undo_shm:
	err = errno;
	shmctl(set->shm, IPC_RMID, NULL);
	set->shm = -1;
	errno = err;
	return -1;
}

int ipcset_open(key_t key, struct ipc_set *set)
{
	/* Asking for read and write permission: an object we may not use is EACCES. */
	int ids[3], errs[3];
	ids[0] = shmget(key, 0, IPCSET_MODE);
	errs[0] = errno;
	ids[1] = msgget(key, IPCSET_MODE);
	errs[1] = errno;
	ids[2] = semget(key, 0, IPCSET_MODE);
	errs[2] = errno;
	int found = 0;
	for (int i = 0; i < 3; i++) {
		if (ids[i] >= 0)
			found++;
		else if (errs[i] != ENOENT) {
			errno = errs[i];
			return -1;
		}
	}
	set->shm = ids[0];
	set->msg = ids[1];
	set->sem = ids[2];
	return found;
}

int ipcset_remove(struct ipc_set *set)
{
	int first_err = 0;
	if (set->shm >= 0 && shmctl(set->shm, IPC_RMID, NULL) != 0)
		first_err = errno;
	if (set->msg >= 0 && msgctl(set->msg, IPC_RMID, NULL) != 0 && !first_err)
		first_err = errno;
	if (set->sem >= 0 && semctl(set->sem, 0, IPC_RMID) != 0 && !first_err)
		first_err = errno;
	set->shm = set->msg = set->sem = -1;
	if (first_err) {
		errno = first_err;
		return -1;
	}
	return 0;
}
