"""Public cases of lab 07-cgroups: `make check` in labs/07-cgroups runs them.

What cgctl reports is compared with what the kernel shows from outside: the
group's own files (cgroup.subtree_control, memory.max, cpu.max, pids.max,
memory.events, pids.events, cgroup.procs), /proc/PID/cgroup of the
processes, the filesystem types in mountinfo.
"""
from harness.casekit import expect

MiB = 1 << 20


def test_detects_v2(lab, cg):
    types = {m.point: m.fstype for m in lab.mounts()}
    fake = "/tmp/looks-like-a-cgroup"
    cg.scratch.append(fake)
    lab.sh(f"mkdir -p {fake} && echo 'cpu memory pids' > {fake}/cgroup.controllers && : > {fake}/cgroup.procs")
    probes = [("/sys/fs/cgroup", types.get("/sys/fs/cgroup") == "cgroup2"),
              (cg.root, types.get("/sys/fs/cgroup") == "cgroup2"),
              (fake, False), ("/proc", False)]
    for path, v2 in probes:
        result, report = cg.run("detect", path)
        want = f"cgroup2 {'yes' if v2 else 'no'}"
        kind = "the cgroup v2 mount" if v2 else f"a {types.get(path, 'tmpfs')} directory"
        if path == fake:
            kind = "a tmpfs directory that holds files named cgroup.controllers and cgroup.procs"
        expect(result.exit == 0 and want in report["lines"], f"`cgctl detect {path}`: {path} is {kind}",
               expected=want, observed=f"{result.describe()}: {cg.said(report)}")
    result, report = cg.run("detect", "/no/such/dir")
    cg.expect_error(result, report, "cg_is_v2", "ENOENT", "`cgctl detect /no/such/dir`, a path that does not exist")


def test_controllers_enabled(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog = cg.start("run", parent, "box", "park")
    cg.wait_for(prog, "parked")
    enabled = cg.value(f"{parent}/cgroup.subtree_control").split()
    expect({"cpu", "memory", "pids"} <= set(enabled),
           f"{parent}/cgroup.subtree_control once cgctl has made its group",
           expected="cpu memory pids", observed=" ".join(enabled) or "(empty)")
    missing = [f for f in ("memory.max", "cpu.max", "pids.max") if not lab.exists(f"{box}/{f}")]
    expect(not missing, f"the limit files of {box}, which exist only for controllers the parent enabled",
           expected="memory.max, cpu.max, pids.max", observed="missing " + ", ".join(missing))
    for pid in cg.procs(box):
        cg.kill(pid)
    result = prog.finish(10.0)
    cg.expect_destroyed(result, cg.parse(result.stdout), box)


def test_child_in_group(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog = cg.start("run", parent, "box", "park")
    cg.wait_for(prog, "parked")
    # The payload may print before cgctl prints what cg_spawn returned.
    report = cg.parse(cg.wait_for(prog, "spawned "))
    child = report.get("spawned")
    members = cg.procs(box)
    expect(members == [child], f"{box}/cgroup.procs while the payload runs",
           expected=f"only the child cg_spawn returned ({child})", observed=members or "empty")
    where = cg.cgroup_of(child)
    expect(where == cg.relative(box), f"/proc/{child}/cgroup, the child's group as the kernel sees it",
           expected=cg.relative(box), observed=where)
    runtime = cg.cgroup_of(prog.pid)
    expect(not runtime.startswith(cg.relative(box)), f"/proc/{prog.pid}/cgroup of cgctl itself",
           expected="where it was started, outside the container's group", observed=runtime)
    # Nothing of the runtime's may reach the container (runc's CVE-2024-21626
    # was a leaked descriptor), and the runtime keeps none of the pipe.
    cg.expect_only_std_fds(child, f"the payload (PID {child}), the container's first process")
    cg.expect_only_std_fds(prog.pid, f"cgctl (PID {prog.pid}) once cg_spawn has returned")
    cg.kill(child)
    result = prog.finish(10.0)
    report = cg.parse(result.stdout)
    expect(report.get("signaled") == 9, "what cgctl saw of the payload it was killed with SIGKILL",
           expected="signaled 9", observed=cg.said(report))
    cg.expect_destroyed(result, report, box)


def test_limits_written(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog = cg.start("run", parent, "box", "--mem", 64 * MiB, "--cpu", 5000, 50000, "--pids", 16, "park")
    cg.wait_for(prog, "parked")
    wanted = {"memory.max": str(64 * MiB), "memory.swap.max": "0", "cpu.max": "5000 50000", "pids.max": "16"}
    seen = {f: cg.value(f"{box}/{f}") for f in wanted}
    expect(seen == wanted, f"the limit files of {box} for --mem 64 MiB --cpu 5000 50000 --pids 16",
           expected=_show(wanted), observed=_show(seen))
    for pid in cg.procs(box):
        cg.kill(pid)
    result = prog.finish(10.0)
    cg.expect_destroyed(result, cg.parse(result.stdout), box)

    free = f"{parent}/free"
    prog = cg.start("run", parent, "free", "park")
    cg.wait_for(prog, "parked")
    wanted = {"memory.max": "max", "memory.swap.max": "max", "cpu.max": "max 100000", "pids.max": "max"}
    seen = {f: cg.value(f"{free}/{f}") for f in wanted}
    expect(seen == wanted, f"the limit files of {free}, with every limit CG_UNLIMITED",
           expected=_show(wanted), observed=_show(seen))
    for pid in cg.procs(free):
        cg.kill(pid)
    result = prog.finish(10.0)
    cg.expect_destroyed(result, cg.parse(result.stdout), free)


def test_memory_hog_oom_killed(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog, report = cg.held(parent, "box", "--mem", 32 * MiB, "hog", 160, timeout=25.0)
    expect(report.get("signaled") == 9 and not report.get("survived"),
           "a payload touching 160 MiB in a group with memory.max 32 MiB and memory.swap.max 0",
           expected="killed by the OOM killer (signaled 9)", observed=cg.said(report))
    events = cg.keyed(f"{box}/memory.events")
    expect(events.get("oom_kill", 0) >= 1, f"oom_kill in {box}/memory.events",
           expected="at least 1", observed=events.get("oom_kill"))
    peak = int(cg.value(f"{box}/memory.peak"))
    expect(peak <= 32 * MiB, f"{box}/memory.peak: the most the group ever used",
           expected=f"at most the limit, {32 * MiB}", observed=peak)
    result, report = cg.release(prog)
    cg.expect_destroyed(result, report, box)


def test_fork_limit_eagain(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog, report = cg.held(parent, "box", "--pids", 6, "forks", 20)
    expect(report.get("forked") == 5 and report.get("fork failed") == "Resource temporarily unavailable",
           "a payload forking 20 children in a group with pids.max 6 (the payload is one of the 6)",
           expected="forked 5, then fork failed with EAGAIN (Resource temporarily unavailable)",
           observed=cg.said(report))
    events = cg.keyed(f"{box}/pids.events")
    expect(events.get("max", 0) >= 1, f"'max' in {box}/pids.events: forks refused by pids.max",
           expected="at least 1", observed=events.get("max"))
    members = cg.procs(box)
    expect(len(members) == 5, f"{box}/cgroup.procs once the payload has exited",
           expected="its 5 children", observed=members)
    result, report = cg.release(prog)
    cg.expect_destroyed(result, report, box)


def _show(files: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in files.items())
