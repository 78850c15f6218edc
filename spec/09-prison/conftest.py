"""Helpers shared by the public and hidden cases of lab 09-prison."""
import pytest

from harness.casekit import CaseFailed, expect

ROOT = "/tmp/prison-root"


class Cell:
    """Runs the lab's driver, cell, and finds the prisoner it made."""

    def __init__(self, lab):
        self.lab = lab
        self._root = None

    @property
    def root(self) -> str:
        """A fresh busybox root filesystem for the prison (made once per case)."""
        if self._root is None:
            self._root = self.lab.rootfs(ROOT)
        return self._root

    def run(self, *argv, uid=None, stdin=b"", timeout=10.0) -> list[dict]:
        """Runs `cell ARGV` to its end; returns the results it printed."""
        result = self.lab.run("cell", *argv, uid=uid, gid=uid, stdin=stdin, timeout=timeout)
        if result.exit != 0 or result.timed_out:
            raise CaseFailed(f"`cell {' '.join(map(str, argv))}` should run to its end",
                             expected="exit status 0", observed=f"{result.describe()}: {result.stdout.strip()}")
        self.last_output = result.stdout
        return self.results(result.stdout)

    def one(self, *argv, **kw) -> dict:
        results = self.run(*argv, **kw)
        if len(results) != 1:
            raise CaseFailed(f"`cell {' '.join(map(str, argv))}` should print one result line",
                             observed=self.last_output.strip() or "nothing")
        return results[0]

    @staticmethod
    def results(text: str) -> list[dict]:
        """'result exited 42' or 'result setup_failed signal 0 err 1: message', as dicts."""
        found = []
        for line in text.splitlines():
            if not line.startswith("result "):
                continue
            head, _, message = line[len("result "):].partition(": ")
            words = head.split()
            r = {"status": words[0], "message": message}
            if words[0] == "exited" and len(words) > 1:
                r["code"] = int(words[1])
            for key in ("signal", "err"):
                if key in words[:-1]:
                    r[key] = int(words[words.index(key) + 1])
            found.append(r)
        return found

    @staticmethod
    def inside(text: str) -> dict:
        """The whoami line: {'pid': '1', 'uid': '0', 'hostname': 'box', 'os': 'labs', ...}."""
        for line in text.splitlines():
            if line.startswith("inside pid "):
                words = line.split()[1:]
                return dict(zip(words[::2], words[1::2]))
        return {}

    def start(self, *argv, uid=None):
        """Starts `cell ARGV` in the background (for park and --hold)."""
        return self.lab.start("cell", *argv, uid=uid, gid=uid)

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

    def prisoner_of(self, prog) -> int:
        """The host PID of the process in the new PID namespace, once it has parked."""
        prog.wait_for_output("parked\n", timeout=8.0)
        own = self.lab.ns_of(prog.pid, "pid")

        def find():
            inside = [p.pid for p in self.descendants(prog.pid) if self.lab.ns_of(p.pid, "pid") not in (own, None)]
            return inside[0] if len(inside) == 1 else None
        return self.lab.eventually(find, what="the prisoner, in a PID namespace of its own")

    def hostname_in(self, pid: int) -> str:
        """The host name pid's UTS namespace holds, read by nsenter from outside."""
        r = self.lab.run("nsenter", "-t", pid, "-u", "cat", "/proc/sys/kernel/hostname")
        return r.stdout.strip() if r.exit == 0 else f"(nsenter failed: {r.stderr.strip()})"

    @staticmethod
    def said(r: dict) -> str:
        """A result as the driver printed it, for messages."""
        if r.get("status") == "exited":
            return f"exited {r.get('code')}"
        return f"{r.get('status')} (signal {r.get('signal')}, err {r.get('err')}): {r.get('message')!r}"

    def expect_refused(self, r: dict, what: str, mentions: str | None = None) -> None:
        expect(r.get("status") == "invalid_config", what, expected="invalid_config", observed=self.said(r))
        expect(r.get("message", "").strip() != "", f"{what}: the message the user reads",
               expected="a message saying what to change", observed="an empty message")
        if mentions is not None:
            expect(mentions.lower() in r["message"].lower(), f"{what}: the message should name what is at fault",
                   expected=f"a message mentioning {mentions!r}", observed=repr(r["message"]))


@pytest.fixture
def cell(lab):
    return Cell(lab)
