"""Hidden cases of lab 10-container: the cgroup and its limits, the memory
limit at work, signals, stop, what is left afterwards, descriptors, the
functions of cgroup.c and netlink.c alone, and every failure a runtime can
meet: refused at once, failed while preparing the init, failed in the init."""
import json

from harness.casekit import expect, expect_exit

MIB = 1024 * 1024


def test_cgroup_limits_set(lab, ctr):
    script = "read g < /proc/self/cgroup; echo \"cgroup $g\"; echo ready; exec sleep 60"
    prog, init, said = ctr.parked("g1", script, opts=("--memory", "64M", "--cpu", "20000/50000", "--pids", "32"))
    path = ctr.cgroup("g1")
    relative = path.removeprefix("/sys/fs/cgroup")
    seen = lab.read(f"/proc/{init}/cgroup").strip()
    expect(seen == f"0::{relative}", f"the init's cgroup (/proc/{init}/cgroup, read from the machine)",
           expected=f"0::{relative}", observed=seen)
    procs = sorted(int(p) for p in lab.read(f"{path}/cgroup.procs").split())
    members = sorted(ctr.members(init))
    expect(procs == members, f"{path}/cgroup.procs against the processes of the container",
           expected=" ".join(map(str, members)), observed=" ".join(map(str, procs)))
    for file, want in (("memory.max", "67108864"), ("memory.swap.max", "0"), ("cpu.max", "20000 50000"),
                       ("pids.max", "32")):
        got = lab.read(f"{path}/{file}").strip()
        expect(got == want, f"{path}/{file}", expected=want, observed=got)
    inside = next((line.split(" ", 1)[1] for line in said.splitlines() if line.startswith("cgroup ")), "")
    expect(inside == "0::/", "the command's cgroup as its own cgroup namespace shows it (its /proc/self/cgroup)",
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
    caught = ("HUP", "INT", "QUIT", "USR1", "USR2")
    script = ("for s in " + " ".join(caught) + "; do trap \"echo got $s\" $s; done; sleep 60 & p=$!; "
              "echo ready; while kill -0 $p 2>/dev/null; do wait $p; done")
    prog, init, _ = ctr.parked("s1", script)
    for sig in caught:
        lab.run(ctr.BB, "kill", f"-{sig}", prog.pid)   # ctr alone, not its process group
        lab.eventually(lambda: f"got {sig}\n" in prog.output() or not prog.running(), timeout=5.0,
                       what=f"the command to report SIG{sig}")
        expect(prog.running() and f"got {sig}\n" in prog.output(),
               f"the container's command (sh, trapping {' '.join(caught)}) after SIG{sig} sent to ctr only",
               expected=f"it caught SIG{sig} and runs on", observed=f"ctr {prog.finish(1.0).describe()}"
               if not prog.running() else "it never got it")
    lab.run(ctr.BB, "kill", "-TERM", prog.pid)
    result = prog.finish(6.0)
    expect(result.exit == 143 and not result.timed_out,
           "ctr (running sh in a container) after SIGTERM sent to ctr only",
           expected="exits with 143 (128 + SIGTERM: the command got the signal and died of it)",
           observed=result.describe())
    expect(not result.stderr.strip(), "what ctr printed on stderr", expected="nothing: nothing failed",
           observed=result.stderr.strip())
    lab.eventually(lambda: not lab.alive(init), timeout=3.0, what="the container's init to end")


def test_stop_kills_all(lab, ctr):
    prog, init, _ = ctr.parked("k1", "sleep 100 & sleep 100 & echo ready; wait")
    lab.eventually(lambda: len(ctr.members(init)) == 4, what="4 processes in the container (init, sh, 2 sleeps)")
    r = ctr.stop("k1")
    expect_exit(r, 0, "`ctr stop --cgroup-parent ... k1` should exit with 0")
    lab.eventually(lambda: not ctr.members(init), timeout=3.0, what="every process of the container to end")
    result = prog.finish(6.0)
    expect(result.exit == 137, "ctr run, once its container was stopped",
           expected="exits with 137 (the init killed by SIGKILL)", observed=result.describe())
    for name, text in (("nothere", "No such file or directory"), ("Bad", "Invalid argument")):
        r = ctr.stop(name)
        expect(r.exit == 1 and text in r.stderr, f"`ctr stop` of {name}, a container that "
               + ("does not exist" if name == "nothere" else "cannot exist (an invalid name)"),
               expected=f"exit status 1, and errno's text on stderr: '{text}'",
               observed=f"{r.describe()}; stderr: {r.stderr.strip() or 'nothing'}")
    # container_stop alone, with room for one descriptor only: it closes the
    # one it opens, returns exactly 0 or -1, and reports a write that fails
    # (a stand-in whose cgroup.kill is /dev/full).
    standin = f"{ctr.BASE}/stop-standin"
    lab.sh(f"mkdir {ctr.parent}/s1 && mkdir -p {standin}/full && ln -sf /dev/full {standin}/full/cgroup.kill")
    steps = [(ctr.parent, "s1"), (ctr.parent, "s1"), (ctr.parent, "nothere"), (ctr.parent, "Bad"), (standin, "full")]
    try:
        said = ctr.call(*(("container_stop", parent, name) for parent, name in steps), fds=4)
    finally:
        lab.sh(f"rmdir {ctr.parent}/s1; rm -rf {standin}")
    wanted = ["container_stop returned 0", "container_stop returned 0",
              "error: container_stop returned -1, errno ENOENT (No such file or directory)",
              "error: container_stop returned -1, errno EINVAL (Invalid argument)",
              "error: container_stop returned -1, errno ENOSPC (No space left on device)"]
    what = ["an empty container", "the same again, with no descriptor to spare if the first leaked one",
            "a container that does not exist", "an invalid name", "a cgroup.kill that refuses the write (/dev/full)"]
    for got, want, about, step in zip(said, wanted, what, steps):
        expect(got == want, f"`ctr call --fds 4 container_stop {' '.join(step)}`: {about}",
               expected=want, observed=got)


def test_nothing_left_behind(lab, ctr):
    mounts_before = sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1))
    links_before = sorted(lab.machine.listdir("/sys/class/net"))
    opts = ("--net", "10.200.0.1,10.200.0.2/24", "--memory", "64M", "--pids", "32", "--cpu", "50000")
    prog1, init1, _ = ctr.parked("z1", "echo data > /data; echo ready; exec sleep 60", opts=opts)
    prog2, init2, _ = ctr.parked("z2", opts=opts)
    # z1: a process of the machine in its cgroup, which the runtime must
    # kill to remove the cgroup; another in its network namespace, which
    # keeps that namespace, and the veth pair, alive: the runtime must
    # delete the pair itself.
    stray = lab.start(ctr.BB, "sleep", "60")
    lab.machine.write(f"{ctr.cgroup('z1')}/cgroup.procs", str(stray.pid).encode())
    holder = lab.start("/usr/bin/nsenter", "-t", init1, "-n", ctr.BB, "sleep", "60")
    # z2: its veth pair deleted by someone else while it runs.
    lab.run(ctr.IP, "link", "del", "vh-z2")
    lab.run(ctr.BB, "kill", "-TERM", prog1.pid)
    ctr.stop("z2")
    for name, prog, code in (("z1", prog1, 143), ("z2", prog2, 137)):
        result = prog.finish(6.0)
        expect(result.exit == code and not result.stderr.strip(), f"ctr run {name} once "
               + ("sent SIGTERM" if name == "z1" else "stopped"), expected=f"exit status {code}, nothing on stderr",
               observed=f"{result.describe()}; stderr: {result.stderr.strip() or 'nothing'}")
        left = ctr.leftovers(name)
        expect(not left, f"what container {name} left on the machine once ctr run returned", expected="nothing",
               observed="; ".join(left))
    gone = stray.finish(3.0)
    expect(gone.signal == 9, f"a process of the machine (PID {stray.pid}) put into the cgroup of z1",
           expected="killed by SIGKILL when z1's cgroup was removed", observed=gone.describe())
    holder.signal(9)
    holder.finish(3.0)
    expect(sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1)) == mounts_before, "the machine's mounts",
           expected="as before", observed="; ".join(sorted(f"{m.point} {m.fstype}" for m in lab.mounts(1))))
    expect(sorted(lab.machine.listdir("/sys/class/net")) == links_before, "the machine's links",
           expected=", ".join(links_before), observed=", ".join(sorted(lab.machine.listdir("/sys/class/net"))))
    expect(not lab.alive(init1) and not lab.alive(init2), "the containers' inits", expected="gone",
           observed=f"PIDs {init1}, {init2}: " + ", ".join("alive" if lab.alive(i) else "gone" for i in (init1, init2)))
    expect(lab.exists(f"{ctr.STATE}/z1/upper/data"), "the upper layer of z1",
           expected="kept, with the file its command wrote", observed="gone")


def test_no_leaks(lab, ctr):
    opts = ("--net", "10.200.0.1,10.200.0.2/24", "--memory", "64M", "--pids", "32", "--cpu", "50000")
    prog, init, _ = ctr.parked("l1", opts=opts)
    command = lab.eventually(lambda: lab.only_child(init), what="the container's command, child of its init")
    for who, pid in (("ctr", prog.pid), ("the container's init", init), ("the container's command", command)):
        fds = ctr.fds(pid)
        expect(len(fds) == 3 and [f.split()[0] for f in fds] == ["0", "1", "2"],
               f"the descriptors {who} (PID {pid}) holds while the container runs",
               expected="0, 1 and 2 only: every pipe, socket and file opened on the way is closed",
               observed="; ".join(fds))
    big = []
    for line in lab.read(f"/proc/{prog.pid}/maps").splitlines():
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if len(fields) == 5 and end - start >= MIB:
            big.append(f"{fields[0]} ({(end - start) // 1024} KiB)")
    expect(not big, f"anonymous mappings of 1 MiB or more in ctr (PID {prog.pid}, /proc/{prog.pid}/maps)",
           expected="none: the init's stack is freed once clone has returned (the init has its own copy)",
           observed=", ".join(big))


def test_config_refused(lab, ctr):
    for what, argv in (
            ("with an empty name", ctr.argv("")),
            ("with a 13-character name", ctr.argv("abcdefghijklm")),
            ("with a name holding capitals", ctr.argv("Web")),
            ("with an empty host name", ctr.argv("c1", ("--hostname", ""))),
            ("with a 65-character host name", ctr.argv("c1", ("--hostname", "h" * 65))),
            ("without --cgroup-parent", ctr.argv("c1", parent=None))):
        ctr.refused(lab.run(*argv), what, "Invalid argument", "c1")
        made = lab.machine.listdir(ctr.STATE) if lab.exists(ctr.STATE) else None
        expect(made is None, f"the state folder {ctr.STATE} after `ctr run` {what}",
               expected="not made: nothing is made before the configuration is checked",
               observed=", ".join(made or ["made, empty"]))
    ctr.refused(lab.run(*ctr.argv("c3", image=f"{ctr.BASE}/none")), "with an image that does not exist",
                "No such file or directory", "c3")
    ctr.refused(lab.run(*ctr.argv("c4", state=f"{ctr.BASE}/none/state")),
                "with a state folder in a folder that does not exist", "No such file or directory", "c4")
    ctr.refused(lab.run(*ctr.argv("c7", parent="/sys/fs/cgroup/nothere")),
                "with a cgroup parent that does not exist", "No such file or directory", "c7")
    lab.sh(f"{ctr.BB} mkdir -p {ctr.STATE}/c5 {ctr.cgroup('c6')}")
    try:
        ctr.refused(lab.run(*ctr.argv("c5")), f"when {ctr.STATE}/c5 exists (a container of that name ran)",
                    "File exists", "c5")
        ctr.refused(lab.run(*ctr.argv("c6")), f"when the cgroup {ctr.cgroup('c6')} exists", "File exists")
        expect(lab.exists(ctr.cgroup("c6")), f"the cgroup {ctr.cgroup('c6')}, made before the failed `ctr run`",
               expected="still there: not the runtime's to remove", observed="removed")
        left = [sub for sub in ("work", "merged") if lab.exists(f"{ctr.STATE}/c6/{sub}")]
        expect(not left, "the layers of c6 after its cgroup could not be made", expected="work and merged removed",
               observed="left: " + ", ".join(left))
    finally:
        lab.machine.run([ctr.BB, "rmdir", ctr.cgroup("c6")], timeout=5.0)
    for name, opts, what in (("c8", ("--cpu", "500"), "--cpu 500 (cpu.max refuses a quota under 1000)"),
                             ("c9", ("--pids", "5000000"), "--pids 5000000 (pids.max refuses it)")):
        ctr.refused(lab.run(*ctr.argv(name, opts)), f"with {what}", "Invalid argument", name)


def test_prepare_failures(lab, ctr):
    net = "10.200.0.1,10.200.0.2/24"
    trace = ("sh", "-c", "echo ran > /ran")      # what the command leaves, if it runs
    r = lab.run(ctr.BB, "sh", "-c", 'ulimit -n 4 && exec "$@"', "sh", *lab.argv(tuple(ctr.argv("f1"))))
    ctr.refused(r, "with 4 descriptors at most (ulimit -n 4): the release pipe cannot be made",
                "Too many open files", "f1")
    quota = "/proc/sys/user/max_ipc_namespaces"
    saved = lab.read(quota).strip()
    lab.sh(f"echo 0 > {quota}")
    try:
        r = ctr.run("f2", "true")
    finally:
        lab.machine.run(["/bin/sh", "-c", f"echo {saved} > {quota}"], timeout=10.0)
    ctr.refused(r, "when no IPC namespace may be made (max_ipc_namespaces = 0): clone fails",
                "No space left on device", "f2")
    lab.run(ctr.IP, "link", "add", "vh-f3", "type", "veth", "peer", "name", "vp-f3")
    try:
        r = ctr.run("f3", *trace, opts=("--net", net))
        ctr.refused(r, "when a link vh-f3 exists already", "File exists", command="sh")
        left = [x for x in ctr.leftovers("f3") if "vh-f3" not in x]
        expect(not left, "what the failed `ctr run` (vh-f3 taken) left on the machine", expected="nothing",
               observed="; ".join(left))
        expect(not lab.exists(f"{ctr.STATE}/f3/upper/ran"), "the command of the container whose veth pair failed",
               expected="never run: the init gives up when the runtime does", observed="it ran (/ran in its upper layer)")
        r = lab.run(*ctr.argv("f3", state=f"{ctr.STATE}/again"))
        expect_exit(r, 0, "`ctr run --name f3 -- true` without a network, while a link vh-f3 exists")
        expect(lab.exists("/sys/class/net/vh-f3") and lab.exists("/sys/class/net/vp-f3"),
               "the veth pair vh-f3, vp-f3 made before the two `ctr run --name f3`",
               expected="still there: not the runtime's to delete", observed="deleted")
    finally:
        lab.run(ctr.IP, "link", "del", "vh-f3")
    r = ctr.run("f4", *trace, opts=("--net", "10.200.0.300,10.200.0.2/24"))
    ctr.refused(r, "with a host address that is not one (10.200.0.300)", "Invalid argument", "f4", command="sh")
    expect(not lab.exists(f"{ctr.STATE}/f4/upper/ran"), "the command of the container whose host address failed",
           expected="never run: the init gives up when the runtime does", observed="it ran (/ran in its upper layer)")


def test_init_failures(lab, ctr):
    quota = "/proc/sys/user/max_cgroup_namespaces"
    saved = lab.read(quota).strip()
    lab.sh(f"echo 0 > {quota}")
    try:
        r = ctr.run("i1", "true")
    finally:
        lab.machine.run(["/bin/sh", "-c", f"echo {saved} > {quota}"], timeout=10.0)
    ctr.refused(r, "when no cgroup namespace may be made (max_cgroup_namespaces = 0)", "No space left on device", "i1")
    ctr.refused(ctr.run("i2", "true", opts=("--net", "10.200.0.1,10.200.0.256/24")),
                "with a container address that is not one (10.200.0.256)", "Invalid argument", "i2")
    for name, image, what, text in (
            ("i3", f"{ctr.IMAGE}/etc/passwd", "with a file for an image (overlayfs refuses it)", "Invalid argument"),
            ("i4", f"{ctr.BAD}/noproc", "with an image without /proc", "No such file or directory"),
            ("i5", f"{ctr.BAD}/nodev", "with an image without /dev", "No such file or directory"),
            ("i6", f"{ctr.BAD}/oldroot", "with an image holding a .oldroot", "File exists")):
        ctr.refused(ctr.run(name, "true", image=image), what, text, name)
    ctr.refused(ctr.run("i7", "true", opts=("--pids", "1")), "with --pids 1: the init cannot fork the command",
                "Resource temporarily unavailable", "i7")
    # Calls only the init makes, made to fail by the driver (`ctr run --deny`,
    # a seccomp filter the init inherits): each failure ends the run with 125
    # and its reason, and the runtime still cleans up.
    for n, (call, step) in enumerate((("mknod", "making /dev's nodes"), ("symlink", "making /dev's links"),
                                      ("chdir", "entering the new root"), ("pivot_root", "pivot_root"),
                                      ("umount2", "detaching the old root"), ("sethostname", "setting the host name")),
                                     start=8):
        ctr.refused(ctr.run(f"i{n}", "true", opts=("--deny", call)),
                    f"with {call}() failing in the init ({step})", "Operation not permitted", f"i{n}")


def test_cgroup_functions(lab, ctr):
    p = ctr.parent
    stray = lab.start(ctr.BB, "sleep", "60")
    size = len(f"{p}/cf4")
    long_path = "/a" * 2041                       # with "/cgroup.procs": 4095 characters
    steps = [("cgroup_create", p, "cf1", 4096, 64 * MIB, 20000, 50000, 32),
             ("cgroup_create", p, "cf2"),
             ("cgroup_create", p, "cf5", 4096, 0, 50000),
             ("cgroup_create", p, "cf1"),
             ("cgroup_create", "/sys/fs/cgroup/nothere", "cf1"),
             ("cgroup_create", p, "cf3", 4096, 0, 500),
             ("cgroup_create", p, "cf4", size),
             ("cgroup_create", p, "cf4", size + 1),
             ("cgroup_add", f"{p}/cf1", stray.pid),
             ("cgroup_add", f"{p}/cf1", 999999),
             ("cgroup_add", f"{p}/nothere", stray.pid),
             ("cgroup_add", long_path, 1),
             ("cgroup_add", long_path + "a", 1),
             ("cgroup_create", p, "cf6", 4096, 1, 0, 0, 1),
             ("cgroup_create", p, "cf7", 4096, 0, 1),
             ("cgroup_create", p, "cf8", 4096, 0, 50000, 1),
             ("cgroup_remove", "/etc/passwd/x")]
    wanted = [f"cgroup_create returned 0 | path {p}/cf1", f"cgroup_create returned 0 | path {p}/cf2",
              f"cgroup_create returned 0 | path {p}/cf5",
              "error: cgroup_create returned -1, errno EEXIST (File exists)",
              "error: cgroup_create returned -1, errno ENOENT (No such file or directory)",
              "error: cgroup_create returned -1, errno EINVAL (Invalid argument)",
              "error: cgroup_create returned -1, errno ENAMETOOLONG (File name too long)",
              f"cgroup_create returned 0 | path {p}/cf4",
              "cgroup_add returned 0", "error: cgroup_add returned -1, errno ESRCH (No such process)",
              "error: cgroup_add returned -1, errno ENOENT (No such file or directory)",
              "error: cgroup_add returned -1, errno ENOENT (No such file or directory)",
              "error: cgroup_add returned -1, errno ENAMETOOLONG (File name too long)",
              f"cgroup_create returned 0 | path {p}/cf6",
              "error: cgroup_create returned -1, errno EINVAL (Invalid argument)",
              "error: cgroup_create returned -1, errno EINVAL (Invalid argument)",
              "error: cgroup_remove returned -1, errno ENOTDIR (Not a directory)"]
    what = ["cgroup_create with every limit", "cgroup_create without limits", "cgroup_create with a quota alone",
            "cgroup_create of a cgroup that exists", "cgroup_create under a parent that does not exist",
            "cgroup_create with a CPU quota of 500 (cpu.max refuses it)",
            f"cgroup_create of {p}/cf4 ({size} characters) into {size} bytes",
            f"cgroup_create of {p}/cf4 into {size + 1} bytes", "cgroup_add of a sleeping process",
            "cgroup_add of a process that does not exist", "cgroup_add to a cgroup that does not exist",
            "cgroup_add with a path whose cgroup.procs has 4095 characters",
            "cgroup_add with a path whose cgroup.procs has 4096 characters (PATH_MAX with its NUL)",
            "cgroup_create with a memory limit of 1 byte and 1 task", "cgroup_create with a CPU quota of 1",
            "cgroup_create with a CPU period of 1 (cpu.max refuses it)",
            "cgroup_remove of a path under a file"]
    try:
        said = ctr.call(*steps)
        for line, want, w in zip(said, wanted, what):
            expect(line == want, f"`ctr call {w}`", expected=want, observed=line)
        for name, files in (("cf1", {"memory.max": "67108864", "memory.swap.max": "0", "cpu.max": "20000 50000",
                                     "pids.max": "32"}),
                            ("cf2", {"memory.max": "max", "memory.swap.max": "max", "cpu.max": "max 100000",
                                     "pids.max": "max"}),
                            ("cf5", {"cpu.max": "50000 100000"}),
                            ("cf6", {"memory.max": "0", "pids.max": "1", "cpu.max": "max 100000"})):
            for file, want in files.items():
                got = lab.read(f"{p}/{name}/{file}").strip()
                expect(got == want, f"{p}/{name}/{file}", expected=want, observed=got)
        for name in ("cf3", "cf7", "cf8"):
            expect(not lab.exists(f"{p}/{name}"), f"{p}/{name}, whose cpu.max could not be written",
                   expected="removed again by cgroup_create", observed="left")
        st = lab.machine.lstat(f"{p}/cf1")
        expect(st.mode & 0o7777 == 0o755, f"the mode of {p}/cf1", expected="755", observed=f"{st.mode & 0o7777:o}")
        seen = lab.read(f"/proc/{stray.pid}/cgroup").strip()
        expect(seen == f"0::{p.removeprefix('/sys/fs/cgroup')}/cf1", f"the cgroup of PID {stray.pid} after cgroup_add",
               expected=f"0::{p.removeprefix('/sys/fs/cgroup')}/cf1", observed=seen)
        said = ctr.call(*(("cgroup_remove", f"{p}/{n}") for n in ("cf1", "cf2", "cf4", "cf5", "cf6", "nothere")))
        expect(said == ["cgroup_remove returned 0"] * 6,
               f"`ctr call cgroup_remove` of cf1 (PID {stray.pid} in it), cf2, cf4, cf5, cf6 (empty) and nothere",
               expected="cgroup_remove returned 0, six times", observed=" / ".join(said))
        gone = stray.finish(3.0)
        expect(gone.signal == 9, f"PID {stray.pid}, in cf1 when cgroup_remove removed it",
               expected="killed by SIGKILL (cgroup.kill)", observed=gone.describe())
        left = [n for n in ("cf1", "cf2", "cf4", "cf5", "cf6") if lab.exists(f"{p}/{n}")]
        expect(not left, "the cgroups cgroup_remove removed", expected="gone", observed="still there: " + ", ".join(left))
        # Started without descriptor 0, as a daemon may be: the first file
        # each function opens gets 0, a descriptor like any other.
        said = ctr.call(("cgroup_create", p, "cf9", 4096, 0, 0, 0, 8), ("container_stop", p, "cf9"),
                        ("cgroup_remove", f"{p}/cf9"), without_stdin=True)
        wanted = [f"cgroup_create returned 0 | path {p}/cf9", "container_stop returned 0", "cgroup_remove returned 0"]
        expect(said == wanted, "`ctr call` of cgroup_create (pids.max 8), container_stop and cgroup_remove of cf9, "
               "started with descriptor 0 closed", expected=" / ".join(wanted), observed=" / ".join(said))
    finally:
        lab.machine.run(["/bin/sh", "-c", f"cd {p} && for c in cf1 cf2 cf3 cf4 cf5 cf6 cf7 cf8 cf9; do [ -d $c ] || continue; "
                         f"echo 1 > $c/cgroup.kill; until {ctr.BB} rmdir $c; do {ctr.BB} sleep 0.05; done; done"],
                        timeout=5.0)


def test_net_functions(lab, ctr):
    steps = [("net_veth_create", "ut-a", "ut-b", "self"), ("net_veth_create", "ut-a", "ut-c", "self"),
             ("net_veth_create", "ut-x", "ut-y", 999999),
             ("net_addr_add", "ut-a", "10.201.0.1", 24), ("net_addr_add", "ut-a", "10.201.0.1", 24),
             ("net_addr_add", "ut-a", "10.201.0.300", 24), ("net_addr_add", "ut-a", "10.201.1.1", -1),
             ("net_addr_add", "ut-a", "10.201.1.1", 33), ("net_addr_add", "ut-b", "10.201.2.1", 0),
             ("net_addr_add", "ut-b", "10.201.3.1", 32), ("net_addr_add", "nothere", "10.201.4.1", 24),
             ("net_link_up", "ut-a"), ("net_link_up", "nothere"), ("net_link_delete", "nothere")]
    ok = {0, 3, 8, 9, 11}
    errors = {1: "EEXIST (File exists)", 2: "ESRCH (No such process)", 4: "EEXIST (File exists)",
              5: "EINVAL (Invalid argument)", 6: "EINVAL (Invalid argument)", 7: "EINVAL (Invalid argument)",
              10: "ENODEV (No such device)", 12: "ENODEV (No such device)", 13: "ENODEV (No such device)"}
    try:
        said = ctr.call(*steps)
        for i, (step, line) in enumerate(zip(steps, said)):
            want = f"{step[0]} returned 0" if i in ok else f"error: {step[0]} returned -1, errno {errors[i]}"
            expect(line == want, f"`ctr call {' '.join(map(str, step))}`", expected=want, observed=line)
        r = lab.run(ctr.IP, "-j", "addr", "show")
        links = {link["ifname"]: link for link in json.loads(r.stdout or "[]")}
        expect({"ut-a", "ut-b"} <= set(links) and not {"ut-c", "ut-x", "ut-y"} & set(links),
               "the machine's links after the calls (ip -j addr show)", expected="ut-a and ut-b, no other ut-",
               observed=", ".join(sorted(links)))
        for name, up, addrs in (("ut-a", True, ["10.201.0.1/24"]), ("ut-b", False, ["10.201.2.1/0", "10.201.3.1/32"])):
            link = links[name]
            seen = sorted(f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet")
            expect(seen == addrs, f"the IPv4 addresses of {name}", expected=", ".join(addrs),
                   observed=", ".join(seen) or "none")
            expect(("UP" in link["flags"]) == up, f"the flags of {name}", expected="UP" if up else "not UP",
                   observed=",".join(link["flags"]))
            expect(link.get("link") == ("ut-b" if name == "ut-a" else "ut-a"), f"the peer of {name}",
                   expected="ut-b" if name == "ut-a" else "ut-a", observed=link.get("link"))
        said = ctr.call(("net_link_delete", "ut-a"))
        expect(said == ["net_link_delete returned 0"], "`ctr call net_link_delete ut-a`",
               expected="net_link_delete returned 0", observed=said[0])
        left = [n for n in ("ut-a", "ut-b") if lab.exists(f"/sys/class/net/{n}")]
        expect(not left, "the veth pair ut-a, ut-b once ut-a is deleted", expected="both gone",
               observed="still there: " + ", ".join(left))
        ctr_path = f"{lab.out}/ctr"
        r = lab.run("/usr/bin/unshare", "-n", ctr.BB, "sh", "-c",
                    f"{ctr_path} call net_addr_add lo 127.0.0.5 8 -- net_link_up lo; "
                    f"{ctr_path} call --fds 3 net_link_up lo; {ctr.BB} ip -o addr show dev lo")
        lines = r.stdout.splitlines()
        for i, (want, what) in enumerate((("net_addr_add returned 0", "net_addr_add lo 127.0.0.5 8"),
                                          ("net_link_up returned 0", "net_link_up lo"),
                                          ("error: net_link_up returned -1, errno EMFILE (Too many open files)",
                                           "--fds 3 net_link_up lo: no descriptor left for the socket"))):
            seen = lines[i] if i < len(lines) else r.stderr.strip()
            expect(seen == want, f"`ctr call {what}` in a network namespace of its own (unshare -n)",
                   expected=want, observed=seen)
        expect("inet 127.0.0.5/8" in r.stdout, "the addresses of lo in that namespace (ip -o addr show dev lo)",
               expected="127.0.0.5/8", observed=" / ".join(lines[3:]))
    finally:
        for name in ("ut-a", "ut-x"):
            if lab.exists(f"/sys/class/net/{name}"):
                lab.run(ctr.IP, "link", "del", name)
