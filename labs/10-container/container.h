/**
 * @file container.h
 * @brief Lab 10: a container runtime - every piece of labs 01 to 09 together.
 *
 * `ctr run` starts a command in a container: new PID, UTS, mount, IPC,
 * network and cgroup namespaces; an overlay root whose lower layer is the
 * image, never written to; /proc and a minimal /dev; pivot_root into it; a
 * host name; cgroup v2 limits for memory, CPU and tasks; a veth pair with an
 * address at each end.  The runtime waits for the command, passes on the
 * signals it gets, returns the command's exit code and leaves nothing behind
 * but the container's upper layer.  `ctr stop` kills a whole container.
 *
 * Three student files, one concern each:
 *   - container.c: the runtime and the container's init (container_run, container_stop);
 *   - cgroup.c:    the container's cgroup (cgroup_create, cgroup_add, cgroup_remove);
 *   - netlink.c:   the veth pair, by rtnetlink requests made with libmnl (net_*).
 *
 * Functions of cgroup.c and netlink.c print nothing: they return -1 with
 * errno set, and their caller says what failed, in one line on stderr:
 * "ctr: WHAT FAILED: " and strerror(errno).  `ctr call` (in ctr.c) runs
 * them alone.
 *
 * The handout (labs/10-container/README.md) explains each step.
 */
#ifndef CONTAINER_H
#define CONTAINER_H

#include <stddef.h>
#include <sys/types.h>

/** Size of the stack the container's init is cloned on: 1 MiB, on the heap. */
#define CONTAINER_STACK_SIZE (1024 * 1024)

/** The longest container name: its veth ends are "vh-NAME" and "vc-NAME" (15 bytes at most). */
#define CONTAINER_NAME_MAX 12

/** Exit code of `ctr run` when the runtime itself failed (as docker run's 125). */
#define CONTAINER_FAILED 125

/** Resource limits, written to the container's cgroup. 0 means no limit. */
struct container_limits {
	long long memory_max; /**< memory.max, in bytes (and memory.swap.max set to 0) */
	long cpu_quota_us;    /**< cpu.max: microseconds of CPU per period */
	long cpu_period_us;   /**< cpu.max: the period (100000 when 0) */
	long pids_max;        /**< pids.max: tasks in the container at most */
};

/** The container's link to the host: a veth pair, one IPv4 address at each end. */
struct container_net {
	const char *host_addr;      /**< address of the host end "vh-NAME", e.g. "10.200.0.1" */
	const char *container_addr; /**< address of the container end "vc-NAME", e.g. "10.200.0.2" */
	int prefix;                 /**< prefix length of both, e.g. 24 */
};

/** What to run, and how. */
struct container_config {
	const char *name;          /**< 1 to CONTAINER_NAME_MAX of [a-z0-9-] */
	const char *hostname;      /**< the container's host name */
	const char *image;         /**< the root filesystem: the overlay's lower layer, read only */
	const char *state_dir;     /**< STATE/NAME/{upper,work,merged} are made there */
	const char *cgroup_parent; /**< cgroup v2 directory the container's cgroup is made in */
	struct container_limits limits; /**< memory, CPU and pids limits of its cgroup */
	const struct container_net *net; /**< NULL: no veth, only a loopback */
	char *const *argv;         /**< the command, argv[0] looked up in the container's PATH */
};

/* ------------------------------------------------------------ container.c */

/**
 * @brief Runs config->argv in a new container and waits for it.
 *
 * Checks the configuration first (EINVAL: a name of 1 to CONTAINER_NAME_MAX
 * of [a-z0-9-], a host name of 1 to 64 characters, an image, a state folder
 * and a cgroup parent; then the image must exist).  Makes STATE (mode 0755)
 * if need be, STATE/NAME (0700; refused if it exists) and in it upper
 * (0755), work (0700) and merged (0755), and the cgroup CGROUP_PARENT/NAME
 * with the limits; clones the container's init with CLONE_NEWPID,
 * CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET and SIGCHLD on a
 * heap stack of CONTAINER_STACK_SIZE bytes, freed as soon as clone returns
 * (the init has its own copy); moves it into the cgroup and, with a network,
 * creates the veth pair with the container end in its network namespace;
 * then releases it through a pipe.  While the container runs, the runtime and the init
 * hold no descriptor but 0, 1 and 2.
 *
 * The init, PID 1: unshares its cgroup namespace (now rooted at its own
 * cgroup), sets the host name, brings up lo and its veth end with its
 * address, makes every mount private, mounts the overlay (lowerdir image,
 * upperdir, workdir) on merged, /proc and a tmpfs /dev with null, zero,
 * full, random, urandom and tty, pivot_root()s into merged and detaches the
 * old root.  It forks the command, passes on SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every process, and exits with
 * the command's code (128 + signal if a signal killed it).
 *
 * Meanwhile the runtime passes the same signals on to the init.  Once the
 * init has ended it deletes the veth pair (if it made it), the cgroup, and
 * the work and merged directories; the upper layer STATE/NAME/upper stays.
 *
 * On a failure the runtime prints one line on stderr, "ctr: WHAT FAILED: "
 * and strerror(errno), undoes what it made (only that: a cgroup or a link
 * that existed before is not its own) and returns -1.  The init, when a
 * step of its own fails, prints the same kind of line and exits with
 * CONTAINER_FAILED; a command that cannot be executed ends with 127 (not
 * found) or 126 (any other reason).
 *
 * @param config what to run
 * @return the command's exit code (0-255; 128 + N when signal N killed it or
 *         the init), or -1 after printing on stderr what failed
 */
int container_run(const struct container_config *config);

/**
 * @brief Kills every process of a running container at once.
 *
 * Writes 1 to CGROUP_PARENT/NAME/cgroup.kill: the kernel sends SIGKILL to
 * every process of the cgroup, and `ctr run` then cleans up and returns 137.
 *
 * @param cgroup_parent the cgroup the container's cgroup is in
 * @param name          the container's name
 * @return 0, or -1 with errno set (ENOENT: no such container)
 */
int container_stop(const char *cgroup_parent, const char *name);

/* --------------------------------------------------------------- cgroup.c */

/**
 * @brief Creates the cgroup PARENT/NAME and writes the limits into it.
 *
 * Enables the cpu, memory and pids controllers in PARENT's
 * cgroup.subtree_control first (so that the new cgroup has their files),
 * then makes PARENT/NAME (mode 0755) and writes memory.max and
 * memory.swap.max (0), cpu.max and pids.max for the limits that are set,
 * one write() each.  On failure the new cgroup is
 * removed again (EINVAL: the kernel refused a limit, e.g. a CPU quota under
 * 1000 microseconds).
 *
 * @param parent a cgroup v2 directory, e.g. /sys/fs/cgroup/grade/lab
 * @param name   the container's name
 * @param limits what to write
 * @param path   receives PARENT/NAME
 * @param size   size of path
 * @return 0, or -1 with errno set (EEXIST: the cgroup exists already;
 *         ENAMETOOLONG: PARENT/NAME does not fit in size bytes)
 */
int cgroup_create(const char *parent, const char *name, const struct container_limits *limits,
		  char *path, size_t size);

/**
 * @brief Moves a process into a cgroup (writes its PID to cgroup.procs).
 * @param path the cgroup's directory
 * @param pid  the process
 * @return 0, or -1 with errno set (ESRCH: no such process; ENAMETOOLONG:
 *         PATH/cgroup.procs longer than PATH_MAX)
 */
int cgroup_add(const char *path, pid_t pid);

/**
 * @brief Kills what is left in a cgroup and removes it.
 *
 * rmdir()s it; while that fails with EBUSY (processes are left in it),
 * writes 1 to cgroup.kill and tries again a moment later (killed processes
 * take a moment to leave), for up to 2 seconds.  A cgroup that does not
 * exist (ENOENT) is gone already: not an error.
 *
 * @param path the cgroup's directory
 * @return 0, or -1 with errno set
 */
int cgroup_remove(const char *path);

/* -------------------------------------------------------------- netlink.c */

/**
 * @brief Creates a veth pair: host in the caller's network namespace, peer
 *        in the network namespace of process pid (IFLA_NET_NS_PID).
 * @param host the name of the end made here
 * @param peer the name of the other end
 * @param pid  a process of the network namespace the peer is born in
 * @return 0, or -1 with errno set to the kernel's answer (EEXIST: a link of that name
 *         exists; ESRCH: no process pid)
 */
int net_veth_create(const char *host, const char *peer, pid_t pid);

/**
 * @brief Adds an IPv4 address to a link of the caller's network namespace.
 * @param ifname the link
 * @param addr   dotted quad, e.g. "10.200.0.1"
 * @param prefix prefix length, 0 to 32
 * @return 0, or -1 with errno set (EINVAL: not an address; ENODEV: no such link)
 */
int net_addr_add(const char *ifname, const char *addr, int prefix);

/**
 * @brief Sets a link of the caller's network namespace up.
 * @param ifname the link
 * @return 0, or -1 with errno set (ENODEV: no such link)
 */
int net_link_up(const char *ifname);

/**
 * @brief Deletes a link of the caller's network namespace (a veth takes its peer along).
 * @param ifname the link
 * @return 0, or -1 with errno set (ENODEV: no such link)
 */
int net_link_delete(const char *ifname);

#endif
