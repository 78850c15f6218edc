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
