"""Helpers shared by the public and hidden cases of lab 07-cgroups.

Every case gets a parent group of its own under the machine's cgroup parent
(lab.machine.cgroup_parent, /sys/fs/cgroup/grade/lab in the VM), with no
controller enabled for its children yet: enabling them is the student's
job.  Whatever a case leaves there is killed and removed afterwards, so that
one case's leftovers never decide the next case's result (the cases that
grade "nothing left behind" look before that).
"""
import itertools
import re
import shlex

import pytest

from harness.casekit import CaseFailed, expect

MiB = 1 << 20


class Cgctl:
    """Runs the lab's driver, cgctl, and reads the groups it makes."""

    def __init__(self, lab):
        self.lab = lab
        self.root = lab.machine.cgroup_parent
        self.groups: list[str] = []     # removed after the case, deepest first
        self.scratch: list[str] = []    # files and folders removed after the case
        self.count = itertools.count(1)

    # ------------------------------------------------------------ set-up
    def parent(self) -> str:
        """A fresh parent group, its subtree_control empty, for this case only."""
        path = f"{self.root}/case-{self.lab.case.id}"
        self.lab.sh(f"echo '+cpu +memory +pids' > {self.root}/cgroup.subtree_control && mkdir {path}")
        self.groups.append(path)
        return path

    def also_remove(self, path: str) -> None:
        """A group the case might see made (wrongly), removed after the case."""
        self.groups.insert(0, path)

    # ------------------------------------------------------------ driver
    def run(self, *argv, timeout: float = 10.0):
        result = self.lab.run("cgctl", *argv, timeout=timeout)
        return result, self.parse(result.stdout)

    def start(self, *argv, uid=None):
        return self.lab.start("cgctl", *argv, uid=uid, gid=uid)

    def call(self, *argv, without_stdin: bool = False, limits: tuple = (), uid=None, timeout: float = 10.0):
        """Runs one of cgctl's one-function commands to its end: (result, report).

        without_stdin: cgctl starts with no file descriptor 0, as a daemon
        may, so that the first file it opens gets 0.  limits: prlimit options
        (e.g. "--nofile=3") cgctl starts under."""
        argv = [f"{self.lab.out}/cgctl", *map(str, argv)]
        if limits:
            argv = ["prlimit", *limits, "--", *argv]
        if without_stdin:
            argv = ["/bin/sh", "-c", 'exec "$0" "$@" <&-', *argv]
        result = self.lab.run(*argv, uid=uid, gid=uid, timeout=timeout)
        return result, self.parse(result.stdout)

    def call_held(self, *argv, uid=None, limits: tuple = (), timeout: float = 10.0):
        """Starts `cgctl --hold COMMAND ...` and waits until it holds, once the function returned."""
        argv = [f"{self.lab.out}/cgctl", "--hold", *map(str, argv)]
        if limits:
            argv = ["prlimit", *limits, "--", *argv]
        prog = self.lab.start(*argv, uid=uid, gid=uid)
        out = self.wait_for(prog, "ready\n", timeout)
        return prog, self.parse(out)

    def standin(self, files: dict) -> str:
        """A plain directory in /tmp standing in for a group: {name: text, or None
        for a subdirectory}.  cg_lab.c cannot tell it from a group until it
        writes, and the case sees exactly what was written."""
        path = f"/tmp/standin-{self.lab.case.id}-{next(self.count)}"
        self.scratch.append(path)
        self.lab.sh(f"mkdir -p {path}")
        for name, text in files.items():
            if text is None:
                self.lab.sh(f"mkdir {path}/{name}")
            else:
                self.lab.machine.write(f"{path}/{name}", text.encode())
        return path

    def fds(self, pid: int) -> dict[int, str]:
        """The open file descriptors of pid and what they are, from /proc/PID/fd."""
        found = {}
        for fd in self.lab.machine.listdir(f"/proc/{pid}/fd"):
            try:
                found[int(fd)] = self.lab.machine.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                pass
        return found

    def expect_only_std_fds(self, pid: int, whose: str) -> None:
        fds = self.fds(pid)
        extra = {fd: what for fd, what in fds.items() if fd > 2}
        expect(not extra, f"the file descriptors of {whose} (/proc/{pid}/fd)",
               expected="0, 1 and 2 only: every descriptor cg_lab.c opened is closed",
               observed=", ".join(f"{fd} -> {what}" for fd, what in sorted(extra.items())))

    def held(self, *argv, timeout: float = 10.0):
        """Starts `cgctl --hold run ...` and waits until it holds (after the usage report)."""
        prog = self.start("--hold", "run", *argv)
        out = self.wait_for(prog, "ready\n", timeout)
        return prog, self.parse(out)

    def wait_for(self, prog, text: str, timeout: float = 10.0) -> str:
        """Waits for text from the driver; if it ends first, says what it printed."""
        def seen():
            out = prog.output()
            if text in out:
                return out
            if not prog.running():
                result = prog.finish(1.0)
                raise CaseFailed(f"`cgctl` ended before printing {text.strip()!r}",
                                 observed=f"{result.describe()}; it printed: "
                                          + (result.stdout.strip().replace("\n", " | ") or "nothing"))
            return None
        return self.lab.eventually(seen, timeout=timeout, what=f"{text.strip()!r} printed by cgctl")

    def release(self, prog, timeout: float = 10.0):
        """Lets a held driver go on (SIGUSR1): it destroys the group and exits."""
        self.lab.run("kill", "-USR1", prog.pid)
        result = prog.finish(timeout)
        return result, self.parse(result.stdout)

    @staticmethod
    def parse(text: str) -> dict:
        """The driver's report: cgroup, spawned, exited|signaled, usage{}, errors[], ..."""
        report: dict = {"errors": [], "lines": text.strip().splitlines()}
        for line in report["lines"]:
            key, _, value = line.partition(" ")
            if key in ("spawned", "exited", "signaled", "forked"):
                report[key] = int(value)
            elif key == "cgroup":
                report[key] = value
            elif key == "usage":
                report["usage"] = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", value)}
            elif key == "error:":
                report["errors"].append(value)
                m = re.match(r"(\w+) returned (-?\d+), errno (\w+) \((.*)\)$", value)
                if m and "error" not in report:
                    report["error"] = {"function": m[1], "rc": int(m[2]), "errno": m[3], "text": m[4]}
            elif key == "took":
                report["took"] = int(value.split()[0])
            elif key == "created":
                report["created"] = value
            elif line.startswith("fork failed: "):
                report["fork failed"] = line[len("fork failed: "):]
            elif key in ("ready", "destroyed", "parked", "survived", "enabled") or line == "limits written":
                report[key] = True
        return report

    @staticmethod
    def said(report: dict) -> str:
        return " | ".join(report["lines"]) or "nothing"

    def expect_error(self, result, report, function: str, errno: str | None, what: str) -> None:
        """cgctl reported that function returned -1 with that errno (None: any errno)."""
        e = report.get("error", {})
        ok = (result.exit == 1 and e.get("function") == function and e.get("rc") == -1
              and (e.get("errno") == errno if errno else e.get("errno") not in (None, "0", "?")))
        expect(ok, what, expected=f"error: {function} returned -1, errno {errno or 'set by the failed call'}",
               observed=f"{result.describe()}: {self.said(report)}")

    # ------------------------------------------------------------ kernel
    def value(self, path: str) -> str:
        return self.lab.read(path).strip()

    def keyed(self, path: str) -> dict[str, int]:
        """A flat-keyed cgroup file (cpu.stat, memory.events) as a dict."""
        return {k: int(v) for k, v in (line.split() for line in self.lab.read(path).splitlines() if line)}

    def procs(self, group: str) -> list[int]:
        return [int(p) for p in self.lab.read(f"{group}/cgroup.procs").split()]

    def cgroup_of(self, pid: int) -> str:
        """The v2 line of /proc/PID/cgroup: '/grade/lab/case-x/box'."""
        for line in self.lab.read(f"/proc/{pid}/cgroup").splitlines():
            if line.startswith("0::"):
                return line[3:]
        return "?"

    def relative(self, group: str) -> str:
        """A group's path as /proc/PID/cgroup names it."""
        return group.removeprefix("/sys/fs/cgroup")

    def gone(self, path: str) -> bool:
        return not self.lab.exists(path)

    def expect_destroyed(self, result, report, group: str) -> None:
        expect(result.exit == 0 and report.get("destroyed"), "cgctl tearing the group down at the end",
               expected="destroyed, exit status 0",
               observed=f"{result.describe()}; it printed: {self.said(report)}")
        expect(self.gone(group), f"the group {group} after cg_destroy returned",
               expected="removed", observed="still there")

    def kill(self, pid: int) -> None:
        self.lab.run("kill", "-KILL", pid)

    # ----------------------------------------------------------- cleanup
    def cleanup(self) -> None:
        """Kills and removes what the case made, without the case's time budget."""
        machine = self.lab.machine
        for group in self.groups:
            g = shlex.quote(group)
            script = (f"[ -d {g} ] || exit 0; echo 1 > {g}/cgroup.kill; i=0; "
                      f"while grep -q 'populated 1' {g}/cgroup.events && [ $i -lt 300 ]; "
                      f"do sleep 0.02; i=$((i+1)); done; find {g} -depth -type d -exec rmdir {{}} +")
            machine.run(["/bin/sh", "-c", script], timeout=15.0)
        if self.scratch:
            machine.run(["rm", "-rf", *self.scratch], timeout=10.0)


@pytest.fixture
def cg(lab):
    helper = Cgctl(lab)
    yield helper
    helper.cleanup()
