/*
 * mntns.c - the provided driver of lab 03 (do not change it: the grader uses
 * its own copy).  It calls your mnt_lab.c and reports what happened; the
 * graded cases compare that with what the kernel shows from outside
 * (/proc/PID/mountinfo, /proc/PID/root, the host's own mount table).
 *
 *   mntns [--hold] isolate DIR       mnt_new_namespace(), then mounts a tmpfs on DIR
 *   mntns [--hold] chroot ROOT       mnt_chroot(ROOT)
 *   mntns [--hold] pivot ROOT        mnt_new_namespace(), then mnt_pivot_root(ROOT)
 *   mntns [--hold] pivot-copy ROOT   a plain unshare(CLONE_NEWNS), then
 *                                    mnt_pivot_root(ROOT): the copy keeps
 *                                    every shared mount below / a peer of the
 *                                    caller's (/ itself must not be shared,
 *                                    nor the mount ROOT is on)
 *   mntns [--hold] escape chroot|pivot ROOT
 *                                    the same, then tries the classic way out of
 *                                    a chroot, and shows where it ended up
 *   mntns [--hold] prop TYPE DIR     TYPE: shared, private, slave or unbindable
 *                                    (or a number, passed as it is).  In a new
 *                                    mount namespace (a plain copy of the
 *                                    caller's), gives the mount DIR that type,
 *                                    mounts a tmpfs on DIR/inside (for
 *                                    unbindable, also tries to bind-mount DIR
 *                                    on DIR/bound), and shows its own mounts
 *                                    under DIR
 *   mntns [--hold] dev DIR           mnt_new_namespace(), then mnt_populate_dev(DIR)
 *   mntns [--hold] container ROOT [CMD [ARG...]]
 *                                    mnt_container_spawn(ROOT): the container
 *                                    runs CMD, or else prints the PIDs its /proc
 *                                    shows, then "container ready", and waits
 *                                    to be killed
 *   mntns [--hold] containers N ROOT mnt_container_spawn(ROOT) N times in turn,
 *                                    each container returning 0 at once, each
 *                                    waited for
 *
 * With --hold, once done (even after an error), it prints "ready" and waits
 * to be killed, so that a case (or you, from another shell) can look at it
 * from outside.
 *
 * A failure of one of your functions is printed as
 * "error: FUNCTION returned RC, errno NAME (text)"; one of the driver's own
 * steps as "error: WHAT: errno NAME (text)".
 */
#include "mnt_lab.h"

#include <sched.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

/* One of the lab's functions failed: what it returned, and errno. */
static int fail(const char *function, long rc)
{
	int err = errno;
	printf("error: %s returned %ld, errno %s (%s)\n", function, rc, strerrorname_np(err), strerror(err));
	return 1;
}

/* One of the driver's own steps failed. */
static int oops(const char *what)
{
	int err = errno;
	printf("error: %s: errno %s (%s)\n", what, strerrorname_np(err), strerror(err));
	return 1;
}

/* The names in a folder, on one line. */
static void list(const char *title, const char *dir)
{
	DIR *d = opendir(dir);
	printf("%s:", title);
	if (!d) {
		printf(" (cannot list %s: %s)\n", dir, strerror(errno));
		return;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			printf(" %s", e->d_name);
	closedir(d);
	printf("\n");
}

/* This process's mounts at or below dir, as mountinfo has them. */
static void show_mounts(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f) {
		printf("(cannot read /proc/self/mountinfo: %s)\n", strerror(errno));
		return;
	}
	char line[1024], point[512];
	size_t len = strlen(dir);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %511s", point) == 1 && strncmp(point, dir, len) == 0 &&
		    (point[len] == '\0' || point[len] == '/'))
			printf("  %s", line);
	fclose(f);
}

/*
 * The classic way out of a chroot, for a process still allowed to call
 * chroot(2): chroot into a subfolder, which leaves the working directory
 * outside the root; from there ".." is never stopped by the root, only by
 * the top of the namespace's mount tree, and chroot(".") makes that the root.
 */
static int break_out(void)
{
	if (chroot("/tmp") != 0)
		return -1;
	for (int i = 0; i < 64; i++)
		if (chdir("..") != 0)
			return -1;
	return chroot(".");
}

static int do_isolate(const char *dir)
{
	int rc = mnt_new_namespace();
	if (rc != 0)
		return fail("mnt_new_namespace", rc);
	if (mount("mntns", dir, "tmpfs", 0, "size=64k") != 0)
		return oops("mounting a tmpfs");
	printf("mounted a tmpfs on %s in a new mount namespace\n", dir);
	show_mounts(dir);
	return 0;
}

static int do_chroot(const char *root)
{
	int rc = mnt_chroot(root);
	if (rc != 0)
		return fail("mnt_chroot", rc);
	char cwd[512];
	printf("root is now %s; working directory %s\n", root,
	       getcwd(cwd, sizeof(cwd)) ? cwd : "(unreachable: outside the root)");
	list("/ holds", "/");
	return 0;
}

static int pivot_to(const char *root)
{
	int rc = mnt_pivot_root(root);
	if (rc != 0)
		return fail("mnt_pivot_root", rc);
	printf("root is now %s\n", root);
	list("/ holds", "/");
	return 0;
}

static int do_pivot(const char *root)
{
	int rc = mnt_new_namespace();
	if (rc != 0)
		return fail("mnt_new_namespace", rc);
	return pivot_to(root);
}

/* Without mnt_new_namespace(): the mounts below / may still be shared. */
static int do_pivot_copy(const char *root)
{
	if (unshare(CLONE_NEWNS) != 0)
		return oops("unshare(CLONE_NEWNS)");
	return pivot_to(root);
}

static int do_escape(const char *how, const char *root)
{
	int status = strcmp(how, "pivot") == 0 ? do_pivot(root) : do_chroot(root);
	if (status != 0)
		return status;
	if (break_out() != 0)
		return oops("breaking out");
	list("after the escape, / holds", "/");
	return 0;
}

/* shared, private, slave, unbindable, or a number as it is; -1 if neither. */
static long propagation_type(const char *name, int *ok)
{
	static const char *names[] = {
		[PROP_SHARED] = "shared",
		[PROP_PRIVATE] = "private",
		[PROP_SLAVE] = "slave",
		[PROP_UNBINDABLE] = "unbindable",
	};
	*ok = 1;
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	char *end;
	long type = strtol(name, &end, 10);
	*ok = *name != '\0' && *end == '\0';
	return type;
}

static int do_prop(const char *name, const char *dir)
{
	int ok;
	long type = propagation_type(name, &ok);
	if (!ok) {
		fprintf(stderr, "mntns: prop shared|private|slave|unbindable|NUMBER DIR\n");
		return 2;
	}
	/* A plain copy: DIR stays a peer of the caller's DIR, if that is shared. */
	if (unshare(CLONE_NEWNS) != 0)
		return oops("unshare(CLONE_NEWNS)");
	int rc = mnt_set_propagation(dir, (enum mnt_propagation)type, 0);
	if (rc != 0)
		return fail("mnt_set_propagation", rc);
	char inside[512], bound[512];
	snprintf(inside, sizeof(inside), "%s/inside", dir);
	snprintf(bound, sizeof(bound), "%s/bound", dir);
	if (mount("inside", inside, "tmpfs", 0, "size=64k") != 0)
		return oops("mounting a tmpfs on DIR/inside");
	if (type == PROP_UNBINDABLE) {
		if (mount(dir, bound, NULL, MS_BIND, NULL) == 0)
			printf("bind-mounting %s: done\n", dir);
		else
			printf("bind-mounting %s: refused (%s)\n", dir, strerror(errno));
	}
	printf("%s made %s; its mounts here:\n", dir, name);
	show_mounts(dir);
	return 0;
}

static int do_dev(const char *dir)
{
	int rc = mnt_new_namespace();
	if (rc != 0)
		return fail("mnt_new_namespace", rc);
	rc = mnt_populate_dev(dir);
	if (rc != 0)
		return fail("mnt_populate_dev", rc);
	printf("filled %s\n", dir);
	return 0;
}

static char **command; /* what the container runs, or NULL */

/* Runs as PID 1 of the container, once mnt_container_spawn has set it up. */
static int container_payload(void *arg)
{
	(void)arg;
	if (command) {
		execvp(command[0], command);
		fprintf(stderr, "mntns: %s: %s\n", command[0], strerror(errno));
		return 127;
	}
	printf("pid %d; ", getpid());
	list("its /proc shows the pids", "/proc");
	printf("container ready\n");
	for (;;)
		pause(); /* until killed */
	return 0;
}

static int do_container(const char *root)
{
	pid_t pid = mnt_container_spawn(root, container_payload, NULL);
	if (pid < 0)
		return fail("mnt_container_spawn", pid);
	printf("spawned %d\n", pid);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return oops("waitpid");
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signaled %d\n", WTERMSIG(status));
	return 0;
}

static int return_at_once(void *arg)
{
	(void)arg;
	return 0;
}

static int do_containers(long n, const char *root)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = mnt_container_spawn(root, return_at_once, NULL);
		if (pid < 0)
			return fail("mnt_container_spawn", pid);
		int status;
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return oops("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("error: container %ld of %ld ended with status 0x%x\n", i + 1, n, status);
			return 1;
		}
	}
	printf("spawned %ld containers\n", n);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mntns [--hold] isolate DIR | chroot ROOT | pivot ROOT | pivot-copy ROOT\n"
			"             | escape chroot|pivot ROOT | prop shared|private|slave|unbindable|NUMBER DIR\n"
			"             | dev DIR | container ROOT [CMD [ARG...]] | containers N ROOT\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
	argv += hold;
	argc -= hold;
	if (argc < 3)
		return usage();
	const char *mode = argv[1];
	int status;
	if (strcmp(mode, "isolate") == 0)
		status = do_isolate(argv[2]);
	else if (strcmp(mode, "chroot") == 0)
		status = do_chroot(argv[2]);
	else if (strcmp(mode, "pivot") == 0)
		status = do_pivot(argv[2]);
	else if (strcmp(mode, "pivot-copy") == 0)
		status = do_pivot_copy(argv[2]);
	else if (strcmp(mode, "dev") == 0)
		status = do_dev(argv[2]);
	else if (strcmp(mode, "escape") == 0 && argc >= 4)
		status = do_escape(argv[2], argv[3]);
	else if (strcmp(mode, "prop") == 0 && argc >= 4)
		status = do_prop(argv[2], argv[3]);
	else if (strcmp(mode, "containers") == 0 && argc >= 4)
		status = do_containers(strtol(argv[2], NULL, 10), argv[3]);
	else if (strcmp(mode, "container") == 0) {
		command = argc > 3 ? argv + 3 : NULL;
		status = do_container(argv[2]);
	} else
		return usage();
	if (hold && status != 2) {
		printf("ready\n");
		for (;;)
			pause();
	}
	return status;
}
