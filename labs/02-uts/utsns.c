/*
 * utsns.c - the provided driver of lab 02 (do not change it: the grader uses
 * its own copy).  It calls your uts_lab.c and reports what happened, so that
 * the graded cases can compare it with what the kernel shows from outside.
 *
 *   utsns [OPTIONS] run HOSTNAME DOMAINNAME
 *       uts_spawn() a payload that prints "payload: hostname H domainname D"
 *       (what uname() says inside), then returns 0.  The driver prints
 *       "spawned PID" or "error: uts_spawn: ...", then "exited N" or
 *       "signaled N" once the payload has ended.
 *   utsns [OPTIONS] join PID
 *       uts_join(PID), then prints "joined: hostname H domainname D".
 *   utsns batch
 *       reads host names on stdin, one a line, and tries each in turn: a
 *       uts_spawn() with domain name "batch.test" whose payload sends back
 *       the host name it sees.  One line per name: "accepted SEEN" or
 *       "refused ERRNO-NAME" (e.g. "refused EINVAL").
 *
 * Options:
 *   --hold               once done, print "ready" and wait to be killed: in
 *                        run, the payload does it (or the driver, after an
 *                        error); in join, the driver does it.
 *   --deny-sethostname   first install a seccomp filter that makes every
 *                        sethostname() of this process and of its children
 *                        fail with EPERM, as a container policy may do.
 */
#include "uts_lab.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "utsns: add this architecture's AUDIT_ARCH_ value"
#endif

static int hold;

static void hold_if_asked(void)
{
	if (!hold)
		return;
	printf("ready\n");
	for (;;)
		pause(); /* until a signal kills it */
}

static void print_error(const char *what)
{
	int err = errno;
	printf("error: %s: %s (%s)\n", what, strerrorname_np(err) ? strerrorname_np(err) : "?",
	       strerror(err));
}

static int payload_show(void *arg)
{
	struct utsname u;
	(void)arg;
	if (uname(&u) != 0) {
		print_error("payload: uname");
		return 1;
	}
	printf("payload: hostname %s domainname %s\n", u.nodename, u.domainname);
	hold_if_asked();
	return 0;
}

static int report_end(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			print_error("waitpid");
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
	struct uts_config cfg = {hostname, domainname};
	pid_t pid = uts_spawn(&cfg, payload_show, NULL);
	if (pid < 0) {
		int err = errno;
		const char *why = uts_config_error(&cfg);
		errno = err;
		print_error("uts_spawn");
		if (err == EINVAL && why)
			printf("invalid: %s\n", why);
		hold_if_asked();
		return 1;
	}
	printf("spawned %d\n", pid);
	return report_end(pid);
}

static int do_join(pid_t pid)
{
	if (uts_join(pid) != 0) {
		print_error("uts_join");
		hold_if_asked();
		return 1;
	}
	struct utsname u;
	if (uname(&u) != 0) {
		print_error("uname");
		return 1;
	}
	printf("joined: hostname %s domainname %s\n", u.nodename, u.domainname);
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
		print_error("pipe");
		exit(1);
	}
	struct uts_config cfg = {hostname, "batch.test"};
	pid_t pid = uts_spawn(&cfg, payload_send_name, &seen_pipe[1]);
	int err = errno;
	close(seen_pipe[1]);
	if (pid < 0) {
		close(seen_pipe[0]);
		printf("refused %s\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
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

/* A seccomp filter: sethostname() fails with EPERM, every other call runs. */
static int deny_sethostname(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sethostname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int usage(void)
{
	fprintf(stderr, "usage: utsns [--hold] [--deny-sethostname] run HOSTNAME DOMAINNAME\n"
			"       utsns [--hold] join PID\n"
			"       utsns batch    (host names on stdin, one a line)\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* Line-buffered: a clone child gets a copy of the buffer, which must be empty. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	int deny = 0;
	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[1], "--deny-sethostname") == 0)
			deny = 1;
		else
			return usage();
	}
	if (deny && deny_sethostname() != 0) {
		print_error("installing the seccomp filter");
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "run") == 0)
		return do_run(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "join") == 0)
		return do_join((pid_t)strtol(argv[2], NULL, 10));
	if (argc == 2 && strcmp(argv[1], "batch") == 0)
		return do_batch();
	return usage();
}
