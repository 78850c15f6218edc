/*
 * utsns.c - the provided driver of lab 02 (do not change it: the grader uses
 * its own copy).  It calls your uts_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside.
 *
 *   utsns [OPTIONS] run HOSTNAME DOMAINNAME
 *       uts_spawn() a payload that prints "payload: hostname H domainname D"
 *       (what uname() says inside), then returns 0.  The driver prints
 *       "spawned PID", then "exited N" or "signaled N" once the payload has
 *       ended.
 *   utsns [OPTIONS] check HOSTNAME DOMAINNAME
 *       prints what uts_config_error() says: "valid" or "invalid: REASON".
 *   utsns [OPTIONS] join PID|self
 *       uts_join(PID), then prints "joined: hostname H domainname D".
 *   utsns [OPTIONS] many N
 *       N times in turn: uts_spawn() a payload that returns 0 at once, and
 *       wait for it.  Then prints "spawned N children".
 *   utsns batch
 *       reads host names on stdin, one a line, and tries each in turn: a
 *       uts_spawn() with domain name "batch.test" whose payload sends back
 *       the host name it sees.  One line per name: "accepted SEEN" or
 *       "refused ERRNO-NAME" (e.g. "refused EINVAL").
 *
 * A name given as "(null)" is passed as NULL; "(unterminated)" is 65 bytes
 * with no NUL after them, at the very end of readable memory: reading one
 * byte further crashes.
 *
 * An error is printed as "error: FUNCTION returned RC, errno NAME (text)";
 * after uts_spawn refused a configuration with EINVAL, "invalid: REASON"
 * follows (what uts_config_error says).
 *
 * Options, before the mode:
 *   --hold                once done, print "ready" and wait to be killed: in
 *                         run, the payload does it (or the driver, after an
 *                         error); in join and many, the driver does it.
 *   --deny-sethostname    a seccomp filter makes every sethostname() of this
 *                         process and of its children fail with EPERM, as a
 *                         container policy may do.
 *   --deny-setdomainname  the same for setdomainname().
 *   --stall-sethostname   every sethostname() of a child is held 200 ms by a
 *                         supervisor (a seccomp user notification), then runs.
 *   --kill-at-sethostname every sethostname() of a child is held 200 ms, then
 *                         the child is killed with SIGKILL.
 *   --stall-exit          every exit of a process (the driver's own too) is
 *                         held 200 ms by the supervisor, then goes on: a
 *                         child takes that long to end.
 *   --interrupt           a SIGALRM arrives every 20 ms, its handler installed
 *                         without SA_RESTART: any blocking call may fail
 *                         with EINTR.
 *   --no-fds              just before your function is called, the limit on
 *                         open files (RLIMIT_NOFILE) is lowered so that no
 *                         new file descriptor can be opened (EMFILE).
 *   --short-memory        just before your function is called, the address
 *                         space (RLIMIT_AS) is limited to what the driver
 *                         uses plus 256 KiB: a 1 MiB allocation fails.
 *   --close-stdin         fd 0 is closed before your function is called.
 */
#include "uts_lab.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "utsns: add this architecture's AUDIT_ARCH_ value"
#endif

/* How long the supervisor holds each sethostname(), in milliseconds. */
#define STALL_MS 200

static int hold;
static int no_fds, short_memory, close_stdin;

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

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "?";
}

static int fail(const char *function, long rc)
{
	int err = errno;
	printf("error: %s returned %ld, errno %s (%s)\n", function, rc, errno_name(err), strerror(err));
	return 1;
}

/* ------------------------------------------------------ error injection */

/* The lowest file descriptor not open. */
static int lowest_free_fd(void)
{
	int fd = 0;
	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
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

/* Called right before the lab's function: the limits the options ask for. */
static void inject_before_call(void)
{
	if (close_stdin)
		close(0);
	if (short_memory) {
		struct rlimit as = {mapped_bytes() + 256 * 1024, RLIM_INFINITY};
		if (setrlimit(RLIMIT_AS, &as) != 0)
			perror("utsns: setrlimit(RLIMIT_AS)");
	}
	if (no_fds) {
		struct rlimit files;
		getrlimit(RLIMIT_NOFILE, &files);
		files.rlim_cur = (rlim_t)lowest_free_fd();
		if (setrlimit(RLIMIT_NOFILE, &files) != 0)
			perror("utsns: setrlimit(RLIMIT_NOFILE)");
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A SIGALRM every 20 ms, whose handler does not restart system calls. */
static void interrupt_often(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &every, NULL);
}

/* What the seccomp filter does with the two naming calls and with exits. */
static unsigned int on_sethostname = SECCOMP_RET_ALLOW, on_setdomainname = SECCOMP_RET_ALLOW,
		    on_exiting = SECCOMP_RET_ALLOW;
static int kill_at_sethostname;

/* The supervisor thread: answers each held call after STALL_MS. */
static void *supervise(void *arg)
{
	int listener = *(int *)arg;
	struct seccomp_notif_sizes sizes;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
		return NULL;
	struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
	if (!req || !resp)
		return NULL;
	for (;;) {
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
			continue; /* the caller died meanwhile, or a signal */
		struct timespec stall = {0, STALL_MS * 1000000L};
		while (nanosleep(&stall, &stall) != 0)
			;
		if (kill_at_sethostname && req->data.nr == SYS_sethostname) {
			kill((pid_t)req->pid, SIGKILL);
			continue;
		}
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	return NULL;
}

/* The seccomp filter the --deny, --stall and --kill options ask for.  The
 * supervisor thread is made after it, so it is filtered too, but it never
 * names anything and never exits. */
static int install_filter(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sethostname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, on_sethostname),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setdomainname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, on_setdomainname),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, on_exiting),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	int supervised = on_sethostname == SECCOMP_RET_USER_NOTIF || on_exiting == SECCOMP_RET_USER_NOTIF;
	static int listener;
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				supervised ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
	if (listener < 0)
		return -1;
	if (!supervised)
		return 0;
	/* The supervisor never takes the SIGALRMs meant for the main thread. */
	sigset_t alarm, old;
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old);
	pthread_t thread;
	int rc = pthread_create(&thread, NULL, supervise, &listener);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	pthread_detach(thread);
	return 0;
}

/* ------------------------------------------------------------------ modes */

/* "(null)" is NULL, "(unterminated)" 65 bytes before unreadable memory. */
static const char *name_arg(const char *arg)
{
	if (strcmp(arg, "(null)") == 0)
		return NULL;
	if (strcmp(arg, "(unterminated)") != 0)
		return arg;
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || mprotect(two + page, page, PROT_NONE) != 0) {
		perror("utsns: mmap");
		exit(2);
	}
	char *name = two + page - (UTS_NAME_MAX + 1);
	memset(name, 'u', UTS_NAME_MAX + 1);
	return name;
}

static int payload_show(void *arg)
{
	struct utsname u;
	(void)arg;
	if (uname(&u) != 0) {
		perror("payload: uname");
		return 1;
	}
	printf("payload: hostname %s domainname %s\n", u.nodename, u.domainname);
	hold_if_asked();
	return 0;
}

static int payload_quick(void *arg)
{
	(void)arg;
	return 0;
}

static int report_end(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("utsns: waitpid");
			return 1;
		}
	}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int do_run(const char *hostname, const char *domainname)
{
	struct uts_config cfg = {name_arg(hostname), name_arg(domainname)};
	inject_before_call();
	pid_t pid = uts_spawn(&cfg, payload_show, NULL);
	if (pid <= 0) {
		int err = errno;
		fail("uts_spawn", pid);
		const char *why = uts_config_error(&cfg);
		if (err == EINVAL && why)
			printf("invalid: %s\n", why);
		hold_if_asked();
		return 1;
	}
	printf("spawned %d\n", pid);
	return report_end(pid);
}

static int do_check(const char *hostname, const char *domainname)
{
	struct uts_config cfg = {name_arg(hostname), name_arg(domainname)};
	const char *why = uts_config_error(&cfg);
	if (why)
		printf("invalid: %s\n", why);
	else
		printf("valid\n");
	return 0;
}

static int do_join(const char *target)
{
	pid_t pid = strcmp(target, "self") == 0 ? getpid() : (pid_t)strtol(target, NULL, 10);
	inject_before_call();
	int rc = uts_join(pid);
	if (rc != 0) {
		fail("uts_join", rc);
		hold_if_asked();
		return 1;
	}
	struct utsname u;
	if (uname(&u) != 0) {
		perror("utsns: uname");
		return 1;
	}
	printf("joined: hostname %s domainname %s\n", u.nodename, u.domainname);
	hold_if_asked();
	return 0;
}

static int do_many(long n)
{
	struct uts_config cfg = {"many", "lab.example"};
	for (long i = 0; i < n; i++) {
		pid_t pid = uts_spawn(&cfg, payload_quick, NULL);
		if (pid <= 0)
			return fail("uts_spawn", pid);
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	printf("spawned %ld children\n", n);
	hold_if_asked();
	return 0;
}

/* Batch payload: sends the host name it sees through the pipe in arg. */
static int payload_send_name(void *arg)
{
	int fd = *(int *)arg;
	struct utsname u;
	if (uname(&u) != 0)
		return 1;
	size_t len = strlen(u.nodename);
	return write(fd, u.nodename, len) == (ssize_t)len ? 0 : 1;
}

static void try_one_name(const char *hostname)
{
	int seen_pipe[2];
	if (pipe(seen_pipe) != 0) {
		perror("utsns: pipe");
		exit(1);
	}
	struct uts_config cfg = {hostname, "batch.test"};
	pid_t pid = uts_spawn(&cfg, payload_send_name, &seen_pipe[1]);
	int err = errno;
	close(seen_pipe[1]);
	if (pid <= 0) {
		close(seen_pipe[0]);
		if (pid == -1)
			printf("refused %s\n", errno_name(err));
		else
			printf("uts_spawn returned %d, errno %s\n", pid, errno_name(err));
		return;
	}
	char seen[UTS_NAME_MAX * 2 + 1];
	size_t len = 0;
	ssize_t got;
	while (len < sizeof(seen) - 1 && (got = read(seen_pipe[0], seen + len, sizeof(seen) - 1 - len)) > 0)
		len += (size_t)got;
	seen[len] = '\0';
	close(seen_pipe[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		printf("accepted %s\n", seen);
	else
		printf("failed: the payload ended with status %d\n", status);
}

static int do_batch(void)
{
	char line[512];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		try_one_name(line);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: utsns [OPTIONS] run HOSTNAME DOMAINNAME\n"
			"       utsns [OPTIONS] check HOSTNAME DOMAINNAME\n"
			"       utsns [OPTIONS] join PID|self\n"
			"       utsns [OPTIONS] many N\n"
			"       utsns batch    (host names on stdin, one a line)\n"
			"options: --hold --deny-sethostname --deny-setdomainname --stall-sethostname\n"
			"         --kill-at-sethostname --stall-exit --interrupt --no-fds --short-memory\n"
			"         --close-stdin\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* Line-buffered: a clone child gets a copy of the buffer, which must be empty. */
	setvbuf(stdout, out_buffer, _IOLBF, sizeof(out_buffer));
	int interrupt = 0;
	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[1], "--deny-sethostname") == 0)
			on_sethostname = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
		else if (strcmp(argv[1], "--deny-setdomainname") == 0)
			on_setdomainname = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
		else if (strcmp(argv[1], "--stall-sethostname") == 0)
			on_sethostname = SECCOMP_RET_USER_NOTIF;
		else if (strcmp(argv[1], "--kill-at-sethostname") == 0)
			on_sethostname = SECCOMP_RET_USER_NOTIF, kill_at_sethostname = 1;
		else if (strcmp(argv[1], "--stall-exit") == 0)
			on_exiting = SECCOMP_RET_USER_NOTIF;
		else if (strcmp(argv[1], "--interrupt") == 0)
			interrupt = 1;
		else if (strcmp(argv[1], "--no-fds") == 0)
			no_fds = 1;
		else if (strcmp(argv[1], "--short-memory") == 0)
			short_memory = 1;
		else if (strcmp(argv[1], "--close-stdin") == 0)
			close_stdin = 1;
		else
			return usage();
	}
	if ((on_sethostname != SECCOMP_RET_ALLOW || on_setdomainname != SECCOMP_RET_ALLOW ||
	     on_exiting != SECCOMP_RET_ALLOW) &&
	    install_filter() != 0) {
		perror("utsns: installing the seccomp filter");
		return 2;
	}
	if (interrupt)
		interrupt_often();
	if (argc == 4 && strcmp(argv[1], "run") == 0)
		return do_run(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return do_check(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "join") == 0)
		return do_join(argv[2]);
	if (argc == 3 && strcmp(argv[1], "many") == 0)
		return do_many(strtol(argv[2], NULL, 10));
	if (argc == 2 && strcmp(argv[1], "batch") == 0)
		return do_batch();
	return usage();
}
