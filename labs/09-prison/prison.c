/*
 * prison.c - lab 09: your code goes here.
 *
 * Read the handout (README.md) first; prison.h says exactly what each
 * function must do.  `make` builds the driver cell, `make check` runs the
 * public graded cases as root in a throwaway VM.
 */
#include "prison.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Builds an error result; fill the message so that the user knows what to change. */
static struct prison_result not_done(const char *what)
{
	struct prison_result r = {.status = PRISON_SETUP_FAILED, .err = ENOSYS};
	snprintf(r.message, sizeof(r.message), "%s: %s", what, strerror(ENOSYS));
	return r;
}

struct prison_result namespace_prison(const struct prison_config *config, int (*callback)(void *),
				      void *arg)
{
	/* TODO: check the configuration (section 2) and refuse a bad one with
	 * PRISON_INVALID_CONFIG before creating anything.
	 * TODO: clone(2) a child with config->namespaces | SIGCHLD on a heap
	 * stack of PRISON_STACK_SIZE bytes (section 3); with CLONE_NEWUSER,
	 * write its id maps while it waits on a pipe (section 6).
	 * TODO: in the child, sethostname, chroot, chdir("/"), then run
	 * callback(arg) (section 4); report a failed step to the parent.
	 * TODO: waitpid for the child, retrying on EINTR, and tell how it ended
	 * (section 5). */
	(void)config;
	(void)callback;
	(void)arg;
	return not_done("namespace_prison");
}

struct prison_result namespace_prison_unprivileged(const struct prison_config *config,
						   int (*callback)(void *), void *arg)
{
	/* TODO: namespace_prison with CLONE_NEWUSER added (section 6). */
	(void)config;
	(void)callback;
	(void)arg;
	return not_done("namespace_prison_unprivileged");
}
