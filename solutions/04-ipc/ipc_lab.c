/*
 * ipc_lab.c - reference solution of lab 04.
 */
#include "ipc_lab.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

int ipcns_mount_mqueue(const char *dir)
{
	/*
	 * The new mount namespace is a copy of the host's, and a copy of a
	 * shared mount stays in the host's peer group: a mount made on top of
	 * it would appear on the host too (systemd makes "/" shared).  Private
	 * first, recursively, then mount.
	 */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	/* A new instance: it shows the queues of the IPC namespace we are in now. */
	return mount("mqueue", dir, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

struct child_args {
	int (*fn)(void *);
	void *arg;
};

static int child_main(void *p)
{
	struct child_args *a = p;
	if (ipcns_mount_mqueue(IPCNS_MQUEUE_DIR) != 0) {
		fprintf(stderr, "ipcns: mounting mqueue on %s: %s\n", IPCNS_MQUEUE_DIR, strerror(errno));
		return 127;
	}
	return a->fn(a->arg);
}

pid_t ipcns_spawn(int (*fn)(void *), void *arg)
{
	struct child_args args = {fn, arg};
	char *stack = malloc(IPCNS_STACK_SIZE);
	if (!stack)
		return -1;
	/*
	 * CLONE_NEWNS with CLONE_NEWIPC: the child must mount its own mqueue
	 * filesystem, and that mount belongs in a mount table of its own.
	 */
	pid_t pid = clone(child_main, stack + IPCNS_STACK_SIZE, CLONE_NEWIPC | CLONE_NEWNS | SIGCHLD, &args);
	int saved = errno;
	free(stack); /* the child runs on its own copy */
	errno = saved;
	return pid;
}

/* Removes one object if present; 0, or -1 with errno set. */
static int remove_shm(int *id)
{
	int rc = *id < 0 ? 0 : shmctl(*id, IPC_RMID, NULL);
	*id = -1;
	return rc;
}

static int remove_msg(int *id)
{
	int rc = *id < 0 ? 0 : msgctl(*id, IPC_RMID, NULL);
	*id = -1;
	return rc;
}

static int remove_sem(int *id)
{
	int rc = *id < 0 ? 0 : semctl(*id, 0, IPC_RMID);
	*id = -1;
	return rc;
}

int ipcset_remove(struct ipc_set *set)
{
	/* Try all three, and report the first failure. */
	int err = 0;
	if (remove_shm(&set->shm) != 0)
		err = errno;
	if (remove_msg(&set->msg) != 0 && err == 0)
		err = errno;
	if (remove_sem(&set->sem) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int ipcset_create(key_t key, struct ipc_set *set)
{
	/*
	 * IPC_EXCL: without it a key already in use hands back the existing
	 * object - someone else's - as if we had made it.
	 */
	int flags = IPC_CREAT | IPC_EXCL | IPCSET_MODE;
	set->shm = set->msg = set->sem = -1;
	set->shm = shmget(key, IPCSET_SHM_SIZE, flags);
	if (set->shm >= 0)
		set->msg = msgget(key, flags);
	if (set->msg >= 0)
		set->sem = semget(key, IPCSET_NSEMS, flags);
	if (set->sem >= 0)
		return 0;
	/* All or nothing: these objects would outlive us, nobody knowing their ids. */
	int err = errno;
	ipcset_remove(set);
	errno = err;
	return -1;
}

/* One lookup: the id, -1 if absent; *failed set for any other error. */
static int lookup(int id, int *found, int *failed)
{
	if (id >= 0)
		(*found)++;
	else if (errno != ENOENT)
		*failed = errno;
	return id;
}

int ipcset_open(key_t key, struct ipc_set *set)
{
	/*
	 * No IPC_CREAT: a lookup must not make what it looks for.  The mode
	 * asks for read and write permission, which using the objects needs:
	 * one that is there but not ours to use is an error (EACCES).
	 */
	int found = 0, failed = 0;
	set->shm = lookup(shmget(key, 0, IPCSET_MODE), &found, &failed);
	set->msg = lookup(msgget(key, IPCSET_MODE), &found, &failed);
	set->sem = lookup(semget(key, 0, IPCSET_MODE), &found, &failed);
	if (failed) {
		errno = failed;
		return -1;
	}
	return found;
}
