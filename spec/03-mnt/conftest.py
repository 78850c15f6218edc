"""Helpers shared by the public and hidden cases of lab 03-mnt.

Every case works in /tmp/m03, a tmpfs the case mounts on the machine and
makes *shared*, as systemd makes every mount of an ordinary host: a mount
namespace that is not made private stays a peer of it, and what the
student's code mounts there then shows up in the machine's own mount table
(/proc/1/mountinfo), where the case looks.  The container root file systems
are copies of the busybox tree inside it (/tmp/m03/root).
"""
import re
import stat
from dataclasses import dataclass

import pytest

from harness.casekit import CaseFailed, expect, show, tail

BASE = "/tmp/m03"                 # the shared tmpfs every case works in

# Lists a folder whose path is too long for one system call, one component at
# a time, from a process's root (/proc/PID/root: in its mount namespace).
LIST_DEEP = """import os, sys
os.chdir(sys.argv[1])
for part in sys.argv[2].strip("/").split("/"):
    os.chdir(part)
print(" ".join(sorted(os.listdir("."))))
"""

# What a container's /dev must hold, and nothing of the host's besides.
DEV_NODES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
DEV_LINKS = {"stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
             "fd": "/proc/self/fd"}


@dataclass
class Experiment:
    """A propagation experiment: mntns in a namespace of its own, the machine outside."""
    dir: str            # the shared tmpfs whose propagation mntns changed in its namespace
    inside: str         # where mntns mounted a tmpfs, in its namespace
    outside: str        # where the case mounted one, on the machine, afterwards
    bound: str          # where mntns tried to bind-mount dir (unbindable only)
    output: str         # what mntns printed
    ours: list          # the machine's mounts, then
    theirs: list        # those of mntns, then


class Mnt:
    """The case's shared tmpfs, root file systems in it, and the driver mntns."""

    BASE = BASE
    DEV_NODES = DEV_NODES
    DEV_LINKS = DEV_LINKS

    def __init__(self, lab):
        self.lab = lab
        self.containers = []      # (driver, container's PID 1) to end before leaving
        lab.sh(f"mkdir -p {BASE} && mount -t tmpfs m03 {BASE} && mount --make-shared {BASE}")

    def close(self):
        # Not lab.sh: it must run even when the case has used up its time.
        # A container's PID 1 is killed first, and its driver reaps it: left
        # to the harness, it could outlive its parent for a moment.
        for prog, child in self.containers:
            self.lab.machine.run(["kill", "-KILL", str(child)], timeout=5)
            prog.job.wait(5.0, kill=True)
        # A lazy unmount of /tmp/m03 takes every mount below it along.
        self.lab.machine.run(["/bin/sh", "-c", f"umount -l {BASE}; rm -rf {BASE}; true"], timeout=15)

    # ------------------------------------------------------------- set-up
    def root(self, name: str = "root") -> str:
        """A fresh copy of the busybox root file system, in the shared tmpfs."""
        return self.lab.rootfs(f"{BASE}/{name}")

    def deep_dir(self, length: int) -> str:
        """A folder below /tmp/m03 whose path is exactly length characters long."""
        path = f"{BASE}/deep"
        while len(path) < length:
            # Components of at most 255 bytes (NAME_MAX), none empty.
            take = min(255, length - len(path) - 1, max(1, length - len(path) - 3))
            path += "/" + "d" * take
        assert len(path) == length
        self.lab.sh(f"mkdir -p {path}")
        return path

    def deep_listing(self, pid: int, path: str) -> str:
        """The names in path as process pid sees it, whatever the length of path."""
        result = self.lab.run("python3", "-c", LIST_DEEP, f"/proc/{pid}/root", path)
        if result.exit != 0:
            raise CaseFailed(f"listing {path[:40]}... in the mount namespace of process {pid}",
                             observed=result.describe(), hint=tail(result.stderr))
        return result.stdout.strip()

    def mkdir(self, *names: str) -> list[str]:
        paths = [f"{BASE}/{n}" for n in names]
        self.lab.sh("mkdir -p " + " ".join(paths))
        return paths

    # ------------------------------------------------------------ running
    def start(self, *argv):
        """Starts mntns."""
        return self.lab.start("mntns", *argv)

    def run(self, *argv, uid: int | None = None):
        """Runs mntns to its end (as root, or as uid:uid)."""
        return self.lab.run("mntns", *argv, uid=uid, gid=uid)

    def held(self, *argv, ready: str = "ready\n", timeout: float = 10.0, error_ok: bool = False,
             wrapper: tuple = ()):
        """Starts `mntns --hold ...` (a container holds by itself), under
        `wrapper` if given (a program that execs it, e.g. unshare), and waits
        until it prints `ready`; returns (program, output).  mntns holds after
        an error too: unless error_ok, an error it printed fails the case."""
        if argv[0] != "container":
            argv = ("--hold", *argv)
        prog = (self.lab.start(*wrapper, f"{self.lab.out}/mntns", *argv) if wrapper
                else self.start(*argv))
        said = show([*wrapper, "mntns", *[str(a) for a in argv]])

        def seen():
            out = prog.output()
            if ready in out:
                return out
            if not prog.running():
                result = prog.finish(1.0)
                if ready in result.stdout:
                    return result.stdout
                raise CaseFailed(f"`{said}` ended before printing {ready.strip()!r}",
                                 expected=f"it does its work, prints {ready.strip()!r} and waits",
                                 observed=f"{result.describe()}, having printed: "
                                          f"{result.stdout.strip() or 'nothing'}",
                                 hint=tail(result.stderr))
            return None
        out = self.lab.eventually(seen, timeout=timeout, what=f"{ready.strip()!r} from `{said}`")
        errors = [line for line in out.splitlines() if line.startswith("error:")]
        if errors and not error_ok:
            raise CaseFailed(f"`{said}`", expected="it does its work without an error",
                             observed=errors[0], hint=tail(prog.output()))
        return prog, out

    def expect_error(self, result, function: str, errno_name: str, what: str, rc: int = -1) -> None:
        """mntns ended with "error: FUNCTION returned RC, errno NAME (...)"."""
        wanted = f"error: {function} returned {rc}, errno {errno_name} "
        lines = result.stdout.strip().splitlines()
        said = next((line for line in lines if line.startswith("error:")), None)
        expect(result.exit == 1 and said is not None and said.startswith(wanted), what,
               expected=wanted + "(...)",
               observed=said or f"{result.describe()}, having printed: {' | '.join(lines) or 'nothing'}")

    def container(self, root: str):
        """`mntns container ROOT`; returns (driver, container's PID 1 as the machine sees it)."""
        prog, _ = self.held("container", root, ready="container ready\n")
        child = self.lab.eventually(lambda: self.lab.only_child(prog.pid), what="the container's first process")
        self.containers.append((prog, child))
        return prog, child

    def experiment(self, kind: str) -> Experiment:
        """`mntns --hold prop KIND /tmp/m03`, then a tmpfs mounted by the case on the machine."""
        inside, outside, bound = self.mkdir("inside", "outside", "bound")
        prog, out = self.held("prop", kind, BASE)
        self.lab.sh(f"mount -t tmpfs outside {outside}")
        return Experiment(BASE, inside, outside, bound, out, self.lab.mounts(1), self.lab.mounts(prog.pid))

    # -------------------------------------------------------- observation
    def table(self, pid: int | str = 1) -> list[str]:
        """A mount table, one 'POINT FSTYPE TAGS' line per mount, sorted."""
        return sorted(f"{m.point} {m.fstype} {' '.join(m.tags) or 'private'}" for m in self.lab.mounts(pid))

    @staticmethod
    def difference(before: list[str], after: list[str]) -> str:
        added = [x for x in after if x not in before]
        gone = [x for x in before if x not in after]
        parts = [f"appeared: {', '.join(added)}"] if added else []
        parts += [f"changed or gone: {', '.join(gone)}"] if gone else []
        return "; ".join(parts) or "nothing"

    def same_dir(self, a: str, b: str) -> bool:
        """Whether two paths lead to the same directory (device and inode)."""
        try:
            sa, sb = self.lab.machine.lstat(f"{a}/."), self.lab.machine.lstat(f"{b}/.")
        except OSError:
            return False
        return (sa.dev, sa.ino) == (sb.dev, sb.ino)

    def where(self, path: str, candidates: dict[str, str]) -> str:
        """Names the directory path leads to, among candidates {label: path}."""
        for label, other in candidates.items():
            if self.same_dir(path, other):
                return label
        try:
            return "elsewhere: " + (self.lab.machine.readlink(path) or "?")
        except OSError as exc:
            return f"unreadable ({exc.strerror})"

    def mode(self, path: str) -> int:
        return self.lab.machine.lstat(path).mode

    @staticmethod
    def peer_group(mount, kind: str = "shared") -> str | None:
        """N of the mount's shared:N (or master:N) tag."""
        for t in mount.tags:
            if t.startswith(kind + ":"):
                return t.split(":", 1)[1]
        return None

    @staticmethod
    def at(mounts, point: str):
        """The mount on top at point, or None."""
        found = [m for m in mounts if m.point == point]
        return found[-1] if found else None

    @staticmethod
    def describe(mounts) -> str:
        return ", ".join(f"{m.point} ({m.fstype}, {' '.join(m.tags) or 'private'})"
                         for m in mounts if m is not None) or "none"

    @staticmethod
    def pids(names: list[str]) -> list[int]:
        return sorted(int(n) for n in names if re.fullmatch(r"\d+", n))

    @staticmethod
    def is_char(mode: int) -> bool:
        return stat.S_ISCHR(mode)


@pytest.fixture
def mnt(lab):
    m = Mnt(lab)
    yield m
    m.close()
