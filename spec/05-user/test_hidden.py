"""Hidden cases of lab 05-user: unmapped ids, maps written twice, the errors
the kernel gives when user namespaces are disabled or exhausted, a child
abandoned or interrupted while it waits, failures that must leave nothing
behind, the host name and the hints."""
import time

from harness.casekit import expect

OWNED = "/tmp/lab05-owned"
MAX_USERNS = "/proc/sys/user/max_user_namespaces"
UNPRIV_CLONE = "/proc/sys/kernel/unprivileged_userns_clone"


def test_unmapped_ids_overflow(lab, userns):
    # A file of ids nobody maps: uid 1234, gid 4321.
    lab.sh(f"touch {OWNED} && chown 1234:4321 {OWNED}")
    try:
        prog = userns.start("ids")
        userns.reported(prog, "spawned")
        child = userns.fn_process(prog)
        for name in ("uid_map", "gid_map"):
            entries = userns.read_map(child, name)
            expect(entries == [(0, 0, 1)], f"/proc/{child}/{name} of a child spawned by root",
                   expected="0 0 1: root alone becomes root inside, no other id is mapped",
                   observed=" / ".join(" ".join(map(str, e)) for e in entries) or "(empty)")
        seen = userns.inside(child, "stat", "-c", "%u:%g", "/", OWNED).split()
        expect(seen[:1] == ["0:0"], "the owner of / (root outside) seen from inside the user namespace",
               expected="0:0 (mapped)", observed=seen[:1])
        expect(seen[1:] == ["65534:65534"], f"the owner of {OWNED} (1234:4321 outside) seen from inside",
               expected="65534:65534 (unmapped ids read as the overflow ids)", observed=seen[1:])
    finally:
        lab.machine.run(["rm", "-f", OWNED], timeout=5.0)


def test_second_write_fails(lab, userns):
    # With stdin closed too: open() of a map file may then return fd 0.
    for options in ((), ("--close-stdin",)):
        prog = userns.start(*options, "remap", student=True)
        child = userns.pid_line(prog, "spawned")
        shown = " ".join(("userns", *options, "remap"))
        for word, what, want in (
                ("second uid_map:", "userns_write_map, a second write to uid_map", "returned -1, errno EPERM"),
                ("late setgroups:", "userns_deny_setgroups once gid_map is written", "returned -1, errno EPERM"),
                ("late map_root:", "userns_map_root on a child already mapped", "returned -1, errno EPERM"),
                ("write_map setgroups:", 'userns_write_map(pid, "setgroups", ...): no map file',
                 "returned -1, errno EINVAL")):
            said = userns.reported(prog, word)
            expect(said == want, f"what {what} reported ({shown})", expected=want, observed=said)
        entries = userns.read_map(child, "uid_map")
        uid = userns.STUDENT["uid"]
        expect(entries == [(0, uid, 1)], f"/proc/{child}/uid_map after the second write",
               expected=f"still 0 {uid} 1", observed=" / ".join(" ".join(map(str, e)) for e in entries))
        prog.signal(9)
        prog.finish()


def _failure(result) -> tuple:
    lines = result.stdout.splitlines()
    error = next((l for l in lines if l.startswith("error:")), "")
    hint = next((l for l in lines if l.startswith("hint:")), "")
    return error, hint


def test_enospc_explained(lab, userns):
    old = userns.set_sysctl(MAX_USERNS, "0")
    try:
        result = lab.run("userns", "ids", timeout=8.0)
    finally:
        userns.restore_sysctl(MAX_USERNS, old)
    error, hint = _failure(result)
    expect(error.startswith("error: userns_spawn returned -1, errno ENOSPC"),
           f"the driver, with {MAX_USERNS} set to 0", expected="userns_spawn returned -1, errno ENOSPC "
           "(kept for the caller through the clean-up)", observed=f"{error or 'no error line'}; {result.describe()}")
    expect("max_user_namespaces" in hint, "the hint userns_hint(ENOSPC) gave",
           expected="a sentence naming /proc/sys/user/max_user_namespaces", observed=hint or "no hint line")


def test_eperm_explained(lab, userns):
    old = userns.set_sysctl(UNPRIV_CLONE, "0")
    try:
        result = lab.run("userns", "ids", timeout=8.0, **userns.STUDENT)
    finally:
        userns.restore_sysctl(UNPRIV_CLONE, old)
    error, hint = _failure(result)
    expect(error.startswith("error: userns_spawn returned -1, errno EPERM"),
           f"the driver run by an ordinary user, with {UNPRIV_CLONE} set to 0",
           expected="userns_spawn returned -1, errno EPERM", observed=f"{error or 'no error line'}; {result.describe()}")
    expect("unprivileged_userns_clone" in hint, "the hint userns_hint(EPERM) gave",
           expected="a sentence naming /proc/sys/kernel/unprivileged_userns_clone", observed=hint or "no hint line")


def _signal_child(lab, child: int, times: int = 3) -> None:
    """SIGALRM to the waiting child, a few times: with --interrupt its handler
    does not restart read().  Spaced so that each finds the child blocked."""
    for _ in range(times):
        lab.run("kill", "-ALRM", child)
        time.sleep(0.05)


def test_abandoned_child_exits(lab, userns):
    uid, gid = userns.STUDENT["uid"], userns.STUDENT["gid"]
    for map_uid, map_gid, bad in ((0, gid, "uid_map"), (uid, 0, "gid_map")):
        prog = userns.start("--interrupt", "abandon", map_uid, map_gid, student=True)
        child = userns.pid_line(prog, "cloned")
        _signal_child(lab, child)
        userns.kill_usr1(prog)
        result = prog.finish(10.0)
        error = userns.line(result.stdout, "error:")
        expect(error.startswith("error: userns_map_root returned -1, errno EPERM"),
               f"userns_map_root({child}, {map_uid}, {map_gid}) by an ordinary user ({uid}:{gid}): "
               f"its {bad} line maps an id that is not its own", expected="-1 with errno EPERM",
               observed=error or userns.said(result))
        ran = userns.line(result.stdout, "inside")
        ended = userns.line(result.stdout, "exited") or userns.line(result.stdout, "signaled")
        expect(ended == "exited 125" and not ran,
               "the held child once the driver closed the pipe without writing (after SIGALRMs interrupted "
               "its read)", expected="exited 125 (USERNS_ABANDONED), the function never run",
               observed=f"{ended or 'it never ended: ' + result.describe()}" + (f"; it ran: {ran}" if ran else ""),
               hint="a child that keeps its copy of the write end never sees end-of-file")


def test_wait_survives_signals(lab, userns):
    prog = userns.start("--interrupt", "stepwise", student=True)
    child = userns.pid_line(prog, "cloned")
    _signal_child(lab, child)
    userns.kill_usr1(prog)
    userns.reported(prog, "mapped")
    _signal_child(lab, child)
    expect(userns.comm(child) != userns.FN_COMM, f"the child (PID {child}) mapped but not released, "
           "after SIGALRMs interrupted its read", expected="still waiting on its pipe",
           observed=f"it runs the function (named {userns.FN_COMM})" if userns.comm(child) == userns.FN_COMM
           else f"it is {userns.comm(child)}")
    userns.kill_usr1(prog)
    said = userns.reported(prog, "released,")
    expect(said == "release_fd -1", "what userns_release left in child->release_fd", expected="release_fd -1",
           observed=said)
    ran = userns.reported(prog, "inside")
    expect(ran == "uid 0 gid 0", "the released child, interrupted while it waited",
           expected="it runs the function: inside uid 0 gid 0", observed=ran)
    extra = userns.fds(prog.pid)
    expect(not extra, f"file descriptors of the driver once it released the child (/proc/{prog.pid}/fd)",
           expected="only 0, 1 and 2", observed=extra)


def test_spawn_fails_cleanly(lab, userns):
    result = lab.run("userns", "--deny-write-opens", "ids")
    error = userns.line(result.stdout, "error:")
    ran = userns.line(result.stdout, "inside")
    expect(error.startswith("error: userns_spawn returned -1, errno EACCES") and not ran,
           "userns_spawn when the map files cannot be opened for writing (a seccomp filter: EACCES)",
           expected="-1 with errno EACCES, the child never run", observed=userns.said(result))
    for options, what, wanted in ((("--no-fds",), "no file descriptor can be opened (RLIMIT_NOFILE)", "EMFILE"),
                                  (("--short-memory",), "a 1 MiB allocation fails (RLIMIT_AS)", "ENOMEM")):
        prog = lab.start("userns", "--hold", *options, "exit", 0)
        out = lab.eventually(lambda: prog.output() if "ready\n" in prog.output() or "exited" in prog.output()
                             or not prog.running() else None, timeout=10.0, what="userns to fail or end")
        error = userns.line(out, "error:")
        forked = wanted == "ENOMEM" and "exited 0" in out  # no stack to allocate: a fork-based runtime
        expect(error.startswith(f"error: userns_spawn returned -1, errno {wanted}") or forked,
               f"userns_spawn when {what}", expected=f"-1 with errno {wanted}",
               observed=out.strip().replace("\n", " | ") or "nothing")
        if not forked:
            extra = userns.fds(prog.pid)
            expect(not extra, f"file descriptors of the driver after that failure (/proc/{prog.pid}/fd)",
                   expected="only 0, 1 and 2", observed=extra)
            left = lab.children(prog.pid)
            expect(not left, "children of the driver after that failure", expected="none",
                   observed=", ".join(f"PID {p.pid} ({p.state})" for p in left))
        prog.signal(9)
        prog.finish()
    # userns_clone alone: its own return value, as the header gives it.
    for option, wanted in (("--no-fds", "EMFILE"), ("--short-memory", "ENOMEM")):
        prog = lab.start("userns", option, "stepwise")
        out = lab.eventually(lambda: prog.output() if "cloned" in prog.output() or not prog.running() else None,
                             timeout=10.0, what="userns stepwise to clone or fail")
        prog.signal(9)
        prog.finish()
        error = userns.line(out, "error:")
        forked = wanted == "ENOMEM" and "cloned" in out  # no stack to allocate: a fork-based runtime
        expect(error.startswith(f"error: userns_clone returned -1, errno {wanted}") or forked,
               f"userns_clone under {option}", expected=f"-1 with errno {wanted}",
               observed=out.strip().replace("\n", " | ") or "nothing")
    prog = lab.start("userns", "release-dead")
    out = lab.eventually(lambda: prog.output() if "ready\n" in prog.output() or not prog.running() else None,
                         timeout=10.0, what="userns release-dead to hold")
    said = userns.line(out, "release:")
    expect(said == "release: returned -1, errno EPIPE", "userns_release of a child that was killed before",
           expected="release: returned -1, errno EPIPE", observed=said or out.strip())
    fd = userns.line(out, "release_fd")
    extra = userns.fds(prog.pid)
    expect(fd == "release_fd -1" and not extra, "the write end once that release failed",
           expected="release_fd -1, and only fds 0, 1 and 2 left in the driver", observed=f"{fd}; {extra or 'no extra fd'}")


def test_nothing_leaked(lab, userns):
    prog = userns.start("ids")
    userns.reported(prog, "spawned")
    child = userns.fn_process(prog)
    for pid, who in ((prog.pid, "the driver, once userns_spawn returned"), (child, "the released child")):
        extra = userns.fds(pid)
        expect(not extra, f"file descriptors of {who} (/proc/{pid}/fd)",
               expected="only 0, 1 and 2: both ends of the pipe closed", observed=extra)

    def vm_size(n: int) -> int:
        held = lab.start("userns", "many", n)
        out = held.wait_for_output("ready\n", timeout=30.0)
        extra = userns.fds(held.pid)
        expect(not extra, f"file descriptors of userns after {n} spawns", expected="only 0, 1 and 2",
               observed=f"{extra}, after printing: {out.strip()}")
        kb = int(lab.status(held.pid)["VmSize"].split()[0])
        held.signal(9)
        held.finish()
        return kb
    one, forty = vm_size(1), vm_size(40)
    expect(forty - one < 8 * 1024, "the virtual memory of userns (VmSize in /proc/PID/status) after 40 spawns, "
           "against 1", expected="about the same: each clone stack freed", observed=f"{(forty - one) // 1024} MiB more")


def test_hostname_and_hints(lab, userns):
    result = lab.run("userns", "hostname", "lab05-outside", **userns.STUDENT)
    said = userns.line(result.stdout, "hostname:")
    expect(said == "hostname: returned -1, errno EPERM",
           "userns_set_hostname called by an ordinary user in the machine's own namespaces",
           expected="hostname: returned -1, errno EPERM", observed=said or userns.said(result))
    long_name = "h" * 65
    prog = userns.start("container", long_name, student=True)
    said = userns.reported(prog, "inside error:")
    expect(said.startswith("userns_set_hostname returned -1, errno EINVAL"),
           "userns_set_hostname with a 65-byte name, in the container", expected="-1 with errno EINVAL",
           observed=said)
    for name, word in (("EPERM", "unprivileged_userns_clone"), ("ENOSPC", "max_user_namespaces")):
        result = lab.run("userns", "hint", name)
        expect(word in result.stdout, f"userns_hint({name})", expected=f"a sentence naming {word}",
               observed=userns.said(result))
    for name in ("EINVAL", "EACCES", "ENOMEM"):
        result = lab.run("userns", "hint", name)
        expect(result.stdout.strip() == "no hint", f"userns_hint({name})", expected="NULL (no hint)",
               observed=userns.said(result))
