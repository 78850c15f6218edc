"""What a graded case is written with.

A case is a pytest test that takes the `lab` fixture: it runs the lab's
programs on the grading machine and then looks at what the kernel says -
/proc/PID/ns inodes, /proc/PID/status, the process table, mountinfo, cgroup
files - rather than at what the student's program says about itself.

When something is wrong it raises CaseFailed through expect(): what was
checked, what was expected, what was seen.  The runner adds the handout
section from the spec and what the case's programs printed.

    def test_child_is_pid1(lab):
        prog = lab.start("pidns", "hold")
        child = lab.eventually(lambda: lab.only_child(prog.pid), what="the cloned child")
        expect(lab.nspid(child)[-1] == 1, "the child's PID inside its namespace",
               expected=1, observed=lab.nspid(child)[-1])
"""
from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Any, Callable

from .backends import Backend, Job, Proc, Result
from .errors import InfraError

class CaseFailed(AssertionError):
    """A graded expectation that did not hold."""

    def __init__(self, what: str, expected: Any = None, observed: Any = None, hint: str = "") -> None:
        self.what, self.expected, self.observed, self.hint = what, expected, observed, hint
        lines = [what]
        if expected is not None:
            lines.append(f"  expected: {expected}")
        if observed is not None:
            lines.append(f"  observed: {observed}")
        if hint:
            lines.append(f"  hint: {hint}")
        super().__init__("\n".join(lines))


class CaseTimeout(CaseFailed):
    """The case used up its time budget (from the spec)."""


def expect(condition: bool, what: str, expected: Any = None, observed: Any = None, hint: str = "") -> None:
    if not condition:
        raise CaseFailed(what, expected, observed, hint)


def expect_exit(result: Result, code: int, what: str = "") -> None:
    """The program exited normally with code (a crash or a hang is said as such)."""
    if result.exit != code or result.signal is not None or result.timed_out or result.flooded:
        raise CaseFailed(what or f"`{show(result.argv)}` should exit with {code}",
                         expected=f"exited with {code}", observed=result.describe(),
                         hint=tail(result.stderr))


def tail(text: str, lines: int = 6) -> str:
    kept = text.strip().splitlines()[-lines:]
    return ("its stderr ended with:\n    " + "\n    ".join(kept)) if kept else ""


def show(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


@dataclass
class Mount:
    """One line of /proc/PID/mountinfo."""
    mount_id: int
    parent_id: int
    root: str
    point: str
    options: str
    tags: list[str]          # optional fields: shared:N, master:N, unbindable
    fstype: str
    source: str

    @property
    def propagation(self) -> str:
        """shared, slave, unbindable or private, as mountinfo tells."""
        if any(t.startswith("shared:") for t in self.tags):
            return "shared"
        if any(t.startswith("master:") for t in self.tags):
            return "slave"
        if "unbindable" in self.tags:
            return "unbindable"
        return "private"


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        left, right = line.split(" - ", 1)
        f = left.split()
        r = right.split()
        mounts.append(Mount(int(f[0]), int(f[1]), f[3], f[4], f[5], f[6:], r[0], r[1] if len(r) > 1 else ""))
    return mounts


class Program:
    """A lab program running in the background during a case."""

    def __init__(self, lab: "LabRun", job: Job) -> None:
        self.lab, self.job = lab, job

    @property
    def pid(self) -> int:
        return self.job.pid

    def output(self) -> str:
        return self.job.peek()[1]

    def running(self) -> bool:
        return self.job.peek()[0]

    def wait_for_output(self, text: str, timeout: float = 5.0) -> str:
        """Waits until the program has printed text; returns its output so far."""
        def seen():
            running, out, _ = self.job.peek()
            if text in out:
                return out
            if not running:
                result = self.finish(1.0)
                raise CaseFailed(f"`{show(self.job.argv)}` ended before printing '{text.strip()}'",
                                 observed=result.describe())
            return None
        return self.lab.eventually(seen, timeout=timeout, what=f"'{text.strip()}' printed by {self.job.argv[0]}")

    def signal(self, sig: int) -> None:
        self.job.signal(sig)

    def finish(self, timeout: float = 5.0) -> Result:
        """Waits for the program to end (killing it at the deadline)."""
        result = self.job.wait(self.lab.budget(timeout), kill=True)
        self.lab.record(result)
        return result


class LabRun:
    """The `lab` fixture: one lab of one submission, built, on one machine."""

    def __init__(self, lab, case, machine_ref: Callable[[], Backend], build) -> None:
        self.spec = lab
        self.case = case
        self._machine = machine_ref
        self.build = build
        self.deadline = time.monotonic() + case.timeout
        self.transcript: list[Result] = []

    # ------------------------------------------------------------ basics
    @property
    def machine(self) -> Backend:
        return self._machine()

    @property
    def dir(self) -> str:
        """The lab's staged folder (sources, provided files) on the machine."""
        return f"{self.machine.sub_dir}/{self.spec.name}"

    @property
    def out(self) -> str:
        return f"{self.machine.out_dir}/{self.spec.name}"

    def budget(self, wanted: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CaseTimeout(f"the case ran out of its time budget ({self.case.timeout:.0f} s)")
        return min(wanted, left)

    def argv(self, argv: tuple) -> list[str]:
        """A built binary's name becomes its path; anything else is left as is."""
        first, *rest = [str(a) for a in argv]
        return [f"{self.out}/{first}" if first in self.build.binaries else first, *rest]

    def record(self, result: Result) -> None:
        self.transcript.append(result)

    # ----------------------------------------------------------- running
    def run(self, *argv, stdin: bytes = b"", timeout: float = 10.0, uid: int | None = None,
            gid: int | None = None, cwd: str | None = None) -> Result:
        """Runs a program to its end (killed at the deadline) and returns how it ended."""
        job = self.machine.spawn(self.argv(argv), cwd=cwd or self.out, stdin=stdin, uid=uid, gid=gid)
        result = job.wait(self.budget(timeout), kill=True)
        self.record(result)
        return result

    def start(self, *argv, stdin: bytes = b"", uid: int | None = None, gid: int | None = None,
              cwd: str | None = None) -> Program:
        """Starts a program in the background; the case observes it meanwhile."""
        job = self.machine.spawn(self.argv(argv), cwd=cwd or self.out, stdin=stdin, uid=uid, gid=gid)
        return Program(self, job)

    def sh(self, script: str, timeout: float = 10.0) -> Result:
        """Runs a shell command on the machine, for set-up; it must succeed."""
        result = self.machine.run(["/bin/sh", "-c", script], timeout=self.budget(timeout))
        if result.exit != 0:
            raise InfraError(f"case set-up failed: `{script}` {result.describe()}: {result.stderr.strip()}")
        return result

    def rootfs(self, dest: str) -> str:
        """A fresh, writable copy of the busybox root filesystem at dest."""
        self.sh(f"rm -rf {dest} && mkdir -p $(dirname {dest}) && cp -a {self.machine.sub_dir}/rootfs {dest}")
        return dest

    def eventually(self, probe: Callable[[], Any], timeout: float = 5.0, what: str = "the condition",
                   interval: float = 0.02) -> Any:
        """Calls probe until it returns something truthy; fails after timeout."""
        end = time.monotonic() + self.budget(timeout)
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= end:
                raise CaseFailed(f"waited {timeout:.1f} s for {what}", observed="it never happened")
            time.sleep(interval)

    # ------------------------------------------------------ observation
    def read(self, path: str) -> str:
        return self.machine.read(path).decode(errors="replace")

    def exists(self, path: str) -> bool:
        try:
            self.machine.lstat(path)
            return True
        except OSError:
            return False

    def ps(self) -> list[Proc]:
        return self.machine.ps()

    def children(self, pid: int) -> list[Proc]:
        return [p for p in self.ps() if p.ppid == pid]

    def only_child(self, pid: int) -> int | None:
        """The pid of pid's child, once it has exactly one (None before)."""
        kids = self.children(pid)
        return kids[0].pid if len(kids) == 1 else None

    def zombies(self) -> list[Proc]:
        return [p for p in self.ps() if p.state == "Z"]

    def alive(self, pid: int) -> bool:
        try:
            return self.status(pid).get("State", "Z").split()[0] not in ("Z", "X")
        except OSError:
            return False

    def status(self, pid: int) -> dict[str, str]:
        """/proc/PID/status as a dict ('NSpid': '812\t1', 'PPid': '811', ...)."""
        fields = {}
        for line in self.read(f"/proc/{pid}/status").splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return fields

    def nspid(self, pid: int) -> list[int]:
        """pid's number in each PID namespace, outermost first (NSpid)."""
        return [int(x) for x in self.status(pid)["NSpid"].split()]

    def ns(self, pid: int | str) -> dict[str, int]:
        """Every link of /proc/PID/ns and its inode: {'mnt': 4026531841, ...}."""
        inodes = {}
        for kind in self.machine.listdir(f"/proc/{pid}/ns"):
            target = self.machine.readlink(f"/proc/{pid}/ns/{kind}")
            inodes[kind] = int(target.split("[")[1].rstrip("]"))
        return inodes

    def ns_of(self, pid: int | str, kind: str) -> int | None:
        """The inode of one namespace of a process (None if it has gone)."""
        try:
            return int(self.machine.readlink(f"/proc/{pid}/ns/{kind}").split("[")[1].rstrip("]"))
        except OSError:
            return None

    def mounts(self, pid: int | str = 1) -> list[Mount]:
        return parse_mountinfo(self.read(f"/proc/{pid}/mountinfo"))

    def hostname(self) -> str:
        return self.read("/proc/sys/kernel/hostname").strip()
