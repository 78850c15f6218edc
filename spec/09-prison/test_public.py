"""Public cases of lab 09-prison: `make check` in labs/09-prison runs them.

What cell reports is compared with what the kernel shows from outside: the
prisoner's /proc/PID/ns inodes, its root and working directory, the host
name its UTS namespace holds (read with nsenter), the machine's own host name.
"""
from harness.casekit import expect

KINDS = ("pid", "uts", "mnt", "ipc")


def test_valid_config_gives_0(lab, cell):
    r = cell.one("box", cell.root, "exit", 0)
    expect(r == {"status": "exited", "code": 0, "message": ""}, "what namespace_prison returned for a valid "
           "config and a callback returning 0", expected="exited 0", observed=cell.said(r))
    r = cell.one("box", cell.root, "whoami")
    seen = cell.inside(cell.last_output)
    expect(seen.get("pid") == "1" and seen.get("hostname") == "box",
           "what the callback sees inside: its PID and host name",
           expected="pid 1, hostname box", observed=cell.last_output.strip())


def test_namespaces_all_new(lab, cell):
    before = lab.hostname()
    prog = cell.start("box", cell.root, "park")
    prisoner = cell.prisoner_of(prog)
    outside, inside = lab.ns(prog.pid), lab.ns(prisoner)
    same = [k for k in KINDS if outside.get(k) == inside.get(k)]
    expect(not same, f"the prisoner's (PID {prisoner}) namespaces against its parent's (PID {prog.pid})",
           expected=f"a new {', '.join(KINDS)} namespace",
           observed="the same inode for " + ", ".join(f"{k} ({inside.get(k)})" for k in same))
    nspid = lab.nspid(prisoner)
    expect(nspid[-1] == 1, f"NSpid of the prisoner in /proc/{prisoner}/status",
           expected=f"{prisoner} 1", observed=" ".join(map(str, nspid)))
    expect(lab.hostname() == before, "the machine's own host name", expected=before, observed=lab.hostname())


def test_hostname_set_inside(lab, cell):
    before = lab.hostname()
    prog = cell.start("matrix-pod", cell.root, "park")
    prisoner = cell.prisoner_of(prog)
    seen = cell.hostname_in(prisoner)
    expect(seen == "matrix-pod", f"the host name of the prisoner's UTS namespace (nsenter -t {prisoner} -u)",
           expected="matrix-pod", observed=seen)
    expect(lab.hostname() == before, "the machine's own host name, while the prison runs",
           expected=before, observed=lab.hostname())


def test_rootfs_entered(lab, cell):
    prog = cell.start("box", cell.root, "park")
    prisoner = cell.prisoner_of(prog)
    root = lab.machine.readlink(f"/proc/{prisoner}/root")
    expect(root == cell.root, f"the prisoner's root directory (/proc/{prisoner}/root)",
           expected=cell.root, observed=root)
    cwd = lab.machine.readlink(f"/proc/{prisoner}/cwd")
    expect(cwd == cell.root, f"the prisoner's working directory (/proc/{prisoner}/cwd): chroot() does not "
           "move it", expected=f"{cell.root} (the / of its new root)", observed=cwd)
    cell.one("box", cell.root, "whoami")
    seen = cell.inside(cell.last_output)
    expect(seen.get("os") == "labs", "the ID of /etc/os-release as the callback reads it",
           expected="labs (the rootfs's file)", observed=seen.get("os") or cell.last_output.strip())


def test_exit_code_returned(lab, cell):
    for code in (42, 0, 255):
        r = cell.one("box", cell.root, "exit", code)
        expect(r.get("status") == "exited" and r.get("code") == code,
               f"what namespace_prison returned for a callback returning {code}",
               expected=f"exited {code}", observed=cell.said(r))


def test_child_crash_reported(lab, cell):
    r = cell.one("box", cell.root, "segv")
    expect(r.get("status") == "child_crashed" and r.get("signal") == 11,
           "what namespace_prison returned for a callback writing through NULL",
           expected="child_crashed with signal 11", observed=cell.said(r))
    expect(r.get("message", "").strip() != "", "the message of child_crashed",
           expected="a message naming the signal", observed="an empty message")
    r = cell.one("box", cell.root, "abort")
    expect(r.get("status") == "child_crashed" and r.get("signal", 0) > 0,
           "what namespace_prison returned for a callback calling abort()",
           expected="child_crashed with the signal that ended it", observed=cell.said(r))


def test_empty_hostname_refused(lab, cell):
    prog = cell.start("--hold", "", cell.root, "exit", 0)
    out = prog.wait_for_output("ready\n")
    cell.expect_refused(cell.results(out)[0] if cell.results(out) else {}, "an empty host name")
    left = cell.descendants(prog.pid)
    expect(not left, "children of cell after a refused config", expected="none: nothing is created",
           observed=", ".join(f"PID {p.pid} ({p.state})" for p in left))
