"""Public cases of lab 01-pid: `make check` in labs/01-pid runs them.

What pidns reports is compared with what the kernel shows from outside:
NSpid in /proc/CHILD/status, the /proc/PID/ns/pid inodes, the process table.
"""
import re

from harness.casekit import expect


def test_child_is_pid1(lab, pidns):
    prog, _ = pidns.start("park")
    child = pidns.child_of(prog)
    nspid = lab.nspid(child)
    expect(len(nspid) == 2 and nspid[1] == 1,
           f"NSpid in /proc/{child}/status: the child's PID in each PID namespace, outermost first",
           expected=f"{child} 1 (a second namespace, where it is 1)", observed=" ".join(map(str, nspid)))
    parent_ns, child_ns = lab.ns_of(prog.pid, "pid"), lab.ns_of(child, "pid")
    expect(parent_ns != child_ns, "the PID namespace inode of the child against its parent's",
           expected="two different inodes", observed=f"both {child_ns}")
    expect(lab.ns_of(prog.pid, "pid_for_children") == parent_ns,
           "the parent's own pid_for_children after the clone",
           expected=f"unchanged ({parent_ns}): the parent's later children stay in its namespace",
           observed=lab.ns_of(prog.pid, "pid_for_children"))


def test_parent_sees_host_pid(lab, pidns):
    prog, report = pidns.start("park")
    child = pidns.child_of(prog)
    expect(report.get("spawned") == child, "what pidns_spawn returned, against the child's PID in the "
           "parent's namespace (from the process table)", expected=child, observed=report.get("spawned"))
    result = lab.run("pidns", "whoami")
    inside = re.search(r"inside pid (-?\d+) ppid (-?\d+)", result.stdout)
    expect(inside is not None and inside.groups() == ("1", "0"),
           "getpid() and getppid() inside the child", expected="pid 1 ppid 0",
           observed=inside.group(0) if inside else result.stdout.strip() or result.describe())


def test_exit_code_returned(lab, pidns):
    for code in (42, 0, 255):
        report = pidns.run("exit", code)
        want = {"exited": 1, "code": code, "signaled": 0, "signal": 0}
        expect(report.get("status") == want, f"the struct child_status pidns_wait filled for a child returning {code}",
               expected=_fields(want), observed=_fields(report.get("status")))


def test_crash_reported(lab, pidns):
    for kind, sig in (("segv", 11), ("fpe", 8)):
        report = pidns.run("crash", kind)
        want = {"exited": 0, "code": 0, "signaled": 1, "signal": sig}
        expect(report.get("status") == want,
               f"the struct child_status pidns_wait filled for a child killed by signal {sig} ({kind})",
               expected=_fields(want), observed=_fields(report.get("status")))


def _fields(status: dict | None) -> str:
    return " ".join(f"{k}={v}" for k, v in status.items()) if status else "no status printed"
