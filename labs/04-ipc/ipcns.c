/*
 * ipcns.c - the provided driver of lab 04 (do not change it: the grader uses
 * its own copy).  It calls your ipc_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside.
 *
 *   ipcns [OPTIONS] roundtrip KEY
 *       in the caller's own namespaces: ipcset_create(KEY), uses the three
 *       objects (writes into the segment, sends and receives a message, ups
 *       and downs the semaphore), then ipcset_remove().  Prints "created
 *       shm ID msg ID sem ID", "used", "removed".  If ipcset_create fails,
 *       the error, then what it left in the set: "set shm ID msg ID sem ID".
 *   ipcns [OPTIONS] open KEY
 *       in the caller's own namespaces: ipcset_open(KEY), then "found N shm
 *       ID msg ID sem ID".
 *   ipcns [OPTIONS] remove SHM MSG SEM
 *       ipcset_remove() of a set holding those ids, then "removed" (or the
 *       error), then what it left in the set: "set shm ID msg ID sem ID".
 *   ipcns [OPTIONS] isolated KEY
 *       ipcns_spawn() a payload that, in its new namespaces, prints "inside
 *       found N" (ipcset_open(KEY)), then "inside created shm ID msg ID sem
 *       ID" (ipcset_create(KEY)), then "inside reopened found N shm ID msg ID
 *       sem ID" (ipcset_open(KEY) again), uses them and leaves a trace in
 *       each (the segment stays attached, one message stays queued, the
 *       semaphore is left at 1): "inside used".  Without --hold it then
 *       removes them: "inside removed".
 *   ipcns [OPTIONS] cycle KEY
 *       ipcns_spawn() a payload that creates the objects of KEY and removes
 *       them at once: "inside created ...", "inside removed", "inside set shm
 *       ID msg ID sem ID" (what ipcset_remove left in the set).
 *   ipcns [OPTIONS] mqueue NAME
 *       ipcns_spawn() a payload that lists IPCNS_MQUEUE_DIR ("inside queues:
 *       A B" or "inside queues: (none)"), then creates the POSIX message
 *       queue /NAME: "inside created /NAME".  Without --hold it then unlinks it.
 *   ipcns [OPTIONS] remount DIR
 *       ipcns_spawn() a payload that calls ipcns_mount_mqueue(DIR) once more,
 *       in its own namespaces: "inside mounted DIR", or the error.
 *   ipcns [OPTIONS] mount-denied DIR
 *       first makes every mount() of the driver fail with EPERM (as
 *       --deny-mount does), then calls ipcns_mount_mqueue(DIR) right here:
 *       "mounted DIR", or the error.  Nothing can change on the machine.
 *   ipcns [OPTIONS] many N
 *       N times in turn: ipcns_spawn() a payload that returns 0 at once, and
 *       wait for it.  Then "spawned N children".
 *
 * The driver prints "spawned PID" (what ipcns_spawn returned), then "exited
 * N" or "signaled N" when the payload ends.  KEY may be decimal or 0x-hex.
 * Before each call, a struct ipc_set is filled with 0x5a bytes (ids
 * 1515870810), so that an id left unwritten shows, and errno is set to EDOM,
 * as an earlier failure may have left it.  An error is printed as
 * "error: FUNCTION returned RC, errno NAME (text)" ("inside error: ..." in
 * a payload).
 *
 * Options, before the mode:
 *   --hold             once done (or after an error) the payload, or in
 *                      roundtrip, open, remove and many the driver, prints
 *                      "ready" and waits to be killed.
 *   --deny-mount       a seccomp filter makes every mount() of this process
 *                      and its children fail with EPERM.
 *   --deny-new-mounts  the same for every mount() that is not a change of
 *                      propagation (MS_PRIVATE, MS_SLAVE, MS_SHARED,
 *                      MS_UNBINDABLE): making mounts private works, mounting
 *                      a filesystem does not.
 *   --short-memory     just before ipcns_spawn is called, the address space
 *                      (RLIMIT_AS) is limited to what the driver uses plus
 *                      256 KiB: a 1 MiB allocation fails.
 */
#include "ipc_lab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "ipcns: add this architecture's AUDIT_ARCH_ value"
#endif

/* What a struct ipc_set holds before your function writes it. */
#define FILL 0x5a

static int hold, short_memory;
static key_t key;
static const char *text_arg;
static const char *prefix = ""; /* "inside " in a payload */

/* A static buffer: no allocation is needed to print, even under --short-memory. */
static char out_buffer[8192];

static void hold_if_asked(void)
{
	if (!hold)
		return;
	printf("ready\n");
	for (;;)
		pause(); /* until a signal kills it */
}

static int fail(const char *function, long rc)
{
	int err = errno;
	const char *name = strerrorname_np(err);
	printf("%serror: %s returned %ld, errno %s (%s)\n", prefix, function, rc, name ? name : "?",
	       strerror(err));
	hold_if_asked();
	return 1;
}

/* Before each call: the set full of FILL, errno not 0. */
static void fill(struct ipc_set *set)
{
	memset(set, FILL, sizeof(*set));
	errno = EDOM;
}

static void print_set(const char *what, const struct ipc_set *set)
{
	printf("%s%s shm %d msg %d sem %d\n", prefix, what, set->shm, set->msg, set->sem);
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
		return fail("shmat", -1);
	snprintf(mem, IPCSET_SHM_SIZE, "%s", text);
	*attached = mem;
	struct text_message m = {1, ""};
	snprintf(m.mtext, sizeof(m.mtext), "%s", text);
	if (msgsnd(set->msg, &m, sizeof(m.mtext), IPC_NOWAIT) != 0)
		return fail("msgsnd", -1);
	struct sembuf up = {0, 1, 0};
	if (semop(set->sem, &up, 1) != 0)
		return fail("semop", -1);
	return 0;
}

/* Takes the traces back: detach, receive the message, down the semaphore. */
static int clear_traces(const struct ipc_set *set, void *attached)
{
	if (shmdt(attached) != 0)
		return fail("shmdt", -1);
	struct text_message m;
	if (msgrcv(set->msg, &m, sizeof(m.mtext), 0, IPC_NOWAIT) < 0)
		return fail("msgrcv", -1);
	struct sembuf down = {0, -1, IPC_NOWAIT};
	if (semop(set->sem, &down, 1) != 0)
		return fail("semop", -1);
	return 0;
}

/* ipcset_create, and on failure the error and what was left in the set. */
static int create(struct ipc_set *set)
{
	fill(set);
	int rc = ipcset_create(key, set);
	if (rc != 0) {
		int err = errno;
		const char *name = strerrorname_np(err);
		printf("%serror: ipcset_create returned %d, errno %s (%s)\n", prefix, rc, name ? name : "?",
		       strerror(err));
		print_set("set", set);
		hold_if_asked();
		return 1;
	}
	print_set("created", set);
	return 0;
}

/* ipcset_open: "found N shm ID msg ID sem ID". */
static int open_set(const char *what, struct ipc_set *set)
{
	fill(set);
	int found = ipcset_open(key, set);
	if (found < 0 || found > 3)
		return fail("ipcset_open", found);
	printf("%s%s %d shm %d msg %d sem %d\n", prefix, what, found, set->shm, set->msg, set->sem);
	return 0;
}

static int do_roundtrip(void)
{
	struct ipc_set set;
	void *mem;
	if (create(&set) != 0)
		return 1;
	if (leave_traces(&set, "roundtrip", &mem) != 0 || clear_traces(&set, mem) != 0)
		return 1;
	printf("used\n");
	errno = EDOM;
	int rc = ipcset_remove(&set);
	if (rc != 0)
		return fail("ipcset_remove", rc);
	printf("removed\n");
	hold_if_asked();
	return 0;
}

static int do_open(void)
{
	struct ipc_set set;
	if (open_set("found", &set) != 0)
		return 1;
	hold_if_asked();
	return 0;
}

static int do_remove(char **ids)
{
	struct ipc_set set = {(int)strtol(ids[0], NULL, 0), (int)strtol(ids[1], NULL, 0),
			      (int)strtol(ids[2], NULL, 0)};
	errno = EDOM;
	int rc = ipcset_remove(&set);
	if (rc == 0) {
		printf("removed\n");
	} else {
		int err = errno;
		const char *name = strerrorname_np(err);
		printf("error: ipcset_remove returned %d, errno %s (%s)\n", rc, name ? name : "?", strerror(err));
	}
	print_set("set", &set);
	hold_if_asked();
	return rc == 0 ? 0 : 1;
}

static int payload_isolated(void *arg)
{
	struct ipc_set set, again;
	void *mem;
	(void)arg;
	prefix = "inside ";
	if (open_set("found", &set) != 0 || create(&set) != 0 || open_set("reopened found", &again) != 0)
		return 1;
	if (leave_traces(&set, "inside", &mem) != 0)
		return 1;
	printf("inside used\n");
	hold_if_asked();
	if (clear_traces(&set, mem) != 0)
		return 1;
	errno = EDOM;
	int rc = ipcset_remove(&set);
	if (rc != 0)
		return fail("ipcset_remove", rc);
	printf("inside removed\n");
	return 0;
}

static int payload_cycle(void *arg)
{
	struct ipc_set set;
	(void)arg;
	prefix = "inside ";
	if (create(&set) != 0)
		return 1;
	errno = EDOM;
	int rc = ipcset_remove(&set);
	if (rc != 0)
		return fail("ipcset_remove", rc);
	printf("inside removed\n");
	print_set("set", &set);
	hold_if_asked();
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
	if (!dir) {
		perror("ipcns: opendir " IPCNS_MQUEUE_DIR);
		return 1;
	}
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
	snprintf(path, sizeof(path), "/%s", text_arg);
	mqd_t q = mq_open(path, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	if (q == (mqd_t)-1) {
		perror("ipcns: mq_open");
		return 1;
	}
	printf("inside created %s\n", path);
	hold_if_asked();
	mq_close(q);
	if (mq_unlink(path) != 0) {
		perror("ipcns: mq_unlink");
		return 1;
	}
	return 0;
}

static int payload_remount(void *arg)
{
	(void)arg;
	prefix = "inside ";
	errno = EDOM;
	int rc = ipcns_mount_mqueue(text_arg);
	if (rc != 0)
		return fail("ipcns_mount_mqueue", rc);
	printf("inside mounted %s\n", text_arg);
	hold_if_asked();
	return 0;
}

static int payload_quick(void *arg)
{
	(void)arg;
	return 0;
}

/* What the process maps now, in bytes (VmSize). */
static long mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

static int spawn_and_wait(int (*payload)(void *))
{
	if (short_memory) {
		struct rlimit as = {mapped_bytes() + 256 * 1024, RLIM_INFINITY};
		if (setrlimit(RLIMIT_AS, &as) != 0)
			perror("ipcns: setrlimit(RLIMIT_AS)");
	}
	errno = EDOM;
	pid_t pid = ipcns_spawn(payload, NULL);
	if (pid <= 0)
		return fail("ipcns_spawn", pid);
	printf("spawned %d\n", pid);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("ipcns: waitpid");
			return 1;
		}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int do_many(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = ipcns_spawn(payload_quick, NULL);
		if (pid <= 0)
			return fail("ipcns_spawn", pid);
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	printf("spawned %ld children\n", n);
	hold_if_asked();
	return 0;
}

/* A seccomp filter: mount() fails with EPERM, every mount or, with
 * only_new, every mount that is no change of propagation. */
static int deny_mounts(int only_new)
{
	const unsigned int propagation = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* the low half of the flags, argument 3 (little-endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, only_new ? propagation : 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int do_mount_denied(const char *dir)
{
	if (deny_mounts(0) != 0) {
		perror("ipcns: installing the seccomp filter");
		return 2;
	}
	errno = EDOM;
	int rc = ipcns_mount_mqueue(dir);
	if (rc != 0)
		return fail("ipcns_mount_mqueue", rc);
	printf("mounted %s\n", dir);
	hold_if_asked();
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ipcns [OPTIONS] roundtrip KEY | open KEY | remove SHM MSG SEM | isolated KEY\n"
			"                 | cycle KEY | mqueue NAME | remount DIR | mount-denied DIR | many N\n"
			"options: --hold --deny-mount --deny-new-mounts --short-memory\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* Line-buffered: a clone child gets a copy of the buffer, which must be empty. */
	setvbuf(stdout, out_buffer, _IOLBF, sizeof(out_buffer));
	int deny = -1;
	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[1], "--deny-mount") == 0)
			deny = 0;
		else if (strcmp(argv[1], "--deny-new-mounts") == 0)
			deny = 1;
		else if (strcmp(argv[1], "--short-memory") == 0)
			short_memory = 1;
		else
			return usage();
	}
	if (deny >= 0 && deny_mounts(deny) != 0) {
		perror("ipcns: installing the seccomp filter");
		return 2;
	}
	if (argc == 5 && strcmp(argv[1], "remove") == 0)
		return do_remove(argv + 2);
	if (argc != 3)
		return usage();
	text_arg = argv[2];
	key = (key_t)strtol(argv[2], NULL, 0);
	if (strcmp(argv[1], "roundtrip") == 0)
		return do_roundtrip();
	if (strcmp(argv[1], "open") == 0)
		return do_open();
	if (strcmp(argv[1], "isolated") == 0)
		return spawn_and_wait(payload_isolated);
	if (strcmp(argv[1], "cycle") == 0)
		return spawn_and_wait(payload_cycle);
	if (strcmp(argv[1], "mqueue") == 0)
		return spawn_and_wait(payload_mqueue);
	if (strcmp(argv[1], "remount") == 0)
		return spawn_and_wait(payload_remount);
	if (strcmp(argv[1], "mount-denied") == 0)
		return do_mount_denied(text_arg);
	if (strcmp(argv[1], "many") == 0)
		return do_many(strtol(argv[2], NULL, 10));
	return usage();
}
