"""Hidden cases of lab 09-prison: the configuration's limits, the stack,
zombies, the unprivileged prison and its id maps."""
import random
import string

from harness.casekit import expect


def test_long_hostname_refused(lab, cell):
    r = cell.one("x" * 65, cell.root, "exit", 0)
    cell.expect_refused(r, "a host name of 65 characters", mentions="64")
    r = cell.one("y" * 64, cell.root, "exit", 0)
    expect(r.get("status") == "exited" and r.get("code") == 0, "a host name of exactly 64 characters "
           "(the kernel's limit, allowed)", expected="exited 0", observed=cell.said(r))


def test_missing_rootfs_refused(lab, cell):
    r = cell.one("box", "/tmp/no-such-rootfs", "exit", 0)
    cell.expect_refused(r, "a rootfs that does not exist", mentions="/tmp/no-such-rootfs")
    lab.sh("echo not a directory > /tmp/rootfs-file")
    r = cell.one("box", "/tmp/rootfs-file", "exit", 0)
    cell.expect_refused(r, "a rootfs that is a file, not a directory", mentions="/tmp/rootfs-file")


def test_uts_required(lab, cell):
    before = lab.hostname()
    r = cell.one("--ns", "pid,mnt,ipc", "intruder", cell.root, "exit", 0)
    expect(lab.hostname() == before, "the machine's own host name after a prison without CLONE_NEWUTS",
           expected=f"{before} (unchanged)", observed=lab.hostname())
    cell.expect_refused(r, "namespaces without CLONE_NEWUTS", mentions="UTS")


def test_hostname_fuzz(lab, cell):
    rng = random.Random(2528)
    names = ["".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(0, 100)))
             for _ in range(100)]
    names[:4] = ["", "a", "z" * 64, "Z" * 65]  # the edges, always
    before = lab.hostname()
    results = cell.run(cell.root, cell.root, "names", stdin=("\n".join(names) + "\n").encode(), timeout=40.0)
    expect(len(results) == len(names), "results printed for 100 host names", expected=len(names),
           observed=len(results))
    seen = [line[len("inside "):] for line in cell.last_output.splitlines() if line.startswith("inside ")]
    valid = [n for n in names if 1 <= len(n) <= 64]
    for name, r in zip(names, results):
        if 1 <= len(name) <= 64:
            expect(r.get("status") == "exited" and r.get("code") == 0,
                   f"a prison named {name!r} ({len(name)} characters)", expected="exited 0", observed=cell.said(r))
        else:
            expect(r.get("status") == "invalid_config", f"a prison named {name!r} ({len(name)} characters)",
                   expected="invalid_config", observed=cell.said(r))
    expect(seen == valid, "the host names the callbacks saw inside, in order",
           expected=f"the {len(valid)} valid names", observed=f"{len(seen)} names, first difference: "
           + next((f"{a!r} for {b!r}" for a, b in zip(seen, valid) if a != b), "none (a count mismatch)"))
    expect(lab.hostname() == before, "the machine's own host name after 100 prisons",
           expected=before, observed=lab.hostname())


def test_stack_big_enough(lab, cell):
    r = cell.one("box", cell.root, "deep", 700)
    expect(r.get("status") == "exited" and r.get("code") == 0,
           "a callback that uses 700 KiB of stack", expected="exited 0", observed=cell.said(r))


def test_no_zombie_left(lab, cell):
    for argv, status in ((("exit", 3), "exited"), (("segv",), "child_crashed")):
        prog = cell.start("--hold", "box", cell.root, *argv)
        out = prog.wait_for_output("ready\n")
        results = cell.results(out)
        expect(results and results[0].get("status") == status,
               f"what namespace_prison returned ({' '.join(map(str, argv))})", expected=status,
               observed=cell.said(results[0]) if results else out.strip())
        left = cell.descendants(prog.pid)
        expect(not left, f"processes under cell once namespace_prison has returned ({' '.join(map(str, argv))})",
               expected="none", observed=", ".join(f"PID {p.pid} in state {p.state}"
                                                    + (" (a zombie)" if p.state == "Z" else "") for p in left))
        prog.signal(9)
        prog.finish(2.0)


def test_unprivileged_prison(lab, cell):
    r = cell.one("--user", "box", cell.root, "whoami", uid=1000)
    seen = cell.inside(cell.last_output)
    expect(r.get("status") == "exited" and r.get("code") == 0,
           "namespace_prison_unprivileged run by uid 1000", expected="exited 0", observed=cell.said(r))
    expect((seen.get("pid"), seen.get("uid"), seen.get("gid"), seen.get("hostname")) == ("1", "0", "0", "box"),
           "what the callback sees inside: PID, uid, gid, host name",
           expected="pid 1 uid 0 gid 0 hostname box", observed=cell.last_output.strip())
    prog = cell.start("--user", "box", cell.root, "park", uid=1000)
    prisoner = cell.prisoner_of(prog)
    outside, inside = lab.ns(prog.pid), lab.ns(prisoner)
    same = [k for k in ("user", "pid", "uts", "mnt", "ipc") if outside.get(k) == inside.get(k)]
    expect(not same, f"the prisoner's (PID {prisoner}) namespaces against its parent's",
           expected="new user, pid, uts, mnt and ipc namespaces", observed="the same inode for " + ", ".join(same))
    for name, host_id in (("uid_map", 1000), ("gid_map", 1000)):
        lines = [line.split() for line in lab.read(f"/proc/{prisoner}/{name}").splitlines()]
        expect(lines == [["0", str(host_id), "1"]], f"/proc/{prisoner}/{name}, read from outside",
               expected=f"0 {host_id} 1", observed="; ".join(" ".join(w) for w in lines) or "empty: no map")
    uid = lab.status(prisoner)["Uid"].split()[0]
    expect(uid == "1000", f"the prisoner's uid on the machine (/proc/{prisoner}/status)",
           expected="1000: root inside, the student outside", observed=uid)


def test_map_refused_reported(lab, cell):
    # uid 1000 may map only its own uid: mapping uid 0 outside is refused by
    # the kernel, and the prison must say so, promptly, leaving nothing behind.
    prog = cell.start("--hold", "--user", "--uid-map", "0:0:1", "box", cell.root, "exit", 0, uid=1000)
    out = prog.wait_for_output("ready\n", timeout=6.0)
    results = cell.results(out)
    r = results[0] if results else {}
    expect(r.get("status") == "setup_failed" and r.get("err") == 1,
           "what namespace_prison_unprivileged returned when the kernel refuses the uid map",
           expected="setup_failed with err 1 (EPERM)", observed=cell.said(r))
    left = cell.descendants(prog.pid)
    expect(not left, "processes under cell once it has returned", expected="none",
           observed=", ".join(f"PID {p.pid} in state {p.state}" for p in left))


# ---------------------------------------------------------------- helpers
# errno values of the guest's kernel (x86-64 and arm64 alike)
ERRNO = {"EPERM": 1, "ENOENT": 2, "ECHILD": 10, "EAGAIN": 11, "EACCES": 13, "ENOTDIR": 20, "EINVAL": 22,
         "EMFILE": 24}


def held(lab, cell, *argv, uid=None, wrap=(), stdin=b"", timeout=8.0):
    """Starts `[WRAP] cell --hold ARGV`, waits for "ready"; returns the program, its result, its output."""
    cmd = (*wrap, f"{lab.out}/cell") if wrap else ("cell",)
    prog = lab.start(*cmd, "--hold", *argv, uid=uid, gid=uid, stdin=stdin)
    out = prog.wait_for_output("ready\n", timeout=timeout)
    results = cell.results(out)
    return prog, (results[0] if results else {"status": "no result line", "message": out.strip()}), out


def stop(prog):
    prog.signal(9)
    prog.finish(2.0)


def fds(lab, pid) -> list[int]:
    return sorted(int(fd) for fd in lab.machine.listdir(f"/proc/{pid}/fd"))


def expect_fds(lab, pid, what):
    open_fds = fds(lab, pid)
    expect(open_fds == [0, 1, 2], f"the descriptors {what} (/proc/{pid}/fd)",
           expected="0 1 2 only: every pipe and /proc file closed",
           observed=" ".join(f"{fd} ({lab.machine.readlink(f'/proc/{pid}/fd/{fd}')})" for fd in open_fds))


def expect_error(cell, r, what, status, errname, mentions=()):
    expect(r.get("status") == status and r.get("err") == ERRNO[errname], what,
           expected=f"{status} with err {ERRNO[errname]} ({errname})", observed=cell.said(r))
    for word in mentions:
        expect(word.lower() in r.get("message", "").lower(), f"{what}: the message should name what is at fault",
               expected=f"a message mentioning {word!r}", observed=repr(r.get("message")))


# ------------------------------------------------------------ the cases
def test_bad_configs_refused(lab, cell):
    user_ns = "pid,uts,mnt,ipc,user"
    lab.sh("echo not a directory > /tmp/rootfs-file")
    table = [  # (what, cell's options and host name, rootfs, errno name, words the message must hold)
        ("a NULL config", ("--null", "config", "box"), cell.root, "EINVAL", ("config",)),
        ("a NULL config, unprivileged", ("--user", "--null", "config", "box"), cell.root, "EINVAL", ("config",)),
        ("a NULL host name", ("--null", "hostname", "box"), cell.root, "EINVAL", ("hostname",)),
        ("a NULL rootfs", ("--null", "rootfs", "box"), cell.root, "EINVAL", ("rootfs",)),
        ("a NULL callback", ("--null", "callback", "box"), cell.root, "EINVAL", ("callback",)),
        ("an empty host name", ("",), cell.root, "EINVAL", ("hostname",)),
        ("a host name of 65 characters", ("h" * 65,), cell.root, "EINVAL", ("65", "64")),
        ("a host name of 100 characters", ("h" * 100,), cell.root, "EINVAL", ("100", "64")),
        ("a rootfs that does not exist", ("box",), "/tmp/no-such-rootfs", "ENOENT", ("/tmp/no-such-rootfs",)),
        ("a rootfs that is a file", ("box",), "/tmp/rootfs-file", "ENOTDIR", ("/tmp/rootfs-file",)),
        ("CLONE_SYSVSEM (0x40000) among the namespaces", ("--ns", "pid,uts,mnt,ipc,0x40000", "box"), cell.root,
         "EINVAL", ("CLONE_NEW",)),
        ("namespaces without CLONE_NEWUTS", ("--ns", "pid,mnt,ipc", "intruder"), cell.root, "EINVAL", ("UTS",)),
        ("a uid map without CLONE_NEWUSER", ("--uid-map", "0:0:1", "box"), cell.root, "EINVAL", ("CLONE_NEWUSER",)),
        ("a gid map without CLONE_NEWUSER", ("--gid-map", "0:0:1", "box"), cell.root, "EINVAL", ("CLONE_NEWUSER",)),
        ("CLONE_NEWUSER without CLONE_NEWNS", ("--ns", "pid,uts,ipc,user", "box"), cell.root, "EINVAL",
         ("CLONE_NEWNS",)),
        ("a uid map with a count of 0", ("--ns", user_ns, "--uid-map", "0:0:0", "box"), cell.root, "EINVAL",
         ("count",)),
        ("a gid map with a count of 0", ("--ns", user_ns, "--uid-map", "0:0:1", "--gid-map", "0:0:0", "box"),
         cell.root, "EINVAL", ("count",)),
    ]
    before = lab.hostname()
    for what, argv, rootfs, errname, words in table:
        prog, r, _ = held(lab, cell, *argv, rootfs, "whoami")
        expect_error(cell, r, f"namespace_prison given {what}", "invalid_config", errname, words)
        expect("inside pid" not in prog.output(), f"{what}: the callback", expected="never run",
               observed=prog.output().strip())
        left = cell.descendants(prog.pid)
        expect(not left, f"{what}: children of cell after the refusal", expected="none: nothing is created",
               observed=", ".join(f"PID {p.pid} ({p.state})" for p in left))
        expect(lab.hostname() == before, f"{what}: the machine's own host name", expected=before,
               observed=lab.hostname())
        stop(prog)


def test_setup_failures_reported(lab, cell):
    # uid 1000 may map only its own ids: the kernel refuses uid 0 outside.
    for option in ("--uid-map", "--gid-map"):
        prog, r, out = held(lab, cell, "--user", option, "0:0:1", "box", cell.root, "whoami", uid=1000)
        what = f"namespace_prison_unprivileged with {option} 0:0:1, run by uid 1000"
        expect_error(cell, r, what, "setup_failed", "EPERM", ("0 0 1", "own id"))
        expect("inside pid" not in out, f"{what}: the callback", expected="never run: the child gives up",
               observed=out.strip())
        left = cell.descendants(prog.pid)
        expect(not left, f"{what}: processes under cell", expected="none",
               observed=", ".join(f"PID {p.pid} ({p.state})" for p in left))
        expect_fds(lab, prog.pid, f"cell holds once the refused {option[2:]} has been reported")
        stop(prog)
    # A root directory uid 1000 may not enter: the child's chroot fails.
    lab.sh("rm -rf /tmp/locked-root && mkdir -m 000 /tmp/locked-root")
    prog, r, out = held(lab, cell, "--user", "box", "/tmp/locked-root", "whoami", uid=1000)
    expect_error(cell, r, "a prison of uid 1000 in a root directory of mode 000 owned by root", "setup_failed",
                 "EACCES", ("chroot", "/tmp/locked-root"))
    expect("inside pid" not in out, "the callback after chroot failed", expected="never run",
           observed=out.strip())
    expect_fds(lab, prog.pid, "cell holds once the failed chroot has been reported")
    stop(prog)
    # Namespaces without a user namespace need CAP_SYS_ADMIN.
    prog, r, out = held(lab, cell, "box", cell.root, "whoami", uid=1000)
    expect_error(cell, r, "namespace_prison (no user namespace) run by uid 1000", "clone_failed", "EPERM",
                 ("unprivileged",))
    expect_fds(lab, prog.pid, "cell holds once clone has failed")
    stop(prog)
    # One process at most for uid 1000: clone fails with EAGAIN.
    prog, r, out = held(lab, cell, "--user", "box", cell.root, "whoami", uid=1000, wrap=("prlimit", "--nproc=1"))
    expect_error(cell, r, "namespace_prison_unprivileged under `prlimit --nproc=1`", "clone_failed", "EAGAIN")
    expect_fds(lab, prog.pid, "cell holds once clone has failed with EAGAIN")
    stop(prog)
    # And when all goes well, the exit code still comes back.
    r = cell.one("--user", "box", cell.root, "exit", 42, uid=1000)
    expect(r.get("status") == "exited" and r.get("code") == 42, "namespace_prison_unprivileged, callback "
           "returning 42", expected="exited 42", observed=cell.said(r))


def test_resources_released(lab, cell):
    for uid, argv in ((None, ()), (1000, ("--user",))):
        who = "uid 1000, unprivileged" if uid else "root"
        prog, r, _ = held(lab, cell, *argv, "box", cell.root, "exit", 0, uid=uid)
        expect(r.get("status") == "exited" and r.get("code") == 0, f"a prison ({who})", expected="exited 0",
               observed=cell.said(r))
        expect_fds(lab, prog.pid, f"cell holds once its prison ({who}) has returned")
        stop(prog)
        prog = cell.start(*argv, "box", cell.root, "park", uid=uid)
        prisoner = cell.prisoner_of(prog)
        expect_fds(lab, prisoner, f"the prisoner ({who}) holds while its callback runs")
        stop(prog)
    r = cell.one("box", cell.root, "segv")
    expect(r.get("status") == "child_crashed" and r.get("err") == 0 and r.get("signal") == 11,
           "a callback writing through NULL", expected="child_crashed, signal 11, err 0 (no call failed)",
           observed=cell.said(r))
    # Five descriptors at most: the pipes may not all fit.  Either way, none is left open.
    for limit in (4, 5):
        prog, r, _ = held(lab, cell, "--user", "box", cell.root, "exit", 0, wrap=("prlimit", f"--nofile={limit}"))
        ok = (r.get("status") == "exited" and r.get("code") == 0) or (
            r.get("status") == "setup_failed" and r.get("err") == ERRNO["EMFILE"])
        expect(ok, f"namespace_prison_unprivileged under `prlimit --nofile={limit}`",
               expected="exited 0, or setup_failed with err 24 (EMFILE)", observed=cell.said(r))
        if limit == 4:
            expect(r.get("status") == "setup_failed" and "pipe" in r.get("message", ""),
                   "with only fd 3 free, the pipe cannot be made", expected="setup_failed naming the pipe",
                   observed=cell.said(r))
        expect_fds(lab, prog.pid, f"cell holds after the prison under `prlimit --nofile={limit}`")
        stop(prog)
    # SIGCHLD ignored: the kernel reaps the child itself, and waitpid fails with ECHILD.
    prog, r, _ = held(lab, cell, "box", cell.root, "exit", 0, wrap=("/usr/bin/env", "--ignore-signal=CHLD"))
    expect_error(cell, r, "namespace_prison in a process that ignores SIGCHLD", "wait_failed", "ECHILD",
                 ("waitpid",))
    expect_fds(lab, prog.pid, "cell holds once waitpid has failed")
    stop(prog)
    # The stack is freed: 40 prisons cost no more memory than one.
    sizes = []
    for count in (1, 40):
        names = "".join(f"box{i}\n" for i in range(count)).encode()
        prog, r, out = held(lab, cell, cell.root, cell.root, "names", stdin=names, timeout=20.0)
        expect(out.count("result exited 0") == count, f"{count} prisons in a row", expected=f"{count} exited 0",
               observed=out.strip()[-300:])
        sizes.append(int(lab.status(prog.pid)["VmSize"].split()[0]))
        stop(prog)
    expect(sizes[1] - sizes[0] < 16 * 1024, "cell's VmSize after 40 prisons against after one",
           expected="about the same: each 1 MiB stack freed", observed=f"{sizes[0]} kB, then {sizes[1]} kB")
