/**
 * @file cg_lab.h
 * @brief Lab 07: a cgroup v2 group that limits a container's memory, CPU and
 * tasks.
 *
 * A container runtime gives every container a control group: a directory
 * in the cgroup v2 tree (/sys/fs/cgroup) whose files set limits
 * (memory.max, cpu.max, pids.max) and report usage (memory.current,
 * cpu.stat).  The runtime is handed a parent group, enables the controllers
 * its children need in the parent's cgroup.subtree_control, makes the
 * container's group, writes the limits, puts the container's first process
 * in it before that process runs anything, and at the end kills what is
 * left and removes the group.
 *
 * Every function that fails returns -1 (exactly) with errno set to the
 * error of the system call that failed: the caller reports it with
 * strerror(errno).  Every descriptor a function opens is closed before it
 * returns, whatever happened: a runtime lives long, and what it leaks may
 * end up in a container.
 * The handout (labs/07-cgroups/README.md) explains each step.
 */
#ifndef CG_LAB_H
#define CG_LAB_H

#include <stddef.h>
#include <sys/types.h>

/** A limit that is not set: written as "max" in the group's file. */
#define CG_UNLIMITED (-1LL)

/** Room for the path of a group (PATH_MAX). */
#define CG_PATH_MAX 4096

/** What a group may use. */
struct cg_limits {
	long long memory_max;    /**< bytes of memory (memory.max), or CG_UNLIMITED */
	long long cpu_quota_us;  /**< CPU time per period, in µs (cpu.max), or CG_UNLIMITED */
	long long cpu_period_us; /**< length of that period in µs, 1000 to 1000000 */
	long long pids_max;      /**< tasks at once (pids.max), or CG_UNLIMITED */
};

/** What a group has used, read from its files. */
struct cg_usage {
	long long memory_current; /**< memory.current: bytes charged now */
	long long cpu_usage_us;   /**< cpu.stat usage_usec: CPU time used, in µs */
	long long nr_throttled;   /**< cpu.stat nr_throttled: periods it was held back */
	long long oom_kills;      /**< memory.events oom_kill: processes the OOM killer ended */
	long long pids_current;   /**< pids.current: tasks in it now */
};

/**
 * @brief Tells whether path is on a cgroup v2 filesystem.
 *
 * Asks the kernel which filesystem holds path (statfs(2)) and compares its
 * type with CGROUP2_SUPER_MAGIC.  A directory that merely contains files
 * named like cgroup files is not a cgroup.
 *
 * @param path a directory, e.g. "/sys/fs/cgroup"
 * @return 1 if it is cgroup v2, 0 if it is another filesystem, -1 with
 *         errno set if it cannot be looked at (ENOENT: no such path)
 */
int cg_is_v2(const char *path);

/**
 * @brief Makes controllers available to the children of a group.
 *
 * Each controller must be listed in parent/cgroup.controllers (else the
 * call fails with ENOENT).  They are then enabled together, in a single
 * write of "+cpu +memory +pids" to parent/cgroup.subtree_control, which the
 * kernel applies whole or not at all.  Enabling one that already is changes
 * nothing.  The no-internal-process rule applies: a group other than the
 * root that has processes of its own cannot enable controllers for
 * children, and the kernel answers EBUSY - reported as such, with nothing
 * enabled and no process moved.  An empty list enables nothing and
 * succeeds.
 *
 * @param parent      the parent group's directory
 * @param controllers their names, separated by one space or more: "cpu memory pids"
 * @return 0, or -1 with errno set (ENOENT, EBUSY, EINVAL...)
 */
int cg_enable_controllers(const char *parent, const char *controllers);

/**
 * @brief Creates the group parent/name.
 *
 * name is a single path component: empty, ".", ".." or a name containing
 * '/' is refused with EINVAL, so that a group is never made outside its
 * parent.  An existing group is not reused (EEXIST): it would carry a
 * previous container's processes and counters.  The directory is made with
 * mode 0755: anyone may read the group's counters, only root may change it.
 *
 * @param parent the parent group's directory
 * @param name   the new group's name
 * @param path   receives "parent/name" and its terminating '\0'
 * @param size   the size of path in bytes (ENAMETOOLONG if "parent/name" and
 *               its '\0' do not fit; then nothing is made)
 * @return 0, or -1 with errno set
 */
int cg_create(const char *parent, const char *name, char *path, size_t size);

/**
 * @brief Writes a group's limits.
 *
 * memory.max gets lim->memory_max, and memory.swap.max gets 0 when memory
 * is limited ("max" when it is not): a group allowed to swap is not held to
 * its memory limit.  cpu.max gets "QUOTA PERIOD" (quota first), pids.max
 * gets lim->pids_max.  Each CG_UNLIMITED is written as "max".
 *
 * @param cgroup the group's directory
 * @param lim    the limits
 * @return 0, or -1 with errno set (EINVAL: a value the kernel refuses)
 */
int cg_set_limits(const char *cgroup, const struct cg_limits *lim);

/**
 * @brief Starts fn(arg) in a new process that is in the group from its
 * first instruction on.
 *
 * The child must not run fn before its PID is in cgroup/cgroup.procs: what
 * it allocates or forks before that would escape the limits.  The caller
 * itself stays where it is.  The child exits with fn's return value, and
 * runs fn with no descriptor of cg_spawn's own open (only what the caller
 * had).
 *
 * @param cgroup the group's directory
 * @param fn     what the child runs
 * @param arg    passed to fn
 * @return the child's PID, or -1 with errno set (the child, if one was
 *         made, has been killed and reaped)
 */
pid_t cg_spawn(const char *cgroup, int (*fn)(void *), void *arg);

/**
 * @brief Reads what a group has used.
 *
 * Each counter comes from its file: memory.current, the usage_usec and
 * nr_throttled lines of cpu.stat, the oom_kill line of memory.events,
 * pids.current.  Keys are matched whole.
 *
 * @param cgroup the group's directory
 * @param usage  filled with the counters
 * @return 0, or -1 with errno set (ENOENT: a file or a key is missing)
 */
int cg_read_usage(const char *cgroup, struct cg_usage *usage);

/**
 * @brief Ends every process in a group and removes it.
 *
 * Writes 1 to cgroup.kill, then removes the directory with rmdir(2).
 * Killing is asynchronous: until the last process has really exited, rmdir
 * fails with EBUSY, so it is retried a few milliseconds apart (sleeping in
 * between, not spinning), for at most CG_DESTROY_TIMEOUT_MS.  Any other
 * error of rmdir is returned at once: waiting would not cure it.
 *
 * @param cgroup the group's directory (a leaf: no groups under it)
 * @return 0 once the directory is gone, or -1 with errno set (EBUSY: still
 *         populated, or with a group under it, when the time ran out)
 */
int cg_destroy(const char *cgroup);

/** How long cg_destroy() keeps retrying rmdir(2) on EBUSY. */
#define CG_DESTROY_TIMEOUT_MS 5000

#endif
