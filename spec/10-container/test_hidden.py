"""Hidden cases of lab 10-container: the cgroup and its limits, the memory
limit at work, signals, stop, and what is left afterwards."""
from harness.casekit import expect, expect_exit


def test_cgroup_limits_set(lab, ctr):
    prog, init = ctr.parked("g1", opts=("--memory", "64M", "--cpu", "20000/100000", "--pids", "32"))
    path = ctr.cgroup("g1")
    relative = path.removeprefix("/sys/fs/cgroup")
    seen = lab.read(f"/proc/{init}/cgroup").strip()
    expect(seen == f"0::{relative}", f"the init's cgroup (/proc/{init}/cgroup, read from the machine)",
           expected=f"0::{relative}", observed=seen)
    procs = sorted(int(p) for p in lab.read(f"{path}/cgroup.procs").split())
    members = sorted(ctr.members(init))
    expect(procs == members, f"{path}/cgroup.procs against the processes of the container",
           expected=" ".join(map(str, members)), observed=" ".join(map(str, procs)))
    for file, want in (("memory.max", "67108864"), ("cpu.max", "20000 100000"), ("pids.max", "32")):
        got = lab.read(f"{path}/{file}").strip()
        expect(got == want, f"{path}/{file}", expected=want, observed=got)
    inside = lab.run(ctr.NSENTER, "-t", init, "-C", "cat", f"/proc/{init}/cgroup").stdout.strip()
    expect(inside == "0::/", "the init's cgroup as its own cgroup namespace shows it (nsenter -C)",
           expected="0::/ (the namespace is rooted at the container's cgroup)", observed=inside)


def test_memory_hog_killed(lab, ctr):
    events = f"{ctr.parent}/memory.events"

    def oom_kills():
        return int(next(line.split()[1] for line in lab.read(events).splitlines() if line.startswith("oom_kill ")))
    r = ctr.run("m1", "true", opts=("--memory", "16M"))
    expect_exit(r, 0, "`ctr run --memory 16M -- true` should exit with 0")
    before = oom_kills()
    r = ctr.run("m2", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1", opts=("--memory", "16M"))
    expect(r.exit == 137, "`ctr run --memory 16M -- dd bs=64M ...`: dd needs a 64 MiB buffer",
           expected="137: the OOM killer ended dd with SIGKILL", observed=r.describe())
    after = oom_kills()
    expect(after > before, f"oom_kill in {events} (counts the containers' cgroups below it)",
           expected=f"more than {before}", observed=after)


def test_signals_reach_container(lab, ctr):
    for name, sig, code in (("s1", "TERM", 143), ("s2", "INT", 130)):
        prog, init = ctr.parked(name)
        lab.run("kill", f"-{sig}", prog.pid)  # ctr alone, not its process group
        result = prog.finish(6.0)
        expect(result.exit == code and not result.timed_out,
               f"ctr (running `sleep 60` in a container) after SIGTERM sent to ctr only" if sig == "TERM"
               else "ctr (running `sleep 60` in a container) after SIGINT sent to ctr only",
               expected=f"exits with {code} (128 + SIG{sig}: the command got the signal and died of it)",
               observed=result.describe())
        lab.eventually(lambda: not lab.alive(init), timeout=3.0, what="the container's init to end")


def test_stop_kills_all(lab, ctr):
    prog, init = ctr.parked("k1", "sh", "-c", "sleep 100 & sleep 100 & echo ready; wait")
    lab.eventually(lambda: len(ctr.members(init)) == 4, what="4 processes in the container (init, sh, 2 sleeps)")
    r = ctr.stop("k1")
    expect_exit(r, 0, "`ctr stop --cgroup-parent ... k1` should exit with 0")
    lab.eventually(lambda: not ctr.members(init), timeout=3.0, what="every process of the container to end")
    result = prog.finish(6.0)
    expect(result.exit == 137, "ctr run, once its container was stopped",
           expected="exits with 137 (the init killed by SIGKILL)", observed=result.describe())
    r = ctr.stop("nothere")
    expect(r.exit == 1, "`ctr stop` of a container that does not exist", expected="exit status 1",
           observed=r.describe())


def test_nothing_left_behind(lab, ctr):
    mounts_before = sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1))
    links_before = sorted(lab.machine.listdir("/sys/class/net"))
    net = ("--net", "10.200.0.1,10.200.0.2/24", "--memory", "64M", "--pids", "32", "--cpu", "50000")
    r = ctr.run("z1", "sh", "-c", "echo data > /data", opts=net)
    expect_exit(r, 0, "`ctr run` with a network and limits, of a command that writes a file")
    prog, init = ctr.parked("z2", opts=net)
    ctr.stop("z2")
    prog.finish(6.0)
    for name in ("z1", "z2"):
        left = ctr.leftovers(name)
        expect(not left, f"what container {name} left on the machine once ctr run returned", expected="nothing",
               observed="; ".join(left))
    expect(sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1)) == mounts_before, "the machine's mounts",
           expected="as before", observed="; ".join(sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1))))
    expect(sorted(lab.machine.listdir("/sys/class/net")) == links_before, "the machine's links",
           expected=", ".join(links_before), observed=", ".join(sorted(lab.machine.listdir("/sys/class/net"))))
    expect(not lab.alive(init), "the stopped container's init", expected="gone", observed=f"PID {init} alive")
    expect(lab.exists(f"{ctr.STATE}/z1/upper/data"), "the upper layer of z1",
           expected="kept, with the file its command wrote", observed="gone")
