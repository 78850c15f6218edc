"""Helpers shared by the public and hidden cases of lab 02-uts.

The names a UTS namespace holds are read from outside the student's
program: `nsenter -t PID -u` runs `cat /proc/sys/kernel/hostname` in the
namespace of PID (that file shows the namespace of whoever reads it), and
the machine's own name is /proc/sys/kernel/hostname read by the grader.
"""
import contextlib

import pytest

from harness.casekit import CaseFailed

QUOTA = "/proc/sys/user/max_uts_namespaces"


class Utsns:
    """Runs the lab's driver, utsns, and looks into the namespaces it makes."""

    def __init__(self, lab):
        self.lab = lab
        self.held = []   # (driver, payload PID) of every held run, stopped after the case

    def run(self, *argv, stdin: bytes = b""):
        """Runs `utsns ...` to its end: (result, report)."""
        result = self.lab.run("utsns", *argv, stdin=stdin, timeout=60.0)
        return result, self.parse(result.stdout)

    @staticmethod
    def parse(text: str) -> dict:
        """{'spawned': 812, 'payload': 'hostname box-1 domainname lab', 'exited': 0,
        'error': 'uts_spawn returned -1, errno EINVAL (Invalid argument)', 'invalid': '...',
        'joined': '...'}"""
        report = {}
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            key = key.rstrip(":")
            if key in ("spawned", "exited", "signaled"):
                report[key] = int(value)
            elif key in ("payload", "error", "invalid", "joined"):
                report[key] = value
        return report

    def settle(self, prog, timeout: float = 10.0, parent_said: bool = False) -> str:
        """Output of a --hold program once it printed 'ready', or once it ended.

        parent_said: with `run`, the payload prints 'ready' in the child, and
        the driver prints 'spawned PID' (or its error) in the parent: the two
        race, so wait for the parent's line as well."""
        def done():
            out = prog.output()
            said = not parent_said or "spawned " in out or "error:" in out
            return out if ("ready\n" in out and said) or not prog.running() else None
        self.lab.eventually(done, timeout=timeout, what="utsns to print 'ready' or to end")
        return prog.output()

    def start_held(self, hostname: str, domainname: str):
        """`utsns --hold run H D`, once its payload waits: (program, payload's PID)."""
        prog = self.lab.start("utsns", "--hold", "run", hostname, domainname)
        out = self.settle(prog, parent_said=True)
        report = self.parse(out)
        if "spawned" not in report or "payload" not in report:
            raise CaseFailed(f"`utsns --hold run {hostname or repr('')} {domainname}` should start its payload",
                             expected="spawned PID, then the payload's line",
                             observed=out.strip().replace("\n", " | ") or "nothing")
        child = self.lab.eventually(lambda: self.lab.only_child(prog.pid), what="the payload process")
        self.held.append((prog, child))
        if child != report["spawned"]:
            raise CaseFailed("the PID uts_spawn returned, against the driver's child in the process table",
                             expected=child, observed=report["spawned"])
        return prog, child

    def release(self) -> None:
        """Kills the held payloads and lets their drivers reap them, so that no
        orphan is left for the machine to clean up after the case."""
        for prog, child in self.held:
            try:
                self.lab.machine.run(["kill", "-KILL", str(child)], timeout=5.0)
                prog.job.wait(5.0, kill=True)
            except Exception:  # the machine's own clean-up comes next anyway
                pass
        self.held.clear()

    def fds(self, pid: int) -> dict[int, str]:
        """The open file descriptors of pid and what each points to (/proc/PID/fd)."""
        held = {}
        for fd in self.lab.machine.listdir(f"/proc/{pid}/fd"):
            try:
                held[int(fd)] = self.lab.machine.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
        return held

    def extra_fds(self, pid: int) -> str:
        """pid's descriptors beyond 0, 1 and 2 (what the grader gives every program), said
        for a student; empty if there is none."""
        return ", ".join(f"fd {fd} -> {target}" for fd, target in sorted(self.fds(pid).items()) if fd > 2)

    def said(self, result) -> str:
        """A program's output on one line, or how it ended if it printed nothing."""
        return result.stdout.strip().replace("\n", " | ") or result.describe()

    def inside(self, pid: int, name: str) -> str:
        """/proc/sys/kernel/NAME (hostname, domainname) as the UTS namespace of pid has it."""
        result = self.lab.run("nsenter", "-t", pid, "-u", "cat", f"/proc/sys/kernel/{name}")
        if result.exit != 0:
            raise CaseFailed(f"reading the {name} of PID {pid}'s UTS namespace with nsenter",
                             expected="the name", observed=f"{result.describe()}: {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def machine_names(self) -> tuple[str, str]:
        """The machine's own host name and domain name, read by the grader."""
        return self.lab.hostname(), self.lab.read("/proc/sys/kernel/domainname").strip()

    @contextlib.contextmanager
    def no_new_namespaces(self):
        """No UTS namespace can be created meanwhile: clone(CLONE_NEWUTS) fails with ENOSPC.

        A configuration refused before any namespace is created fails with
        EINVAL all the same; one refused only after the clone fails with ENOSPC.
        """
        saved = self.lab.read(QUOTA).strip()
        self.lab.sh(f"echo 0 > {QUOTA}")
        try:
            yield
        finally:
            self.lab.sh(f"echo {saved} > {QUOTA}")

    def batch(self, names: list[str]) -> list[str]:
        """`utsns batch` with these names on stdin: its lines, one per name."""
        result, _ = self.run("batch", stdin="".join(n + "\n" for n in names).encode())
        lines = result.stdout.splitlines()
        if result.exit != 0 or len(lines) != len(names):
            raise CaseFailed(f"`utsns batch` with {len(names)} names on stdin should print one line per name",
                             expected=f"{len(names)} lines, exit status 0",
                             observed=f"{len(lines)} lines, {result.describe()}")
        return lines


@pytest.fixture
def utsns(lab):
    helper = Utsns(lab)
    yield helper
    helper.release()
