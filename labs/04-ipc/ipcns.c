/*
 * ipcns.c - the provided driver of lab 04 (do not change it: the grader uses
 * its own copy).  It calls your ipc_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside.
 *
 *   ipcns [--hold] roundtrip KEY
 *       in the caller's own namespaces: ipcset_create(KEY), uses the three
 *       objects (writes into the segment, sends and receives a message, ups
 *       and downs the semaphore), then ipcset_remove().  Prints "created
 *       shm ID msg ID sem ID", "used", "removed", or "error: ...".
 *   ipcns [--hold] isolated KEY
 *       ipcns_spawn() a payload that, in its new namespaces, prints "inside
 *       found N" (ipcset_open(KEY)), then "inside created shm ID msg ID sem
 *       ID" (ipcset_create(KEY)), uses them and leaves a trace in each (the
 *       segment stays attached, one message stays queued, the semaphore is
 *       left at 1): "inside used".  Without --hold it then removes them.
 *   ipcns [--hold] mqueue NAME
 *       ipcns_spawn() a payload that lists IPCNS_MQUEUE_DIR ("inside queues:
 *       A B" or "inside queues: (none)"), then creates the POSIX message
 *       queue /NAME: "inside created /NAME".  Without --hold it then unlinks it.
 *
 * The driver prints "spawned PID" (what ipcns_spawn returned), then "exited
 * N" or "signaled N" when the payload ends.  KEY may be decimal or 0x-hex.
 * With --hold, once done (or after an error) the payload, or in roundtrip
 * the driver, prints "ready" and waits to be killed.
 */
#include "ipc_lab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static int hold;
static key_t key;
static const char *queue_name;

static void hold_if_asked(void)
{
	if (!hold)
		return;
	printf("ready\n");
	for (;;)
		pause(); /* until a signal kills it */
}

static int fail(const char *what)
{
	int err = errno;
	printf("error: %s: %s (%s)\n", what, strerrorname_np(err) ? strerrorname_np(err) : "?", strerror(err));
	hold_if_asked();
	return 1;
}

static void print_set(const char *prefix, const struct ipc_set *set)
{
	printf("%screated shm %d msg %d sem %d\n", prefix, set->shm, set->msg, set->sem);
}

struct text_message {
	long mtype;
	char mtext[32];
};

/* Leaves a trace in each object; *attached is the segment, still attached. */
static int leave_traces(const struct ipc_set *set, const char *text, void **attached)
{
	char *mem = shmat(set->shm, NULL, 0);
	if (mem == (void *)-1)
		return fail("shmat");
	snprintf(mem, IPCSET_SHM_SIZE, "%s", text);
	*attached = mem;
	struct text_message m = {1, ""};
	snprintf(m.mtext, sizeof(m.mtext), "%s", text);
	if (msgsnd(set->msg, &m, sizeof(m.mtext), IPC_NOWAIT) != 0)
		return fail("msgsnd");
	struct sembuf up = {0, 1, 0};
	if (semop(set->sem, &up, 1) != 0)
		return fail("semop");
	return 0;
}

/* Takes the traces back: detach, receive the message, down the semaphore. */
static int clear_traces(const struct ipc_set *set, void *attached)
{
	if (shmdt(attached) != 0)
		return fail("shmdt");
	struct text_message m;
	if (msgrcv(set->msg, &m, sizeof(m.mtext), 0, IPC_NOWAIT) < 0)
		return fail("msgrcv");
	struct sembuf down = {0, -1, IPC_NOWAIT};
	if (semop(set->sem, &down, 1) != 0)
		return fail("semop");
	return 0;
}

static int do_roundtrip(void)
{
	struct ipc_set set;
	void *mem;
	if (ipcset_create(key, &set) != 0)
		return fail("ipcset_create");
	print_set("", &set);
	if (leave_traces(&set, "roundtrip", &mem) != 0 || clear_traces(&set, mem) != 0)
		return 1;
	printf("used\n");
	if (ipcset_remove(&set) != 0)
		return fail("ipcset_remove");
	printf("removed\n");
	hold_if_asked();
	return 0;
}

static int payload_isolated(void *arg)
{
	struct ipc_set set;
	void *mem;
	(void)arg;
	int found = ipcset_open(key, &set);
	if (found < 0)
		return fail("ipcset_open");
	printf("inside found %d\n", found);
	if (ipcset_create(key, &set) != 0)
		return fail("ipcset_create");
	print_set("inside ", &set);
	if (leave_traces(&set, "inside", &mem) != 0)
		return 1;
	printf("inside used\n");
	hold_if_asked();
	if (clear_traces(&set, mem) != 0)
		return 1;
	if (ipcset_remove(&set) != 0)
		return fail("ipcset_remove");
	printf("inside removed\n");
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the entries of IPCNS_MQUEUE_DIR, sorted, on one line. */
static int list_queues(void)
{
	DIR *dir = opendir(IPCNS_MQUEUE_DIR);
	if (!dir)
		return fail("opendir " IPCNS_MQUEUE_DIR);
	char *names[64];
	size_t count = 0;
	struct dirent *e;
	while ((e = readdir(dir)) && count < sizeof(names) / sizeof(names[0]))
		if (e->d_name[0] != '.')
			names[count++] = strdup(e->d_name);
	closedir(dir);
	qsort(names, count, sizeof(names[0]), compare_names);
	printf("inside queues:");
	for (size_t i = 0; i < count; i++) {
		printf(" %s", names[i] ? names[i] : "?");
		free(names[i]);
	}
	printf("%s\n", count ? "" : " (none)");
	return 0;
}

static int payload_mqueue(void *arg)
{
	(void)arg;
	if (list_queues() != 0)
		return 1;
	char path[256];
	snprintf(path, sizeof(path), "/%s", queue_name);
	mqd_t q = mq_open(path, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	if (q == (mqd_t)-1)
		return fail("mq_open");
	printf("inside created %s\n", path);
	hold_if_asked();
	mq_close(q);
	if (mq_unlink(path) != 0)
		return fail("mq_unlink");
	return 0;
}

static int spawn_and_wait(int (*payload)(void *))
{
	pid_t pid = ipcns_spawn(payload, NULL);
	if (pid < 0)
		return fail("ipcns_spawn");
	printf("spawned %d\n", pid);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid");
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ipcns [--hold] roundtrip KEY | isolated KEY | mqueue NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* Line-buffered: a clone child gets a copy of the buffer, which must be empty. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += hold;
	argc -= hold;
	if (argc != 3)
		return usage();
	if (strcmp(argv[1], "mqueue") == 0) {
		queue_name = argv[2];
		return spawn_and_wait(payload_mqueue);
	}
	key = (key_t)strtol(argv[2], NULL, 0);
	if (strcmp(argv[1], "roundtrip") == 0)
		return do_roundtrip();
	if (strcmp(argv[1], "isolated") == 0)
		return spawn_and_wait(payload_isolated);
	return usage();
}
