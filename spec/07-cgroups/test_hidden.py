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
    first = report["errors"][0] if report["errors"] else cg.said(report)
    expect(result.exit == 1 and first == "cg_enable_controllers: Device or resource busy",
           f"cgctl given a parent group that has a process of its own ({sleeper.pid})",
           expected="error: cg_enable_controllers: Device or resource busy (the no-internal-process rule)",
           observed=f"{result.describe()}: {cg.said(report)}")
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
    report = cg.parse(result.stdout if result else "")
    expect(finished and result is not None and result.exit == 1
           and report["errors"][:1] == ["cg_create: Invalid argument"],
           "what cgctl reported for the name '../escape'", expected="error: cg_create: Invalid argument",
           observed=cg.said(report))
