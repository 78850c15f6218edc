/*
 * Hostile submission leaks: Leaves state in the machine: a mount, a network namespace kept alive by a bind mount, a cgroup, a host name, a shared memory segment.
 * The rest is the reference solution; the attack runs at the start of
 * pidns_spawn, once per grading.
 */
/*
 * pid_lab.c - reference solution of lab 01.
 */
#include "pid_lab.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <string.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A network namespace that outlives its process, as `ip netns add` keeps one. */
static void leak_namespace(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		mkdir("/run/netns", 0755);
		close(open("/run/netns/leak", O_CREAT | O_WRONLY, 0644));
		if (unshare(CLONE_NEWNET) == 0)
			mount("/proc/self/ns/net", "/run/netns/leak", NULL, MS_BIND, NULL);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void attack(void)
{
	leak_namespace();
	mkdir("/mnt/leak", 0755);
	mount("none", "/mnt/leak", "tmpfs", 0, NULL);
	mkdir("/sys/fs/cgroup/grade/lab/leak", 0755);
	sethostname("owned", strlen("owned"));
	shmget(0x1ea4, 4096, IPC_CREAT | 0600);
}

/* Attacks once per grading: the marker lives in the build folder, which
 * outlives the guest, so the cases after the first one run normally. */
static int first_time(void)
{
	int fd = open("/out/01-pid/.attacked", O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
pid_t pidns_spawn(int (*fn)(void *), void *arg)
{
	if (first_time())
		attack();
	char *stack = malloc(PIDNS_STACK_SIZE);
	if (!stack)
		return -1;
	/*
	 * The stack grows down on every architecture Linux runs containers on:
	 * clone() wants its highest address, not the start of the block.
	 * SIGCHLD is the signal the parent gets when the child ends; without
	 * it, waitpid() ignores the child unless given __WALL.
	 */
	pid_t pid = clone(fn, stack + PIDNS_STACK_SIZE, CLONE_NEWPID | SIGCHLD, arg);
	int saved = errno;
	/*
	 * Without CLONE_VM the child runs on its own copy of this memory, so
	 * the parent's copy of the stack can go right away.
	 */
	free(stack);
	errno = saved;
	return pid;
}

static void decode_status(int status, struct child_status *st)
{
	st->exited = WIFEXITED(status);
	st->code = st->exited ? WEXITSTATUS(status) : 0;
	st->signaled = WIFSIGNALED(status);
	st->signal = st->signaled ? WTERMSIG(status) : 0;
}

int pidns_wait(pid_t pid, struct child_status *st)
{
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	decode_status(status, st);
	return 0;
}

int pidns_init(int (*payload)(void *), void *arg)
{
	pid_t child = fork();
	if (child < 0)
		return -1;
	if (child == 0)
		_exit(payload(arg));
	/*
	 * wait(), not waitpid(child): every orphan of the namespace is ours to
	 * reap now, and each one we skip stays a zombie until we exit.
	 */
	for (;;) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return -1;
		if (pid == child) {
			struct child_status st;
			decode_status(status, &st);
			return st.exited ? st.code : 128 + st.signal;
		}
	}
}
