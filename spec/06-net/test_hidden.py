"""Hidden cases of lab 06-net: the kernel's error replies, a failed set-up
undone, and nothing left behind by the teardown."""
from harness.casekit import expect

IP = "/usr/bin/ip"


def test_error_reply_reported(lab, net):
    net.will_clean(None, "lab06g0")
    net.ok("veth", "lab06g0", "lab06g1")
    before = net.links()["lab06g0"]["ifindex"]
    net.refused(["veth", "lab06g0", "lab06g1"], "net_veth_add", "EEXIST",
                "creating the same veth pair a second time (the kernel's EEXIST reply)")
    after = net.links().get("lab06g0", {}).get("ifindex")
    expect(after == before, "lab06g0 after the refused second request", expected=f"still there, ifindex {before}",
           observed=after or "gone")
    net.refused(["linkdel", "lab06g7"], "net_link_del", "ENODEV", "deleting a device that does not exist")
    net.refused(["linkup", "lab06g7"], "net_link_up", "ENODEV", "bringing up a device that does not exist")
    net.refused(["setns", "lab06g7", "lab06-none"], "net_link_set_ns", "ENOENT",
                "moving a device into a namespace that does not exist")
    net.refused(["addr", "lab06g7", "10.6.7.1/24"], "net_addr_add", "ENODEV",
                "adding an address to a device that does not exist")
    net.ok("addr", "lab06g0", "10.6.7.1/24")
    net.refused(["addr", "lab06g0", "10.6.7.1/24"], "net_addr_add", "EEXIST", "adding the same address twice")


def test_failed_setup_undone(lab, net):
    # Someone else's veth pair already uses the host end's name.
    net.will_clean("lab06h", "lab06h0")
    lab.sh(f"{IP} link add lab06h0 type veth peer name lab06h9")
    net.refused(["up", "lab06h", "lab06h0", "lab06h1", "10.6.8.1/24", "10.6.8.2/24"], "net_pair_up", "EEXIST",
                "net_pair_up when a device named lab06h0 exists")
    expect("lab06h" not in net.ns_files(), "/run/netns after the failed set-up",
           expected="no lab06h: the namespace it made is deleted", observed=", ".join(net.ns_files()))
    left = [m.point for m in net.ns_mounts()]
    expect(not left, "mounts under /run/netns after the failed set-up", expected="none", observed=", ".join(left))
    links = net.links()
    expect("lab06h0" in links and "lab06h9" in links, "the veth pair that existed before",
           expected="lab06h0 and lab06h9 untouched: net_pair_up did not make them",
           observed="present: " + ", ".join(sorted(links)))
    expect("lab06h1" not in links, "the machine's devices", expected="no lab06h1", observed=", ".join(sorted(links)))
    expect(not net.addrs().get("lab06h0"), "the addresses of lab06h0, which is not ours",
           expected="none", observed=net.addrs().get("lab06h0"))
    # Someone else's namespace already has the name: it must survive the refusal.
    net.will_clean("lab06h2")
    net.ok("addns", "lab06h2")
    net.refused(["up", "lab06h2", "lab06h3", "lab06h4", "10.6.8.1/24", "10.6.8.2/24"], "net_pair_up", "EEXIST",
                "net_pair_up when a namespace named lab06h2 exists")
    held = [m.point for m in net.ns_mounts() if m.point == "/run/netns/lab06h2"]
    expect(held, "the namespace lab06h2 that existed before", expected="still mounted on /run/netns/lab06h2",
           observed="gone: " + (", ".join(net.ns_files()) or "/run/netns empty"))
    net.ok("delns", "lab06h2")
    # The step inside the namespace fails (the peer's address is not one): all of it is undone.
    net.will_clean("lab06h5", "lab06h6")
    net.refused(["up", "lab06h5", "lab06h6", "lab06h7", "10.6.18.1/24", "10.6.18.300/24"], "net_pair_up", "EINVAL",
                "net_pair_up when the peer's address is not an address (the step inside the namespace fails)")
    lab.eventually(lambda: not [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06h")
                                and n not in ("lab06h0", "lab06h9")],
                   timeout=3.0, what="no lab06h6 or lab06h7 left after the failed set-up")
    expect("lab06h5" not in net.ns_files(), "/run/netns after net_pair_up failed inside lab06h5",
           expected="no lab06h5: the namespace it made is deleted", observed=", ".join(net.ns_files()))


def test_teardown_leaves_no_link(lab, net):
    net.pair_up("lab06f", "lab06f0", "lab06f1", "10.6.6.1/24", "10.6.6.2/24")
    net.ok("down", "lab06f", "lab06f0")

    def veths():
        return sorted(n for n, l in net.links().items() if l.get("linkinfo", {}).get("info_kind") == "veth")
    # Deleting one end deletes the pair at once; a namespace that is let go
    # takes its devices with it a moment later: either is fine.
    lab.eventually(lambda: not veths(), timeout=3.0, what="no veth device left on the machine after `netlab down`")
    left = [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06f")]
    expect(not left, "/sys/class/net after `netlab down`", expected="no lab06f0 or lab06f1", observed=", ".join(left))


def test_teardown_leaves_no_namespace(lab, net):
    net.pair_up("lab06i", "lab06i0", "lab06i1", "10.6.9.1/24", "10.6.9.2/24")
    net.ok("down", "lab06i", "lab06i0")
    expect("lab06i" not in net.ns_files(), "/run/netns after `netlab down`",
           expected="no lab06i file", observed=", ".join(net.ns_files()))
    left = [m.point for m in net.ns_mounts()]
    expect(not left, "mounts under /run/netns after `netlab down`", expected="none", observed=", ".join(left))
    listed = lab.run(IP, "netns", "list").stdout.split()
    expect("lab06i" not in listed, "`ip netns list`", expected="no lab06i", observed=" ".join(listed) or "empty")


NS_DIR = "/run/netns"
# A name of 245 bytes makes "/run/netns/NAME" 256 bytes: one more than the path buffer holds.
LONG_245, LONG_300 = "n" * 245, "n" * 300


def _refuse_everywhere(net, name: str, errno_name: str, what: str) -> None:
    net.refused(["delns", name], "net_ns_del", errno_name, f"net_ns_del of {what}")
    net.refused(["enter", name], "net_ns_enter", errno_name, f"net_ns_enter of {what}")
    net.refused(["run", name, "true"], "net_ns_fork", errno_name, f"net_ns_fork of {what}")
    net.refused(["setns", "lo", name], "net_link_set_ns", errno_name, f"net_link_set_ns to {what}")


def test_names_refused(lab, net):
    # A mutant that accepts the long names makes the truncated one: clean it too.
    net.will_clean("lab06j", "lab06j-file", "n" * 244)
    before = net.ns_files()
    for name, errno_name, what in (("", "EINVAL", "an empty name"), ("lab06j/x", "EINVAL", "a name with a '/'"),
                                   (".", "EINVAL", "the name '.'"), ("..", "EINVAL", "the name '..'"),
                                   (LONG_245, "ENAMETOOLONG", "a name of 245 bytes (a path of 256)"),
                                   (LONG_300, "ENAMETOOLONG", "a name of 300 bytes")):
        net.refused(["addns", name], "net_ns_add", errno_name, f"net_ns_add of {what}")
    for name, errno_name, what in (("", "EINVAL", "an empty name"), ("..", "EINVAL", "the name '..'"),
                                   (LONG_300, "ENAMETOOLONG", "a name of 300 bytes")):
        _refuse_everywhere(net, name, errno_name, what)
    after = net.ns_files()
    expect(after == before, "/run/netns after the refused names", expected=", ".join(before) or "nothing new",
           observed=", ".join(after) or "empty")
    _refuse_everywhere(net, "lab06-none", "ENOENT", "a namespace that does not exist")
    net.ok("addns", "lab06j")
    net.refused(["addns", "lab06j"], "net_ns_add", "EEXIST", "net_ns_add of a name that exists")
    mounts = [m.point for m in net.ns_mounts() if m.point == f"{NS_DIR}/lab06j"]
    expect(len(mounts) == 1, "mounts on /run/netns/lab06j after the refused second net_ns_add",
           expected="the first one, alone", observed=len(mounts))
    # A file left by a failed add is not a mount point: umount2 says EINVAL, and the file still goes.
    lab.sh(f"touch {NS_DIR}/lab06j-file")
    net.ok("delns", "lab06j-file")
    expect("lab06j-file" not in net.ns_files(), "/run/netns after `netlab delns lab06j-file` (a plain file)",
           expected="no lab06j-file", observed=", ".join(net.ns_files()))
    net.ok("delns", "lab06j")


def _mode(lab, path: str) -> str:
    result = lab.run("stat", "-c", "%a %s", path)
    return result.stdout.strip() if result.exit == 0 else "absent"


def test_ns_add_refusals_leave_nothing(lab, net):
    net.will_clean("lab06k", "lab06k1", "lab06k2")
    # Start with no /run/netns at all: net_ns_add makes it.
    lab.sh(f"rmdir {NS_DIR} 2>/dev/null; test ! -e {NS_DIR}")
    net.refused(["addns", "lab06k"], "net_ns_add", "EACCES",
                "net_ns_add as an ordinary user when /run/netns does not exist (mkdir in /run is refused)",
                uid=1000)
    expect(not lab.exists(NS_DIR), "/run/netns after the refused net_ns_add", expected="still absent",
           observed="present")
    result = lab.run("/bin/sh", "-c", "umask 0; exec ./netlab addns lab06k")
    expect(result.stdout.strip() == "ok", "`netlab addns lab06k` (umask 0) when /run/netns does not exist",
           expected="ok: /run/netns made first", observed=result.stdout.strip() or result.describe())
    expect(_mode(lab, NS_DIR).split()[0] == "755", "the mode of /run/netns made by net_ns_add (umask 0)",
           expected="755", observed=_mode(lab, NS_DIR))
    # Under the mount, the file itself: empty, and mode 0 (only ever a mount point).
    lab.sh(f"umount {NS_DIR}/lab06k")
    expect(_mode(lab, f"{NS_DIR}/lab06k") == "0 0", "the file /run/netns/lab06k under its mount (mode, size)",
           expected="0 0: an empty file of mode 0", observed=_mode(lab, f"{NS_DIR}/lab06k"))
    lab.sh(f"rm -f {NS_DIR}/lab06k")
    # An ordinary user who may write in /run/netns still may not unshare: EPERM, and no file left.
    lab.sh(f"mount -t tmpfs -o mode=1777 lab06k {NS_DIR}")
    try:
        net.refused(["addns", "lab06k1"], "net_ns_add", "EPERM",
                    "net_ns_add as an ordinary user, in a /run/netns anyone may write (unshare is refused)",
                    uid=1000)
        left = sorted(lab.machine.listdir(NS_DIR))
        expect(not left, "/run/netns after the refused unshare", expected="empty: the file removed",
               observed=", ".join(left))
    finally:
        lab.sh(f"umount -l {NS_DIR}")
    # No /proc: the way back cannot be opened, so nothing may be done.
    net.refused(["addns", "lab06k2"], "net_ns_add", "ENOENT",
                "net_ns_add with no /proc (/proc/self/ns/net cannot be opened)",
                via=["unshare", "-m", "/bin/sh", "-c", "umount -l /proc && exec ./netlab addns lab06k2"])
    expect("lab06k2" not in net.ns_files(), "/run/netns after net_ns_add failed to open /proc/self/ns/net",
           expected="no lab06k2: the file removed", observed=", ".join(net.ns_files()))


def _leaks(lab, pid: int) -> list:
    """The descriptors of pid that a function of the lab opened: namespaces, sockets, /run/netns files."""
    fd_dir = f"/proc/{pid}/fd"
    links = []
    for fd in lab.machine.listdir(fd_dir):
        try:
            links.append(f"{fd} -> {lab.machine.readlink(f'{fd_dir}/{fd}')}")
        except OSError:
            pass
    return [l for l in links if "net:[" in l or "socket:[" in l or NS_DIR in l or "/proc/" in l]


def _held(lab, net, *argv, ready: str = "ready\n"):
    prog = lab.start("netlab", "--hold", *argv)
    out = prog.wait_for_output(ready, timeout=10.0)
    return prog, out


def _no_leak(lab, prog, what: str) -> None:
    leaks = _leaks(lab, prog.pid)
    expect(not leaks, f"the descriptors of netlab (PID {prog.pid}) once {what} has returned",
           expected="none left open by the function", observed=", ".join(leaks))


def _stop(prog) -> None:
    prog.signal(9)
    prog.finish(5.0)


def test_no_descriptor_left_open(lab, net):
    net.will_clean("lab06l", "lab06l0", "lab06m0")
    net.will_clean("lab06m")
    for argv, what in ((["addns", "lab06l"], "net_ns_add"), (["veth", "lab06l0", "lab06l1"], "net_veth_add"),
                       (["linkup", "lab06l0"], "net_link_up"), (["setns", "lab06l1", "lab06l"], "net_link_set_ns"),
                       (["up", "lab06m", "lab06m0", "lab06m1", "10.6.12.1/24", "10.6.12.2/24"], "net_pair_up"),
                       (["up", "lab06m", "lab06m0", "lab06m1", "10.6.12.1/24", "10.6.12.2/24"],
                        "net_pair_up (refused: EEXIST)")):
        prog, out = _held(lab, net, *argv)
        expect(out.startswith("ok") == ("refused" not in what), f"`netlab --hold {' '.join(argv)}`",
               expected="error: ... EEXIST" if "refused" in what else "ok", observed=out.strip())
        _no_leak(lab, prog, what)
        _stop(prog)
    prog, _ = _held(lab, net, "enter", "lab06l")
    held = next(m for m in net.ns_mounts() if m.point == f"{NS_DIR}/lab06l")
    inode = int(held.root.split("[")[1].rstrip("]"))
    expect(lab.ns_of(prog.pid, "net") == inode, "the network namespace of netlab after net_ns_enter lab06l",
           expected=f"lab06l's ({inode})", observed=lab.ns_of(prog.pid, "net"))
    _no_leak(lab, prog, "net_ns_enter")
    _stop(prog)
    prog = lab.start("netlab", "--hold", "run", "lab06l")
    out = prog.wait_for_output("child ready\n", timeout=10.0)
    child = int(out.split("forked ", 1)[1].split()[0]) if "forked " in out else None
    if child is None:
        out = prog.wait_for_output("forked ", timeout=5.0)
        child = int(out.split("forked ", 1)[1].split()[0])
    _no_leak(lab, prog, "net_ns_fork (in the caller)")
    leaks = _leaks(lab, child)
    expect(not leaks, f"the descriptors of the child (PID {child}) once net_ns_fork has returned 0 in it",
           expected="none: the child closes the namespace's descriptor after setns", observed=", ".join(leaks))
    lab.run("kill", "-KILL", child)
    prog.finish(5.0)


def _closed_stdin(lab, *argv) -> str:
    """`netlab ARGV` with its standard input closed: the first descriptor it opens is 0."""
    result = lab.run("/bin/sh", "-c", 'exec ./netlab "$@" <&-', "netlab", *argv)
    return result.stdout.strip() or result.describe()


def test_stdin_closed(lab, net):
    net.will_clean("lab06n", "lab06n0")
    net.will_clean("lab06o", "lab06o0")
    for argv, want in ((["addns", "lab06n"], "ok"), (["enter", "lab06n"], "ok"), (["run", "lab06n", "true"], "exited 0"),
                       (["veth", "lab06n0", "lab06n1"], "ok"), (["setns", "lab06n1", "lab06n"], "ok"),
                       (["up", "lab06o", "lab06o0", "lab06o1", "10.6.14.1/24", "10.6.14.2/24"], "ok")):
        said = _closed_stdin(lab, *argv)
        expect(said == want or (want.startswith("exited") and said.endswith(want)),
               f"`netlab {' '.join(argv)}` with standard input closed (descriptor 0 is free, open may return it)",
               expected=want, observed=said)
    expect("lab06n1" in net.links(ns="lab06n"), "the devices of lab06n after `netlab setns lab06n1 lab06n`",
           expected="lab06n1", observed=", ".join(net.links(ns="lab06n")))


def test_cidr_checked(lab, net):
    net.will_clean("lab06p")
    net.ok("addns", "lab06p")
    # Inside a namespace of its own, on its lo (index 1): even a /0 route there harms no one.
    inside = ["nsenter", f"--net={NS_DIR}/lab06p", f"{lab.out}/netlab"]
    for cidr in ("10.6.15.1/0", "10.6.15.2/32", "10.6.15.3/010"):
        result = lab.run(*inside, "addr", "lo", cidr)
        expect(result.stdout.strip() == "ok", f"`netlab addr lo {cidr}` inside lab06p", expected="ok",
               observed=result.stdout.strip() or result.describe())
    for cidr in ("10.6.15.4/33", "10.6.15.4/", "10.6.15.4/0x18", "10.6.15.4/-1", "10.6.15.4/24x", "10.6.15.4",
                 "10.6.15.256/24", "10.6.15.4.5/24"):
        net.refused(["addr", "lo", cidr], "net_addr_add", "EINVAL", f"net_addr_add of '{cidr}' inside lab06p",
                    via=[*inside, "addr", "lo", cidr])
    got = sorted(net.addrs(ns="lab06p").get("lo", []))
    want = [("10.6.15.1", 0), ("10.6.15.2", 32), ("10.6.15.3", 10)]
    expect(got == want, "the IPv4 addresses of lo inside lab06p (`ip -n lab06p -j addr`)",
           expected=", ".join(f"{a}/{p}" for a, p in want) + " (010 is ten: the length is decimal)",
           observed=", ".join(f"{a}/{p}" for a, p in got) or "none")


def test_out_of_descriptors(lab, net):
    net.will_clean("lab06q", "lab06q0", "lab06q1")
    net.refused(["--nofile", 3, "linkup", "lo"], "net_link_up", "EMFILE",
                "net_link_up with no descriptor free for its socket")
    # With 3, nothing can be opened at all: it must fail.  With more, each implementation runs out at
    # a step of its own (or not at all): whichever step it is, EMFILE comes back and nothing is left.
    argv = ["up", "lab06q", "lab06q0", "lab06q1", "10.6.16.1/24", "10.6.16.2/24"]
    for limit in range(3, 9):
        result = net.netlab("--nofile", limit, *argv)
        if limit > 3 and result.stdout.strip() == "ok":
            net.ok("down", "lab06q", "lab06q0")
            lab.eventually(lambda: not [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06q")],
                           timeout=3.0, what="lab06q0 and lab06q1 gone after `netlab down`")
            continue
        said = next((l for l in result.stdout.splitlines() if l.startswith("error:")), "")
        said = said.split(" (", 1)[0] if said else (result.stdout.strip() or result.describe())
        want = "error: net_pair_up returned -1, errno EMFILE"
        expect(said == want, f"`netlab --nofile {limit} up ...`: net_pair_up with at most {limit} descriptors open",
               expected=want + (" (not even one descriptor is free)" if limit == 3 else " or ok"), observed=said)
        lab.eventually(lambda: not [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06q")],
                       timeout=3.0, what=f"no lab06q0 or lab06q1 left after net_pair_up failed with {limit} "
                                         "descriptors: what it made is undone")
        expect("lab06q" not in net.ns_files(), f"/run/netns after net_pair_up failed with {limit} descriptors",
               expected="no lab06q", observed=", ".join(net.ns_files()))


def test_child_cannot_join(lab, net):
    net.will_clean("lab06r")
    lab.sh(f"mkdir -p {NS_DIR} && touch {NS_DIR}/lab06r")
    result = net.netlab("run", "lab06r", "true")
    expect("exited 126" in result.stdout, "`netlab run lab06r true`, lab06r a plain file (setns refuses it)",
           expected="forked N, then exited 126: the child could not join and did not run the command",
           observed=result.stdout.strip() or result.describe())
    expect(result.stderr.strip() != "", "what the child said on standard error",
           expected="why it could not join (setns's error)", observed="nothing")


def test_teardown_half(lab, net):
    net.will_clean("lab06s", "lab06t0")
    net.ok("addns", "lab06s")
    net.refused(["down", "lab06s", "lab06s0"], "net_pair_down", "ENODEV",
                "net_pair_down when the host end is already gone")
    expect("lab06s" not in net.ns_files(), "/run/netns after net_pair_down with no host end",
           expected="no lab06s: the second step is tried all the same", observed=", ".join(net.ns_files()))
    net.ok("veth", "lab06t0", "lab06t1")
    net.refused(["down", "lab06-none", "lab06t0"], "net_pair_down", "ENOENT",
                "net_pair_down when the namespace is already gone")
    lab.eventually(lambda: not [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06t")],
                   timeout=3.0, what="no lab06t0 or lab06t1 left after net_pair_down (the first step did its work)")
