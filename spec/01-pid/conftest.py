"""Helpers shared by the public and hidden cases of lab 01-pid."""
import pytest

from harness.casekit import CaseFailed


class Pidns:
    """Runs the lab's driver, pidns, and reads its report."""

    def __init__(self, lab):
        self.lab = lab

    def run(self, *argv) -> dict:
        result = self.lab.run("pidns", *argv)
        if result.exit != 0:
            raise CaseFailed(f"`pidns {' '.join(map(str, argv))}` should run to its end",
                             expected="exit status 0",
                             observed=result.describe() + (f", after printing: {result.stdout.strip()}"
                                                           if result.stdout.strip() else ""))
        return self.parse(result.stdout)

    def start(self, *argv):
        """Starts `pidns ...` and returns it with the PID it says it spawned."""
        prog = self.lab.start("pidns", *argv)
        out = prog.wait_for_output("spawned ")  # stdout is line-buffered: the line is whole
        return prog, self.parse(out)

    @staticmethod
    def parse(text: str) -> dict:
        """{'spawned': 812, 'exited': 42, 'status': {...}} or {'signaled': 11, ...},
        and the 'error' line if any."""
        report = {}
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key in ("spawned", "exited", "signaled"):
                report[key] = int(value)
            elif key == "status":
                report["status"] = {k: int(v) for k, v in (f.split("=") for f in value.split())}
            elif key == "error:":
                report["error"] = value
        return report

    def child_of(self, prog) -> int:
        """The host PID of the child pidns cloned, read from the process table."""
        return self.lab.eventually(lambda: self.lab.only_child(prog.pid), what="the cloned child to appear")

    def error(self, *argv, uid=None, gid=None) -> str:
        """The error line pidns prints (from 'returned'), or what happened instead."""
        result = self.lab.run("pidns", *argv, uid=uid, gid=gid)
        for line in result.stdout.splitlines():
            if line.startswith("error: "):
                return line.split(" ", 2)[2]
        return result.stdout.strip() or result.describe()


@pytest.fixture
def pidns(lab):
    return Pidns(lab)
