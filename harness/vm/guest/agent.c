/*
 * agent.c - the guest side of the grading VM.
 *
 * It runs as PID 1 of a throwaway QEMU guest and answers the host over one
 * virtio-serial port.  Being PID 1 matters: graded code runs as root in the
 * guest, and the kernel will not deliver SIGKILL to init from inside its own
 * PID namespace, so kill(-1, SIGKILL) takes out everything but the agent.
 *
 * Protocol: every message is a 4-byte big-endian length followed by that many
 * bytes of fields, each field a pair of netstrings ("3:key,5:value,").
 * Requests carry an "op"; answers carry "ok" (1 or 0) and, on failure,
 * "errno" and "error".
 *
 *   ping                            -> ok
 *   spawn argv env cwd stdin uid gid cap flood
 *                                   -> id pid   (the job runs in its own
 *                                      session and in the job cgroup)
 *   wait id timeout_ms kill        -> done=0, or done=1 with exit|signal,
 *                                      out err out_total err_total flood ms
 *   peek id                         -> running=0|1, out err so far
 *   signal id sig                   -> signals the job's process group
 *   cleanup                         -> kills every job process (cgroup.kill)
 *   read path max | readlink path | listdir path | stat path
 *   write path data mode            -> file access as root in the guest
 *   ps                              -> one line per user-space process:
 *                                      "pid ppid state comm"
 *
 * Only one request is in flight at a time; "wait" is answered when its job
 * ends or its time runs out, and meanwhile the loop keeps draining output.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 64
#define MAX_FIELDS 64
#define MAX_MSG (64u << 20)
#define JOB_CGROUP "/sys/fs/cgroup/grade/job/cgroup.procs"
#define KILL_ALL "/sys/fs/cgroup/grade/cgroup.kill"

/* ---------------------------------------------------------------- buffers */

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		/* PID 1 must not die: an out-of-memory guest is reported by the
		 * host as a crashed VM, which is what it is. */
		_exit(111);
	}
	b->data = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ----------------------------------------------------------- messages */

struct field {
	const char *key;
	const char *val;
	size_t klen, vlen;
};

struct msg {
	struct field f[MAX_FIELDS];
	int n;
};

/* Parses one netstring at *p; returns 0 and advances, or -1 if malformed. */
static int netstring(const char **p, const char *end, const char **s, size_t *n)
{
	size_t len = 0;
	const char *q = *p;
	if (q >= end || *q < '0' || *q > '9')
		return -1;
	while (q < end && *q >= '0' && *q <= '9') {
		len = len * 10 + (size_t)(*q - '0');
		if (len > MAX_MSG)
			return -1;
		q++;
	}
	if (q >= end || *q != ':' || (size_t)(end - q - 1) < len + 1 || q[1 + len] != ',')
		return -1;
	*s = q + 1;
	*n = len;
	*p = q + 2 + len;
	return 0;
}

static int msg_parse(struct msg *m, const char *p, size_t len)
{
	const char *end = p + len;
	m->n = 0;
	while (p < end) {
		if (m->n == MAX_FIELDS)
			return -1;
		struct field *f = &m->f[m->n++];
		if (netstring(&p, end, &f->key, &f->klen) || netstring(&p, end, &f->val, &f->vlen))
			return -1;
	}
	return 0;
}

static const struct field *msg_get(const struct msg *m, const char *key)
{
	size_t k = strlen(key);
	for (int i = 0; i < m->n; i++)
		if (m->f[i].klen == k && memcmp(m->f[i].key, key, k) == 0)
			return &m->f[i];
	return NULL;
}

/* A field as a NUL-terminated string (malloc'd), or NULL if absent. */
static char *msg_str(const struct msg *m, const char *key)
{
	const struct field *f = msg_get(m, key);
	if (!f)
		return NULL;
	char *s = malloc(f->vlen + 1);
	if (!s)
		_exit(111);
	memcpy(s, f->val, f->vlen);
	s[f->vlen] = '\0';
	return s;
}

static long long msg_int(const struct msg *m, const char *key, long long dflt)
{
	char *s = msg_str(m, key);
	if (!s)
		return dflt;
	long long v = strtoll(s, NULL, 10);
	free(s);
	return v;
}

/* A field holding NUL-separated strings, as a NULL-terminated vector. */
static char **msg_vec(const struct msg *m, const char *key)
{
	const struct field *f = msg_get(m, key);
	if (!f || f->vlen == 0)
		return NULL;
	size_t count = 1;
	for (size_t i = 0; i < f->vlen; i++)
		count += f->val[i] == '\0';
	char **v = calloc(count + 1, sizeof(*v));
	char *copy = malloc(f->vlen + 1);
	if (!v || !copy)
		_exit(111);
	memcpy(copy, f->val, f->vlen);
	copy[f->vlen] = '\0';
	size_t n = 0;
	for (char *s = copy; s < copy + f->vlen + 1 && n < count; s += strlen(s) + 1)
		v[n++] = s;
	v[n] = NULL;
	return v;
}

static struct buf reply;

static void put(const char *key, const void *val, size_t n)
{
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "%zu:", strlen(key));
	buf_add(&reply, hdr, (size_t)h);
	buf_add(&reply, key, strlen(key));
	buf_add(&reply, ",", 1);
	h = snprintf(hdr, sizeof(hdr), "%zu:", n);
	buf_add(&reply, hdr, (size_t)h);
	buf_add(&reply, val, n);
	buf_add(&reply, ",", 1);
}

static void put_str(const char *key, const char *s)
{
	put(key, s, strlen(s));
}

static void put_int(const char *key, long long v)
{
	char s[32];
	snprintf(s, sizeof(s), "%lld", v);
	put_str(key, s);
}

static void put_error(int err, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put_str("ok", "0");
	put_int("errno", err);
	put_str("error", text);
}

static int port_fd = -1;

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				struct pollfd pf = {.fd = fd, .events = POLLOUT};
				poll(&pf, 1, 1000);
				continue;
			}
			return; /* host gone: it will reconnect and ping */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void send_reply(void)
{
	unsigned char hdr[4] = {
		(unsigned char)(reply.len >> 24), (unsigned char)(reply.len >> 16),
		(unsigned char)(reply.len >> 8), (unsigned char)reply.len,
	};
	write_all(port_fd, (const char *)hdr, 4);
	write_all(port_fd, reply.data, reply.len);
	reply.len = 0;
}

/* --------------------------------------------------------------- jobs */

struct job {
	int used;
	long id;
	pid_t pid;
	int out_fd, err_fd;
	struct buf out, err;
	size_t out_total, err_total, cap, flood_limit;
	int flooded, done, status;
	struct timespec start, end;
};

static struct job jobs[MAX_JOBS];
static long next_job_id = 1;

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static struct job *job_find(long id)
{
	for (int i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && jobs[i].id == id)
			return &jobs[i];
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void job_free(struct job *j)
{
	close_fd(&j->out_fd);
	close_fd(&j->err_fd);
	buf_free(&j->out);
	buf_free(&j->err);
	j->used = 0;
}

/* Reads what a job's pipe holds; returns 0 at end of file. */
static int job_drain(struct job *j, int *fd, struct buf *b, size_t *total)
{
	char chunk[65536];
	for (;;) {
		ssize_t r = read(*fd, chunk, sizeof(chunk));
		if (r == 0) {
			close_fd(fd);
			return 0;
		}
		if (r < 0)
			return errno == EINTR ? 1 : (errno == EAGAIN ? 1 : (close_fd(fd), 0));
		*total += (size_t)r;
		if (b->len < j->cap)
			buf_add(b, chunk, (size_t)r < j->cap - b->len ? (size_t)r : j->cap - b->len);
		if (j->out_total + j->err_total > j->flood_limit && !j->flooded) {
			/* Too much output: stop the job and stop listening, so that a
			 * writer left behind gets EPIPE instead of filling the guest. */
			j->flooded = 1;
			kill(-j->pid, SIGKILL);
			close_fd(&j->out_fd);
			close_fd(&j->err_fd);
			return 0;
		}
	}
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = write(fd, text, strlen(text));
		(void)r;
		close(fd);
	}
}

/* In the forked child, before exec: join the job cgroup, own session, ids.
 * Closing `joined` tells the agent the child is in the job cgroup: only then
 * is the spawn answered, so that a case that moves the job elsewhere (into a
 * lab's cgroup, say) is never undone by a late join. */
static void job_child(const struct msg *m, int in_fd, int out_fd, int err_fd, int joined)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	write_file(JOB_CGROUP, "0");
	close(joined);
	dup2(in_fd, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	char *cwd = msg_str(m, "cwd");
	if (cwd && chdir(cwd) != 0) {
		dprintf(2, "agent: chdir %s: %s\n", cwd, strerror(errno));
		_exit(127);
	}
	long long gid = msg_int(m, "gid", -1), uid = msg_int(m, "uid", -1);
	if (gid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0)) {
		dprintf(2, "agent: setgid %lld: %s\n", gid, strerror(errno));
		_exit(127);
	}
	if (uid >= 0 && setuid((uid_t)uid) != 0) {
		dprintf(2, "agent: setuid %lld: %s\n", uid, strerror(errno));
		_exit(127);
	}
	char **argv = msg_vec(m, "argv");
	char **env = msg_vec(m, "env");
	/* Busybox first: its applets are static and start in about 2 ms under
	 * TCG, where the host's dynamic programs from /usr take 30 to 100 ms
	 * (kill, ip, nsenter...); a case that needs the host's tool names it. */
	static char *default_env[] = {"PATH=/bin:/sbin:/usr/sbin:/usr/bin",
				      "HOME=/root", "LANG=C.UTF-8", NULL};
	if (!argv) {
		dprintf(2, "agent: empty argv\n");
		_exit(127);
	}
	/* execvpe searches the PATH of the caller, not of envp. */
	for (char **e = env ? env : default_env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			setenv("PATH", *e + 5, 1);
	execvpe(argv[0], argv, env ? env : default_env);
	dprintf(2, "agent: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void op_spawn(const struct msg *m)
{
	struct job *j = NULL;
	for (int i = 0; i < MAX_JOBS && !j; i++)
		if (!jobs[i].used)
			j = &jobs[i];
	if (!j)
		return put_error(EAGAIN, "too many jobs (%d): run cleanup", MAX_JOBS);
	int in[2], out[2], err[2], joined[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(joined, O_CLOEXEC))
		return put_error(errno, "pipe: %s", strerror(errno));
	const struct field *stdin_data = msg_get(m, "stdin");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
		close(joined[0]), close(joined[1]);
		return put_error(e, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		close(joined[0]);
		job_child(m, in[0], out[1], err[1], joined[1]);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(joined[1]);
	/* EOF once the child has joined the job cgroup (or died trying). */
	char byte;
	while (read(joined[0], &byte, 1) < 0 && errno == EINTR)
		;
	close(joined[0]);
	if (stdin_data && stdin_data->vlen) {
		/* Small payloads only: the pipe buffer holds 64 KiB. */
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		ssize_t w = write(in[1], stdin_data->val, stdin_data->vlen);
		(void)w;
	}
	close(in[1]);
	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->id = next_job_id++;
	j->pid = pid;
	j->out_fd = out[0];
	j->err_fd = err[0];
	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(j->err_fd, F_SETFL, O_NONBLOCK);
	j->cap = (size_t)msg_int(m, "cap", 1 << 20);
	j->flood_limit = (size_t)msg_int(m, "flood", 64 << 20);
	clock_gettime(CLOCK_MONOTONIC, &j->start);
	put_str("ok", "1");
	put_int("id", j->id);
	put_int("pid", pid);
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_JOBS; i++) {
			struct job *j = &jobs[i];
			if (j->used && !j->done && j->pid == pid) {
				j->done = 1;
				j->status = status;
				clock_gettime(CLOCK_MONOTONIC, &j->end);
			}
		}
	}
}

static void put_job_result(struct job *j)
{
	/* The job's last words may still sit in its pipes. */
	if (j->out_fd >= 0)
		job_drain(j, &j->out_fd, &j->out, &j->out_total);
	if (j->err_fd >= 0)
		job_drain(j, &j->err_fd, &j->err, &j->err_total);
	put_str("ok", "1");
	put_str("done", "1");
	if (WIFEXITED(j->status))
		put_int("exit", WEXITSTATUS(j->status));
	else if (WIFSIGNALED(j->status))
		put_int("signal", WTERMSIG(j->status));
	put("out", j->out.data ? j->out.data : "", j->out.len);
	put("err", j->err.data ? j->err.data : "", j->err.len);
	put_int("out_total", (long long)j->out_total);
	put_int("err_total", (long long)j->err_total);
	put_int("flood", j->flooded);
	put_int("ms", (long long)elapsed_ms(&j->start, &j->end));
	job_free(j);
}

/* The one "wait" being answered, if any. */
static struct {
	int active;
	long id;
	int kill_on_timeout, killed;
	struct timespec deadline;
} waiting;

static void op_wait(const struct msg *m)
{
	struct job *j = job_find(msg_int(m, "id", -1));
	if (!j)
		return put_error(ESRCH, "no such job");
	long long ms = msg_int(m, "timeout_ms", 10000);
	waiting.active = 1;
	waiting.id = j->id;
	waiting.kill_on_timeout = (int)msg_int(m, "kill", 0);
	waiting.killed = 0;
	clock_gettime(CLOCK_MONOTONIC, &waiting.deadline);
	waiting.deadline.tv_sec += ms / 1000;
	waiting.deadline.tv_nsec += (ms % 1000) * 1000000;
	if (waiting.deadline.tv_nsec >= 1000000000) {
		waiting.deadline.tv_sec++;
		waiting.deadline.tv_nsec -= 1000000000;
	}
}

/* Called on every turn of the loop: answers the pending wait if it can. */
static void wait_progress(void)
{
	if (!waiting.active)
		return;
	struct job *j = job_find(waiting.id);
	if (!j) {
		waiting.active = 0;
		put_error(ESRCH, "job vanished");
		send_reply();
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int late = elapsed_ms(&waiting.deadline, &now) >= 0;
	if (j->done) {
		waiting.active = 0;
		put_job_result(j);
		if (waiting.killed)
			put_str("timed_out", "1");
		send_reply();
	} else if (late && waiting.kill_on_timeout && !waiting.killed) {
		/* Out of time: kill its process group and give the kernel two
		 * seconds to deliver, then answer whatever happened. */
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		waiting.killed = 1;
		waiting.deadline = now;
		waiting.deadline.tv_sec += 2;
	} else if (late) {
		waiting.active = 0;
		put_str("ok", "1");
		put_str("done", "0");
		if (waiting.killed)
			put_str("timed_out", "1");
		send_reply();
	}
}

static int wait_poll_timeout(void)
{
	if (!waiting.active)
		return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double left = elapsed_ms(&now, &waiting.deadline);
	return left <= 0 ? 0 : (int)left + 1;
}

/* What a job has printed so far, for cases that follow a running program. */
static void op_peek(const struct msg *m)
{
	struct job *j = job_find(msg_int(m, "id", -1));
	if (!j)
		return put_error(ESRCH, "no such job");
	if (j->out_fd >= 0)
		job_drain(j, &j->out_fd, &j->out, &j->out_total);
	if (j->err_fd >= 0)
		job_drain(j, &j->err_fd, &j->err, &j->err_total);
	put_str("ok", "1");
	put_int("running", !j->done);
	put("out", j->out.data ? j->out.data : "", j->out.len);
	put("err", j->err.data ? j->err.data : "", j->err.len);
}

static void op_signal(const struct msg *m)
{
	struct job *j = job_find(msg_int(m, "id", -1));
	if (!j)
		return put_error(ESRCH, "no such job");
	int sig = (int)msg_int(m, "sig", SIGTERM);
	int group = (int)msg_int(m, "group", 1);
	if (!j->done && kill(group ? -j->pid : j->pid, sig) != 0 && errno != ESRCH)
		return put_error(errno, "kill: %s", strerror(errno));
	put_str("ok", "1");
}

/* Whether a cgroup.events file says "populated 1". */
static int cgroup_populated(const char *events)
{
	char text[256];
	int fd = open(events, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return strstr(text, "populated 1") != NULL;
}

/* Kills every process started for the host, however it tried to hide. */
static void op_cleanup(void)
{
	write_file(KILL_ALL, "1");
	for (int i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used && !jobs[i].done)
			kill(-jobs[i].pid, SIGKILL);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int busy;
	do {
		usleep(2000);
		reap();
		/* Done when the kernel says the cgroup is empty: killed processes
		 * of a dying PID namespace take a while to go. */
		busy = cgroup_populated("/sys/fs/cgroup/grade/cgroup.events");
		for (int i = 0; i < MAX_JOBS; i++)
			busy |= jobs[i].used && !jobs[i].done;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (busy && elapsed_ms(&t0, &now) < 3000);
	for (int i = 0; i < MAX_JOBS; i++)
		if (jobs[i].used)
			job_free(&jobs[i]);
	waiting.active = 0;
	put_str("ok", "1");
	put_int("stuck", busy);
}

/* ---------------------------------------------------------- file ops */

static void op_read(const struct msg *m)
{
	char *path = msg_str(m, "path");
	size_t max = (size_t)msg_int(m, "max", 1 << 20);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	if (fd < 0) {
		put_error(errno, "open %s: %s", path ? path : "(null)", strerror(errno));
		free(path);
		return;
	}
	struct buf b = {0};
	char chunk[65536];
	ssize_t r = 0;
	while (b.len < max && (r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)r < max - b.len ? (size_t)r : max - b.len);
	int e = errno;
	close(fd);
	if (r < 0 && b.len == 0) {
		put_error(e, "read %s: %s", path, strerror(e));
	} else {
		put_str("ok", "1");
		put("data", b.data ? b.data : "", b.len);
	}
	buf_free(&b);
	free(path);
}

static void op_write(const struct msg *m)
{
	char *path = msg_str(m, "path");
	const struct field *data = msg_get(m, "data");
	mode_t mode = (mode_t)msg_int(m, "mode", 0644);
	int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) : -1;
	if (fd < 0) {
		put_error(errno, "open %s: %s", path ? path : "(null)", strerror(errno));
	} else {
		size_t off = 0;
		while (data && off < data->vlen) {
			ssize_t w = write(fd, data->val + off, data->vlen - off);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		if (data && off < data->vlen)
			put_error(errno, "write %s: %s", path, strerror(errno));
		else if (fchmod(fd, mode) != 0)
			put_error(errno, "chmod %s: %s", path, strerror(errno));
		else
			put_str("ok", "1");
		close(fd);
	}
	free(path);
}

static void op_readlink(const struct msg *m)
{
	char *path = msg_str(m, "path");
	char target[4096];
	ssize_t n = path ? readlink(path, target, sizeof(target)) : -1;
	if (n < 0) {
		put_error(errno, "readlink %s: %s", path ? path : "(null)", strerror(errno));
	} else {
		put_str("ok", "1");
		put("target", target, (size_t)n);
	}
	free(path);
}

static void op_listdir(const struct msg *m)
{
	char *path = msg_str(m, "path");
	DIR *d = path ? opendir(path) : NULL;
	if (!d) {
		put_error(errno, "opendir %s: %s", path ? path : "(null)", strerror(errno));
		free(path);
		return;
	}
	struct buf names = {0};
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		buf_add(&names, e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	put_str("ok", "1");
	put("names", names.data ? names.data : "", names.len ? names.len - 1 : 0);
	buf_free(&names);
	free(path);
}

static void op_stat(const struct msg *m)
{
	char *path = msg_str(m, "path");
	struct stat st;
	if (!path || lstat(path, &st) != 0) {
		put_error(errno, "lstat %s: %s", path ? path : "(null)", strerror(errno));
	} else {
		put_str("ok", "1");
		put_int("mode", st.st_mode);
		put_int("ino", (long long)st.st_ino);
		put_int("dev", (long long)st.st_dev);
		put_int("rdev_major", major(st.st_rdev));
		put_int("rdev_minor", minor(st.st_rdev));
		put_int("uid", st.st_uid);
		put_int("gid", st.st_gid);
		put_int("size", (long long)st.st_size);
		put_int("nlink", (long long)st.st_nlink);
	}
	free(path);
}

/* /proc/PID/stat's flags field: kernel threads carry PF_KTHREAD. */
#define PF_KTHREAD 0x00200000

static void op_ps(void)
{
	struct buf out = {0};
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], line[1024];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n <= 0)
			continue;
		line[n] = '\0';
		/* "pid (comm) state ppid ..." - comm may hold spaces or ')'. */
		char *open_paren = strchr(line, '('), *close_paren = strrchr(line, ')');
		if (!open_paren || !close_paren)
			continue;
		*close_paren = '\0';
		char state;
		long ppid;
		unsigned long flags;
		if (sscanf(close_paren + 2, "%c %ld %*d %*d %*d %*d %lu", &state, &ppid, &flags) != 3)
			continue;
		if (flags & PF_KTHREAD)
			continue;
		char entry[512];
		int len = snprintf(entry, sizeof(entry), "%s %ld %c %s\n", e->d_name, ppid, state,
				   open_paren + 1);
		buf_add(&out, entry, (size_t)len < sizeof(entry) ? (size_t)len : sizeof(entry) - 1);
	}
	if (d)
		closedir(d);
	put_str("ok", "1");
	put("ps", out.data ? out.data : "", out.len);
	buf_free(&out);
}

/* -------------------------------------------------------------- main */

static void handle(const char *p, size_t len)
{
	struct msg m;
	if (msg_parse(&m, p, len) != 0) {
		put_error(EINVAL, "malformed request");
		send_reply();
		return;
	}
	/* Echo the host's sequence number, so that it can tell a late answer
	 * to an earlier request from the answer it waits for. */
	const struct field *seq = msg_get(&m, "seq");
	if (seq)
		put("seq", seq->val, seq->vlen);
	char *op = msg_str(&m, "op");
	if (!op)
		put_error(EINVAL, "request without op");
	else if (strcmp(op, "ping") == 0)
		put_str("ok", "1");
	else if (strcmp(op, "spawn") == 0)
		op_spawn(&m);
	else if (strcmp(op, "wait") == 0)
		op_wait(&m);
	else if (strcmp(op, "peek") == 0)
		op_peek(&m);
	else if (strcmp(op, "signal") == 0)
		op_signal(&m);
	else if (strcmp(op, "cleanup") == 0)
		op_cleanup();
	else if (strcmp(op, "read") == 0)
		op_read(&m);
	else if (strcmp(op, "write") == 0)
		op_write(&m);
	else if (strcmp(op, "readlink") == 0)
		op_readlink(&m);
	else if (strcmp(op, "listdir") == 0)
		op_listdir(&m);
	else if (strcmp(op, "stat") == 0)
		op_stat(&m);
	else if (strcmp(op, "ps") == 0)
		op_ps();
	else
		put_error(EINVAL, "unknown op %s", op);
	int deferred = op && strcmp(op, "wait") == 0 && waiting.active;
	free(op);
	if (!deferred)
		send_reply();
}

/* The port named "agent" (virtio-serial names it for us in sysfs). */
static int open_port(void)
{
	for (int tries = 0; tries < 500; tries++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char path[512], name[64] = "";
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, name, sizeof(name) - 1);
			close(fd);
			if (n > 0 && strncmp(name, "agent", 5) == 0) {
				snprintf(path, sizeof(path), "/dev/%s", e->d_name);
				closedir(d);
				return open(path, O_RDWR | O_CLOEXEC);
			}
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	return -1;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	port_fd = open_port();
	if (port_fd < 0 || sig_fd < 0) {
		fprintf(stderr, "agent: no virtio port named 'agent': %s\n", strerror(errno));
		for (;;)
			pause();
	}
	/* Tell the console that the guest is ready, for humans watching it. */
	fprintf(stderr, "agent: ready\n");
	struct buf in = {0};
	for (;;) {
		struct pollfd pf[2 + 2 * MAX_JOBS];
		struct job *owner[2 + 2 * MAX_JOBS];
		int n = 0;
		pf[n++] = (struct pollfd){.fd = port_fd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		for (int i = 0; i < MAX_JOBS; i++) {
			struct job *j = &jobs[i];
			if (!j->used)
				continue;
			if (j->out_fd >= 0)
				owner[n] = j, pf[n++] = (struct pollfd){.fd = j->out_fd, .events = POLLIN};
			if (j->err_fd >= 0)
				owner[n] = j, pf[n++] = (struct pollfd){.fd = j->err_fd, .events = POLLIN};
		}
		int r = poll(pf, (nfds_t)n, wait_poll_timeout());
		if (r < 0 && errno != EINTR)
			usleep(1000);
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sig_fd, &si, sizeof(si)) > 0)
				;
			reap();
		}
		for (int i = 2; i < n; i++) {
			if (!pf[i].revents)
				continue;
			struct job *j = owner[i];
			if (pf[i].fd == j->out_fd)
				job_drain(j, &j->out_fd, &j->out, &j->out_total);
			else if (pf[i].fd == j->err_fd)
				job_drain(j, &j->err_fd, &j->err, &j->err_total);
		}
		if (pf[0].revents & (POLLIN | POLLHUP)) {
			char chunk[65536];
			ssize_t got = read(port_fd, chunk, sizeof(chunk));
			if (got > 0)
				buf_add(&in, chunk, (size_t)got);
			else if (pf[0].revents & POLLHUP)
				usleep(20000); /* no host connected: wait for one */
		}
		/* Answer every complete request in the buffer, in order. */
		while (in.len >= 4 && !waiting.active) {
			const unsigned char *h = (const unsigned char *)in.data;
			size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
			if (len > MAX_MSG) {
				in.len = 0; /* garbage: drop it, the host will time out */
				break;
			}
			if (in.len < 4 + len)
				break;
			handle(in.data + 4, len);
			memmove(in.data, in.data + 4 + len, in.len - 4 - len);
			in.len -= 4 + len;
		}
		wait_progress();
	}
}
