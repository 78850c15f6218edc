"""Hidden cases of lab 00-ns-inspect: the traps and the resource checks."""
from harness.casekit import expect


def test_for_children_links(lab, nsinfo):
    # unshare --pid --fork: unshare stays in its PID namespace and forks a
    # child, PID 1 of the new one.  (Until that child exists, the kernel has
    # no namespace to show for pid_for_children.)
    other = lab.start("unshare", "--pid", "--fork", "sleep", "60")
    lab.eventually(lambda: lab.only_child(other.pid), what="unshare to fork PID 1 of the new namespace")
    truth = lab.ns(other.pid)
    _, listed = nsinfo.listing(other.pid)
    for kind in ("pid", "pid_for_children"):
        expect(listed.get(kind) == truth[kind], f"the '{kind}' entry of `nsinfo list {other.pid}`",
               expected=truth[kind], observed=listed.get(kind, "missing"))


def missing_pid(lab) -> int:
    pid_max = int(lab.read("/proc/sys/kernel/pid_max"))
    return next(p for p in range(pid_max - 1, 1, -1) if not lab.exists(f"/proc/{p}"))


def test_missing_process(lab, nsinfo):
    ghost = missing_pid(lab)
    for argv in (["list", ghost], ["inode", ghost, "uts"], ["same", ghost, "self", "uts"],
                 ["same", "self", ghost, "uts"]):
        result = lab.run("nsinfo", *argv)
        expect("returned -1, errno ENOENT" in result.stdout,
               f"`nsinfo {' '.join(map(str, argv))}` for a process that does not exist",
               expected="-1 with errno ENOENT", observed=result.stdout.strip() or result.describe())


def test_unreadable_link(lab, nsinfo):
    # unshare --pid without --fork: the new PID namespace has no process yet,
    # so the kernel has nothing to show for pid_for_children.
    other = nsinfo.in_new_namespaces("--pid")
    result = lab.run("nsinfo", "list", other.pid)
    expect("returned -1, errno ENOENT" in result.stdout,
           f"`nsinfo list {other.pid}` when its pid_for_children link cannot be read",
           expected="-1 with errno ENOENT (the whole call fails)",
           observed=result.stdout.strip().splitlines()[0] if result.stdout.strip() else result.describe())


def test_small_buffer(lab, nsinfo):
    prog, out = nsinfo.held("list", "self", 3)
    truth = lab.ns(prog.pid)
    expect(not out.startswith("overflow"), "ns_list with max = 3 must not write past the array",
           expected="3 entries written", observed=out.strip())
    count, listed = nsinfo.parse(out)
    expect(count == len(truth), "ns_list's return value when max is too small: the full count",
           expected=len(truth), observed=count)
    expect(len(listed) == 3 and all(truth.get(k) == v for k, v in listed.items()),
           "the 3 entries ns_list stored", expected="3 entries, each with its kernel inode",
           observed=nsinfo.show(listed))


def test_no_fd_leak(lab, nsinfo):
    prog, out = nsinfo.held("repeat", 200)
    expect("done 200" in out, "200 calls of ns_list should all succeed", observed=out.strip())
    fds = lab.machine.listdir(f"/proc/{prog.pid}/fd")
    expect(len(fds) <= 3, f"open file descriptors of nsinfo after 200 calls of ns_list (/proc/{prog.pid}/fd)",
           expected="3 (stdin, stdout, stderr)", observed=f"{len(fds)}")
