"""Hidden cases of lab 07-cgroups: CPU throttling, usage, teardown, refusals."""
from harness.casekit import expect

MiB = 1 << 20


def test_cpu_throttled(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    # 2 ms of CPU every 10 ms: a short period, so that a short burn spans
    # many of them even on a slow, shared machine.
    prog, report = cg.held(parent, "box", "--cpu", 2000, 10000, "burn", 1500, timeout=20.0)
    expect(report.get("exited") == 0, "a payload spinning on the CPU for 1.5 s of wall time",
           expected="exited 0", observed=cg.said(report))
    cpu_max = cg.value(f"{box}/cpu.max")
    expect(cpu_max == "2000 10000", f"{box}/cpu.max", expected="2000 10000", observed=cpu_max)
    stat = cg.keyed(f"{box}/cpu.stat")
    expect(stat.get("nr_throttled", 0) > 0, f"nr_throttled in {box}/cpu.stat: periods the group was held back",
           expected="more than 0", observed=stat.get("nr_throttled"))
    # Unthrottled, it would have used about 1.5 s; at 20 % about 0.3 s.
    expect(0 < stat.get("usage_usec", 0) < 750_000, f"usage_usec in {box}/cpu.stat after 1.5 s of spinning",
           expected="well under the 1 500 000 µs it would use unthrottled (about 300 000 at 20 %)",
           observed=stat.get("usage_usec"))
    result, report = cg.release(prog)
    cg.expect_destroyed(result, report, box)


def _usage_against_files(lab, cg, box: str, report: dict, fields: list[str], memory: bool = True) -> None:
    said = report.get("usage")
    expect(said is not None, "the usage line cgctl prints from cg_read_usage",
           expected="usage memory_current=... cpu_usage_us=...", observed=cg.said(report))
    stat = cg.keyed(f"{box}/cpu.stat")
    events = cg.keyed(f"{box}/memory.events")
    files = {"cpu_usage_us": (stat.get("usage_usec"), "usage_usec in cpu.stat"),
             "nr_throttled": (stat.get("nr_throttled"), "nr_throttled in cpu.stat"),
             "oom_kills": (events.get("oom_kill"), "oom_kill in memory.events"),
             "pids_current": (int(cg.value(f"{box}/pids.current")), "pids.current")}
    for field in fields:
        truth, where = files[field]
        # The group is empty, but the kernel may still settle the last period
        # of the CPU counters after cgctl read them: they can only have grown.
        slack = {"cpu_usage_us": 20_000, "nr_throttled": 2}.get(field, 0)
        got = said.get(field)
        expect(got is not None and truth - slack <= got <= truth, f"{field} from cg_read_usage against {where} of {box}",
               expected=truth if not slack else f"{truth} (or at most {slack} less, read a moment earlier)",
               observed=got)
    if not memory:
        return
    # memory.current is a live counter: the kernel may still free a little.
    memory = int(cg.value(f"{box}/memory.current"))
    got = said.get("memory_current", -1)
    expect(got >= 0 and abs(got - memory) <= max(1 << 20, memory // 4),
           f"memory_current from cg_read_usage against {box}/memory.current",
           expected=f"about {memory}", observed=got)


def test_usage_matches_files(lab, cg):
    parent = cg.parent()
    box = f"{parent}/burnt"
    prog, report = cg.held(parent, "burnt", "--cpu", 2000, 10000, "burn", 500, timeout=15.0)
    _usage_against_files(lab, cg, box, report, ["cpu_usage_us", "nr_throttled", "pids_current"])
    cg.release(prog)

    box = f"{parent}/oom"
    prog, report = cg.held(parent, "oom", "--mem", 16 * MiB, "hog", 64, timeout=15.0)
    _usage_against_files(lab, cg, box, report, ["oom_kills", "cpu_usage_us"],
                         memory=False)  # the killed hog's memory is still being freed
    cg.release(prog)

    box = f"{parent}/kids"
    prog, report = cg.held(parent, "kids", "forks", 3)
    _usage_against_files(lab, cg, box, report, ["pids_current", "nr_throttled", "oom_kills"])
    cg.release(prog)


def test_teardown_kills_remaining(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    prog, report = cg.held(parent, "box", "forks", 8)
    members = cg.procs(box)
    expect(len(members) == 8, f"{box}/cgroup.procs once the payload has exited",
           expected="its 8 children, waiting to be killed", observed=members)
    result, report = cg.release(prog)
    cg.expect_destroyed(result, report, box)
    alive = [pid for pid in members if lab.alive(pid)]
    expect(not alive, "the group's processes once cg_destroy has returned",
           expected="all ended", observed=f"still running: {alive}")


def test_teardown_retries_busy(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    # Spinners throttled to 10 ms per 100 ms: once killed, each still has to
    # get the CPU to exit, which a throttled group does not have for most of
    # each period: the group stays populated for a while.
    prog, report = cg.held(parent, "box", "--cpu", 10000, 100000, "spinners", 4, timeout=20.0)
    members = cg.procs(box)
    expect(len(members) == 4, f"{box}/cgroup.procs once the payload has exited",
           expected="4 spinning children", observed=members)
    result, report = cg.release(prog)
    cg.expect_destroyed(result, report, box)
    alive = [pid for pid in members if lab.alive(pid)]
    expect(not alive, "the group's processes once cg_destroy has returned",
           expected="all ended", observed=f"still running: {alive}")


def test_internal_process_refused(lab, cg):
    parent = cg.parent()
    sleeper = lab.start("sleep", "60")
    lab.sh(f"echo {sleeper.pid} > {parent}/cgroup.procs")
    result, report = cg.run("run", parent, "box", "park")
    cg.expect_error(result, report, "cg_enable_controllers", "EBUSY",
                    f"cgctl given a parent group that has a process of its own ({sleeper.pid}): "
                    "the no-internal-process rule")
    expect(cg.gone(f"{parent}/box"), f"{parent}/box after the refusal", expected="never made or removed",
           observed="left behind")
    members = cg.procs(parent)
    enabled = cg.value(f"{parent}/cgroup.subtree_control")
    expect(enabled == "", f"{parent}/cgroup.subtree_control after the refusal",
           expected="still empty: all of '+cpu +memory +pids' or nothing", observed=enabled)
    expect(members == [sleeper.pid], f"{parent}/cgroup.procs after the refusal",
           expected=f"the process that was there ({sleeper.pid}), not moved", observed=members)


def test_unsafe_name_refused(lab, cg):
    parent = cg.parent()
    escape = f"{cg.root}/escape"
    cg.also_remove(escape)
    prog = cg.start("--hold", "run", parent, "../escape", "exit", 0)
    finished = lab.eventually(lambda: "ready\n" in prog.output() or not prog.running(),
                              what="cgctl to refuse the name or to hold")
    made = lab.exists(escape)
    result = prog.finish(0.5) if not prog.running() else None
    if result is None:
        cg.release(prog)
    expect(not made, "the group name '../escape' given to cg_create",
           expected="refused: no group made outside the parent", observed=f"{escape} was made")
    expect(finished and result is not None, "cgctl given the group name '../escape'",
           expected="an error, at once", observed="it held, as if the group had been made")
    cg.expect_error(result, cg.parse(result.stdout), "cg_create", "EINVAL", "the group name '../escape'")
    before = sorted(cg.lab.machine.listdir(parent))
    for name in (".", "..", "", "box/inner"):
        result, report = cg.call("create", parent, name)
        cg.expect_error(result, report, "cg_create", "EINVAL", f"`cgctl create {parent} '{name}'`: "
                        "a name that is not one path component")
        after = sorted(cg.lab.machine.listdir(parent))
        expect(after == before, f"{parent} after the name {name!r} was refused",
               expected="nothing made", observed=", ".join(sorted(set(after) - set(before))) or "?")


def test_controllers_checked(lab, cg):
    parent = cg.parent()
    available = cg.value(f"{parent}/cgroup.controllers").split()
    for listing, why in (("memory nosuch", "'nosuch' is not a controller at all"),
                         ("cpu mem", "'mem' only begins like 'memory': names are compared whole")):
        result, report = cg.call("enable", parent, listing)
        cg.expect_error(result, report, "cg_enable_controllers", "ENOENT",
                        f"`cgctl enable {parent} '{listing}'` ({parent}/cgroup.controllers: "
                        f"{' '.join(available)}): {why}")
        enabled = cg.value(f"{parent}/cgroup.subtree_control")
        expect(enabled == "", f"{parent}/cgroup.subtree_control after '{listing}' was refused",
               expected="still empty: nothing written when a name is not available", observed=enabled)
    result, report = cg.call("enable", f"{parent}/nosuch", "cpu")
    cg.expect_error(result, report, "cg_enable_controllers", "ENOENT", "a parent group that does not exist")
    # Spaces before, between and after the names; and no standard input, so
    # that the first file cg_lab.c opens gets descriptor 0.
    result, report = cg.call("enable", parent, " pids  memory ", without_stdin=True)
    enabled = cg.value(f"{parent}/cgroup.subtree_control").split()
    expect(result.exit == 0 and report.get("enabled") and sorted(enabled) == ["memory", "pids"],
           f"`cgctl enable {parent} ' pids  memory '`, run with its standard input closed",
           expected=f"enabled, and {parent}/cgroup.subtree_control: memory pids",
           observed=f"{result.describe()}: {cg.said(report)}; subtree_control: {' '.join(enabled) or '(empty)'}")
    result, report = cg.call("enable", parent, "")
    after = cg.value(f"{parent}/cgroup.subtree_control").split()
    expect(result.exit == 0 and report.get("enabled") and after == enabled,
           f"`cgctl enable {parent} ''`: an empty list enables nothing, and that is no error",
           expected=f"enabled, subtree_control still {' '.join(enabled)}",
           observed=f"{result.describe()}: {cg.said(report)}; subtree_control: {' '.join(after) or '(empty)'}")


def test_create_exact(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    before = sorted(lab.machine.listdir(parent))
    size = len(box) + 1    # the path and its terminating '\0'
    result, report = cg.call("create", parent, "box", size - 1)
    cg.expect_error(result, report, "cg_create", "ENAMETOOLONG",
                    f"cg_create of {box} ({len(box)} characters) into a {size - 1}-byte path buffer")
    after = sorted(lab.machine.listdir(parent))
    expect(after == before, f"{parent} after the path did not fit", expected="no group made (not even a "
           "shortened one)", observed=", ".join(sorted(set(after) - set(before))))
    result, report = cg.call("create", parent, "box", size)
    expect(result.exit == 0 and report.get("created") == box,
           f"cg_create of {box} into a {size}-byte path buffer, where it fits exactly",
           expected=f"created {box}", observed=f"{result.describe()}: {cg.said(report)}")
    mode = lab.machine.lstat(box).mode & 0o7777
    expect(mode == 0o755, f"the permissions of {box}", expected="0755 (rwxr-xr-x): anyone may read its counters",
           observed=f"{mode:04o}")
    result, report = cg.call("create", parent, "box")
    cg.expect_error(result, report, "cg_create", "EEXIST", f"cg_create of {box}, which exists already")


LONG = "/tmp" + "/." * 2045   # a directory, written in 4094 characters


def test_limits_refused(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    lab.sh(f"echo '+cpu +memory +pids' > {parent}/cgroup.subtree_control && mkdir {box}")
    result, report = cg.call("limits", box, "--pids", -3)
    cg.expect_error(result, report, "cg_set_limits", "EINVAL", f"`cgctl limits {box} --pids -3`: pids.max "
                    "refuses a negative number")
    # Stand-ins for a group that lacks one of the files (a controller not
    # enabled by its parent): each missing file is an error of its own.
    files = ("memory.max", "memory.swap.max", "cpu.max", "pids.max")
    for missing in files:
        standin = cg.standin({f: "" for f in files if f != missing})
        result, report = cg.call("limits", standin, "--mem", 64 << 20, "--cpu", 5000, 50000, "--pids", 9)
        cg.expect_error(result, report, "cg_set_limits", "ENOENT", f"cg_set_limits on a group without {missing}")
    standin = cg.standin({f: "" for f in files})
    result, report = cg.call("limits", standin, "--mem", 64 << 20, "--cpu", 5000, 50000, "--pids", 9,
                             without_stdin=True)
    written = {f: lab.read(f"{standin}/{f}") for f in files}
    wanted = {"memory.max": str(64 << 20), "memory.swap.max": "0", "cpu.max": "5000 50000", "pids.max": "9"}
    expect(result.exit == 0 and report.get("limits") and written == wanted,
           "cg_set_limits run with its standard input closed (the first file it opens gets descriptor 0)",
           expected="limits written: " + ", ".join(f"{k}={v!r}" for k, v in wanted.items()),
           observed=f"{cg.said(report)}: " + ", ".join(f"{k}={v!r}" for k, v in written.items()))
    for command in ("limits", "usage", "destroy"):
        result, report = cg.call(command, LONG)
        function = {"limits": "cg_set_limits", "usage": "cg_read_usage", "destroy": "cg_destroy"}[command]
        cg.expect_error(result, report, function, "ENAMETOOLONG",
                        f"`cgctl {command}` of a group whose path has {len(LONG)} characters: with a file name "
                        "after it, it is longer than CG_PATH_MAX")


USAGE_FILES = {
    "memory.current": "1234567\n",
    "cpu.stat": "usage_usec 301822\nuser_usec 298114\nsystem_usec 3708\nnr_periods 151\nnr_throttled 149\n"
                "throttled_usec 1193021\n",
    "memory.events": "low 0\nhigh 0\nmax 12\noom 4\noom_kill 3\noom_group_kill 0\n",
    "pids.current": "7\n",
}


def test_usage_errors(lab, cg):
    standin = cg.standin(USAGE_FILES)
    wanted = {"memory_current": 1234567, "cpu_usage_us": 301822, "nr_throttled": 149, "oom_kills": 3,
              "pids_current": 7}
    prog, report = cg.call_held("usage", standin)
    expect(report.get("usage") == wanted, f"cg_read_usage of {standin}, a stand-in with known counters",
           expected=_fields(wanted), observed=cg.said(report))
    cg.expect_only_std_fds(prog.pid, f"cgctl (PID {prog.pid}) once cg_read_usage has returned")
    cg.release(prog)
    result, report = cg.call("usage", standin, without_stdin=True)
    expect(report.get("usage") == wanted, "cg_read_usage run with its standard input closed (the first file "
           "it opens gets descriptor 0)", expected=_fields(wanted), observed=cg.said(report))
    stat = USAGE_FILES["cpu.stat"]
    broken = [("memory.current", None, "without memory.current"),
              ("cpu.stat", None, "without cpu.stat"),
              ("cpu.stat", stat.replace("usage_usec", "usage_total"), "whose cpu.stat has no usage_usec"),
              ("cpu.stat", stat.replace("nr_throttled", "nr_throttled_not"),
               "whose cpu.stat has no nr_throttled (a kernel without CFS bandwidth control)"),
              ("memory.events", None, "without memory.events"),
              ("memory.events", "oom 4\noom_group_kill 0\n", "whose memory.events has no oom_kill"),
              ("pids.current", None, "without pids.current")]
    for name, text, what in broken:
        files = dict(USAGE_FILES)
        if text is None:
            del files[name]
        else:
            files[name] = text
        result, report = cg.call("usage", cg.standin(files))
        cg.expect_error(result, report, "cg_read_usage", "ENOENT", f"cg_read_usage of a group {what}")
    # A read that fails (a group removed while its file is open gives
    # ENODEV): here memory.current is a directory, read(2) says EISDIR.
    files = dict(USAGE_FILES, **{"memory.current": None})
    prog, report = cg.call_held("usage", cg.standin(files))
    cg.expect_error(_Held(prog), report, "cg_read_usage", None, "cg_read_usage when reading memory.current fails")
    cg.expect_only_std_fds(prog.pid, f"cgctl (PID {prog.pid}) once cg_read_usage has failed")
    cg.release(prog)


class _Held:
    """A held cgctl, for expect_error: it is still running, its status to come."""
    def __init__(self, prog):
        self.exit = 1
        self.prog = prog

    def describe(self):
        return "held after the call"


def test_spawn_failures(lab, cg):
    parent = cg.parent()
    box = f"{parent}/box"
    lab.sh(f"echo '+cpu +memory +pids' > {parent}/cgroup.subtree_control && mkdir {box}")
    # Moving the child fails: the group does not exist.
    prog, report = cg.call_held("spawn", f"{parent}/nosuch", "exit", 0)
    cg.expect_error(_Held(prog), report, "cg_spawn", "ENOENT", f"cg_spawn into {parent}/nosuch, which does not exist")
    left = lab.children(prog.pid)
    expect(not left, f"the children of cgctl (PID {prog.pid}) once cg_spawn has failed",
           expected="none: the child it made is killed and reaped",
           observed=", ".join(f"PID {p.pid} in state {p.state}" + (" (a zombie)" if p.state == "Z" else "")
                              for p in left))
    cg.expect_only_std_fds(prog.pid, f"cgctl (PID {prog.pid}) once cg_spawn has failed")
    cg.release(prog)
    # One descriptor free: not enough for a pipe (clone3 with
    # CLONE_INTO_CGROUP needs only one, and may succeed).
    result, report = cg.call("spawn", box, "exit", 0, limits=("--nofile=4",))
    if not (result.exit == 0 and report.get("spawned") and report.get("exited") == 0):
        cg.expect_error(result, report, "cg_spawn", "EMFILE", "cg_spawn in a process allowed 4 open files "
                        "(prlimit --nofile=4, 3 of them in use): no room for a pipe")
    # fork refused: the student user may have one process, cgctl itself.
    prog, report = cg.call_held("spawn", box, "exit", 0, uid=1000, limits=("--nproc=1",))
    cg.expect_error(_Held(prog), report, "cg_spawn", "EAGAIN", "cg_spawn run by uid 1000 allowed one process "
                    "(prlimit --nproc=1): fork fails")
    cg.expect_only_std_fds(prog.pid, f"cgctl (PID {prog.pid}) once fork has failed in cg_spawn")
    cg.release(prog)
    expect(cg.procs(box) == [], f"{box}/cgroup.procs after the failed spawns", expected="empty",
           observed=cg.procs(box))


def test_destroy_refused(lab, cg):
    parent = cg.parent()
    result, report = cg.call("destroy", f"{parent}/nosuch")
    cg.expect_error(result, report, "cg_destroy", "ENOENT", f"cg_destroy of {parent}/nosuch, which does not exist")
    # A plain directory with a cgroup.kill file: rmdir fails with ENOTEMPTY,
    # an error that waiting will not cure: it is reported at once.
    standin = cg.standin({"cgroup.kill": ""})
    result, report = cg.call("destroy", standin)
    cg.expect_error(result, report, "cg_destroy", None, f"cg_destroy of {standin}, a plain directory")
    expect(report.get("took", 10**6) < 1500, f"how long cg_destroy of {standin} took: rmdir failed with another "
           "error than EBUSY", expected="under a second: no retry", observed=f"{report.get('took')} ms")
    expect(lab.read(f"{standin}/cgroup.kill") == "1", f"{standin}/cgroup.kill", expected="'1', written first",
           observed=repr(lab.read(f"{standin}/cgroup.kill")))
    # A group with a group under it stays EBUSY: cg_destroy gives up at its
    # deadline, CG_DESTROY_TIMEOUT_MS (5 s), sleeping between its tries.
    box = f"{parent}/box"
    lab.sh(f"mkdir {box} {box}/inner")
    prog, report = cg.call_held("destroy", box, timeout=20.0)
    cg.expect_error(_Held(prog), report, "cg_destroy", "EBUSY", f"cg_destroy of {box}, which has a group under it")
    expect(report.get("took", 10**6) <= 9000, f"how long cg_destroy of {box} took",
           expected="at most about CG_DESTROY_TIMEOUT_MS (5000 ms)", observed=f"{report.get('took')} ms")
    fields = lab.read(f"/proc/{prog.pid}/stat").rsplit(")", 1)[1].split()
    cpu_ms = (int(fields[11]) + int(fields[12])) * 10   # utime + stime, in 1/100 s
    expect(cpu_ms < 1000, f"CPU time cgctl (PID {prog.pid}) used while cg_destroy retried for {report.get('took')} ms",
           expected="well under a second: it sleeps between tries", observed=f"{cpu_ms} ms")
    cg.release(prog)
    expect(lab.exists(f"{box}/inner"), f"{box} and {box}/inner", expected="both still there", observed="removed")


def _fields(values: dict) -> str:
    return "usage " + " ".join(f"{k}={v}" for k, v in values.items())
