"""Helpers shared by the public and hidden cases of lab 05-user."""
import pytest

from harness.casekit import CaseFailed, expect
from harness.errors import InfraError

# The ordinary user of the grading machine, with a group that differs from
# its uid so that a uid_map written with the gid (or the reverse) shows.
STUDENT = {"uid": 1000, "gid": 1001}
# The name the driver's child gives itself before it runs the lab's function.
FN_COMM = "userns-fn"


class Userns:
    """Runs the lab's driver, userns, and looks at its child from outside."""

    STUDENT = STUDENT
    FN_COMM = FN_COMM

    def __init__(self, lab):
        self.lab = lab

    def start(self, *argv, student: bool = False):
        ids = STUDENT if student else {}
        return self.lab.start("userns", *argv, **ids)

    def reported(self, prog, word: str, timeout: float = 5.0) -> str:
        """Waits for the line starting with word; fails with the driver's error."""
        def seen():
            running = prog.running()
            out = prog.output()
            for line in out.splitlines():
                if line == word or line.startswith(word + " "):
                    return line[len(word):].strip() or word
            errors = [l for l in out.splitlines() if l.startswith(("error:", "hint:"))]
            if errors:
                raise CaseFailed(f"`{' '.join(prog.job.argv[1:])}` reported a failure",
                                 expected=f"a line '{word} ...'", observed=" / ".join(errors))
            if not running:
                result = prog.finish(1.0)
                raise CaseFailed(f"the driver ended before printing '{word}'",
                                 observed=f"{result.describe()}: {result.stdout.strip() or 'no output'}")
            return None
        return self.lab.eventually(seen, timeout=timeout, what=f"'{word}' printed by the driver")

    def pid_line(self, prog, word: str) -> int:
        return int(self.reported(prog, word))

    def descendants(self, pid: int) -> list:
        procs = self.lab.ps()
        found, todo = [], [pid]
        while todo:
            parent = todo.pop()
            for p in procs:
                if p.ppid == parent:
                    found.append(p)
                    todo.append(p.pid)
        return found

    def fn_process(self, prog, timeout: float = 5.0) -> int:
        """The process running the lab's function (it renamed itself userns-fn)."""
        def find():
            hits = [p.pid for p in self.descendants(prog.pid) if p.comm == FN_COMM and p.state != "Z"]
            if not hits and not prog.running():
                result = prog.finish(1.0)
                raise CaseFailed("the driver ended before its child ran the lab's function",
                                 observed=f"{result.describe()}: {result.stdout.strip() or 'no output'}")
            return hits[0] if hits else None
        return self.lab.eventually(find, timeout=timeout, what=f"a child of the driver named {FN_COMM}")

    def comm(self, pid: int) -> str:
        try:
            return self.lab.read(f"/proc/{pid}/comm").strip()
        except OSError:
            return "(gone)"

    def read_map(self, pid: int, name: str) -> list:
        """/proc/PID/uid_map or gid_map as read from the initial namespace: [(0, 1000, 1)]."""
        return [tuple(int(x) for x in line.split()) for line in self.lab.read(f"/proc/{pid}/{name}").splitlines()
                if line.strip()]

    @staticmethod
    def ids(status_text: str) -> tuple:
        """(Uid line, Gid line) of a /proc/PID/status text, as lists of ints."""
        fields = {}
        for line in status_text.splitlines():
            key, _, value = line.partition(":")
            fields[key] = [int(x) for x in value.split()] if key in ("Uid", "Gid") else value
        return fields.get("Uid", []), fields.get("Gid", [])

    def inside(self, pid: int, *argv, kinds: str = "-U"):
        """Runs argv as root entered into pid's namespaces (nsenter), ids unchanged."""
        result = self.lab.run("nsenter", "-t", pid, kinds, "--preserve-credentials", *argv)
        expect(result.exit == 0, f"entering the namespaces of PID {pid} to look around",
               expected="nsenter succeeds", observed=f"{result.describe()}: {result.stderr.strip()}")
        return result.stdout

    def status_inside(self, pid: int) -> tuple:
        """pid's ids as its own user namespace sees them."""
        return self.ids(self.inside(pid, "cat", f"/proc/{pid}/status"))

    def status_outside(self, pid: int) -> tuple:
        """pid's ids as the machine sees them."""
        return self.ids(self.lab.read(f"/proc/{pid}/status"))

    def fds(self, pid: int) -> str:
        """pid's descriptors beyond 0, 1 and 2 (what the grader gives every program), said
        for a student; empty if there is none."""
        extra = []
        for fd in sorted(self.lab.machine.listdir(f"/proc/{pid}/fd"), key=int):
            if int(fd) > 2:
                try:
                    extra.append(f"fd {fd} -> {self.lab.machine.readlink(f'/proc/{pid}/fd/{fd}')}")
                except OSError:
                    continue
        return ", ".join(extra)

    def line(self, text: str, start: str) -> str:
        """The first line of text that starts with start, or ''."""
        return next((l for l in text.splitlines() if l.startswith(start)), "")

    @staticmethod
    def said(result) -> str:
        return result.stdout.strip().replace("\n", " | ") or result.describe()

    def kill_usr1(self, prog) -> None:
        """SIGUSR1 to the driver alone (not its process group, where the child is)."""
        self.lab.run("kill", "-USR1", prog.pid)

    def set_sysctl(self, path: str, value: str) -> str:
        """Writes value to a /proc/sys file; returns the old value, for restore_sysctl."""
        old = self.lab.read(path).strip()
        self.lab.sh(f"echo {value} > {path}")
        return old

    def restore_sysctl(self, path: str, old: str) -> None:
        """Puts a /proc/sys file back, even once the case is out of time (call it in finally)."""
        result = self.lab.machine.run(["/bin/sh", "-c", f"echo {old} > {path}"], timeout=10.0)
        if result.exit != 0:
            raise InfraError(f"could not restore {path} to {old}: {result.describe()}")


@pytest.fixture
def userns(lab):
    return Userns(lab)
