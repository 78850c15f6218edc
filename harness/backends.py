"""Where graded programs run: a throwaway VM (the default) or this host.

Both backends offer the same small set of operations - start a program, wait
for it, look at files and processes - so that a graded case is written once
and observes kernel state the same way on either.

VMBackend: a QEMU guest restored from a snapshot; graded code is root there
and sees only the host's /usr (read-only), the staged submission and the
build outputs.  reset() throws the guest away and restores a fresh one.

HostBackend: the same operations on this machine, as whoever runs the
harness.  Meant for machines that are themselves disposable; cases that need
what the host lacks (a delegated cgroup v2 with cpu, memory and pids) are
skipped with the reason.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from .errors import GuestLost, InfraError

OUTPUT_CAP = 1 << 20       # bytes of each stream kept for the report
FLOOD_LIMIT = 64 << 20     # more output than this and the program is killed


@dataclass
class Result:
    """How a program ended, as its parent would see it."""
    argv: list[str]
    exit: int | None = None
    signal: int | None = None
    out: bytes = b""
    err: bytes = b""
    out_total: int = 0
    err_total: int = 0
    flooded: bool = False
    timed_out: bool = False
    ms: int = 0

    @property
    def stdout(self) -> str:
        return self.out.decode(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.decode(errors="replace")

    def describe(self) -> str:
        """'exited with 3', 'killed by SIGSEGV', 'timed out after 2.0 s'..."""
        if self.flooded:
            return f"killed for flooding output ({self.out_total + self.err_total} bytes)"
        if self.timed_out:
            return f"timed out after {self.ms / 1000:.1f} s and was killed"
        if self.signal is not None:
            return f"killed by {signal_name(self.signal)}"
        return f"exited with {self.exit}"


def signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} ({signal.strsignal(number)})"
    except ValueError:
        return f"signal {number}"


@dataclass
class Proc:
    """A line of the process table, as the machine's root PID namespace sees it."""
    pid: int
    ppid: int
    state: str
    comm: str


class Job:
    """A program started in the background on a machine."""

    def __init__(self, machine: "Backend", handle, pid: int, argv: list[str]) -> None:
        self.machine = machine
        self.handle = handle
        self.pid = pid
        self.argv = argv
        self.result: Result | None = None

    def peek(self) -> tuple[bool, str, str]:
        """(still running, stdout so far, stderr so far)."""
        if self.result:
            return False, self.result.stdout, self.result.stderr
        return self.machine._peek(self)

    def wait(self, timeout: float, kill: bool = True) -> Result | None:
        """Its Result, or None if it still runs after timeout (and kill is False).

        With kill, a program still running at the deadline has its process
        group killed and comes back with timed_out set.
        """
        if self.result is None:
            self.result = self.machine._wait(self, timeout, kill)
        return self.result

    def signal(self, sig: int) -> None:
        """Sends sig to the job's process group (it runs in its own session)."""
        if self.result is None:
            self.machine._signal(self, sig)


class Backend(ABC):
    name = "?"
    #: where the staged submission and the build outputs are, as programs see them
    sub_dir = "/sub"
    out_dir = "/out"
    #: the cgroup that labs create their groups under (None: not available)
    cgroup_parent: str | None = None
    #: True when graded code runs in a throwaway machine that reset() renews
    disposable = False

    def start(self) -> None:
        """Makes the machine ready (boot or restore)."""

    def reset(self) -> None:
        """Replaces the machine with a clean one, where that is possible."""

    def close(self) -> None:
        """Releases the machine."""

    @abstractmethod
    def spawn(self, argv: list[str], *, cwd: str | None = None, env: dict | None = None,
              stdin: bytes = b"", uid: int | None = None, gid: int | None = None) -> Job: ...

    @abstractmethod
    def _peek(self, job: Job) -> tuple[bool, str, str]: ...

    @abstractmethod
    def _wait(self, job: Job, timeout: float, kill: bool) -> Result | None: ...

    @abstractmethod
    def _signal(self, job: Job, sig: int) -> None: ...

    @abstractmethod
    def cleanup(self) -> None:
        """Kills every process started through this backend, and their children."""

    @abstractmethod
    def read(self, path: str, max_bytes: int = 1 << 20) -> bytes: ...

    @abstractmethod
    def write(self, path: str, data: bytes, mode: int = 0o644) -> None: ...

    @abstractmethod
    def readlink(self, path: str) -> str: ...

    @abstractmethod
    def listdir(self, path: str) -> list[str]: ...

    @abstractmethod
    def lstat(self, path: str) -> SimpleNamespace: ...

    @abstractmethod
    def ps(self) -> list[Proc]: ...

    def run(self, argv: list[str], timeout: float, **kw) -> Result:
        return self.spawn(argv, **kw).wait(timeout, kill=True)

    def __enter__(self) -> "Backend":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------- VM
class VMBackend(Backend):
    name = "vm"
    cgroup_parent = "/sys/fs/cgroup/grade/lab"
    disposable = True

    def __init__(self, sub: Path, out: Path) -> None:
        from .vm.assets import ensure_assets
        self.assets = ensure_assets()
        self.shares = {"sys": (Path("/usr"), True), "sub": (sub, True), "out": (out, False)}
        self.guest = None
        self.boots = 0          # how many guests this backend started
        self.ready_times: list[float] = []

    def start(self) -> None:
        from .vm.qemu import BOOT_TIMEOUT, Guest, kvm_usable
        snapshot = ensure_snapshot(self.assets)
        last: Exception | None = None
        for attempt in (1, 2):  # a guest that fails to come up is retried once
            guest = Guest(self.assets, self.shares, kvm=kvm_usable(self.assets))
            try:
                guest.start(BOOT_TIMEOUT, snapshot=snapshot if snapshot.exists() else None)
                guest.attach()
                self.guest = guest
                self.boots += 1
                self.ready_times.append(guest.ready_after)
                return
            except (GuestLost, InfraError, OSError) as exc:
                last = exc
                detail = guest.why_lost()
                guest.close()
                if attempt == 1 and snapshot.exists():
                    snapshot.unlink(missing_ok=True)  # maybe stale: boot cold next
                last = InfraError(f"the grading VM did not start ({exc}; {detail})")
        raise last

    def reset(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        if self.guest:
            self.guest.close()
            self.guest = None

    def call(self, op: str, timeout: float = 10.0, **fields) -> dict:
        from .vm.agent import AgentError
        if self.guest is None:
            raise GuestLost("no guest running")
        try:
            return self.guest.agent.call(op, timeout, **fields)
        except AgentError as exc:
            raise OSError(exc.errno, exc.strerror) from None

    def spawn(self, argv, *, cwd=None, env=None, stdin=b"", uid=None, gid=None) -> Job:
        envl = [f"{k}={v}" for k, v in env.items()] if env else None
        a = self.call("spawn", argv=list(argv), cwd=cwd, env=envl, stdin=stdin or None,
                      uid=uid, gid=gid, cap=OUTPUT_CAP, flood=FLOOD_LIMIT)
        return Job(self, int(a["id"]), int(a["pid"]), list(argv))

    def _peek(self, job):
        a = self.call("peek", id=job.handle)
        return a["running"] == b"1", a["out"].decode(errors="replace"), a["err"].decode(errors="replace")

    def _wait(self, job, timeout, kill):
        # The agent answers at the deadline (plus 2 s to deliver a kill).
        a = self.call("wait", timeout + 10.0, id=job.handle, timeout_ms=int(timeout * 1000),
                      kill=1 if kill else 0)
        if a["done"] != b"1":
            if kill:
                raise GuestLost(f"{job.argv[0]} could not be killed")
            return None
        return Result(job.argv, exit=int(a["exit"]) if "exit" in a else None,
                      signal=int(a["signal"]) if "signal" in a else None,
                      out=a["out"], err=a["err"], out_total=int(a["out_total"]),
                      err_total=int(a["err_total"]), flooded=a["flood"] == b"1",
                      timed_out="timed_out" in a, ms=int(a["ms"]))

    def _signal(self, job, sig):
        self.call("signal", id=job.handle, sig=sig)

    def cleanup(self):
        self.call("cleanup", timeout=15.0)

    def read(self, path, max_bytes=1 << 20):
        return self.call("read", path=path, max=max_bytes)["data"]

    def write(self, path, data, mode=0o644):
        self.call("write", path=path, data=data, mode=mode)

    def readlink(self, path):
        return self.call("readlink", path=path)["target"].decode()

    def listdir(self, path):
        names = self.call("listdir", path=path)["names"]
        return names.decode(errors="replace").split("\0") if names else []

    def lstat(self, path):
        a = self.call("stat", path=path)
        return SimpleNamespace(**{k: int(v) for k, v in a.items() if k not in ("ok", "seq")})

    def ps(self):
        return _parse_ps(self.call("ps")["ps"].decode(errors="replace"))


def _parse_ps(text: str) -> list[Proc]:
    procs = []
    for line in text.splitlines():
        pid, ppid, state, comm = line.split(" ", 3)
        procs.append(Proc(int(pid), int(ppid), state, comm))
    return procs


def ensure_snapshot(assets) -> Path:
    """Boots a guest cold once and saves it, before any share is mounted.

    A lock keeps parallel graders from making it twice.  If a snapshot cannot
    be made, guests simply boot cold (slower, same result).
    """
    from .vm.qemu import Guest, kvm_usable
    snapshot = assets.snapshot
    if snapshot.exists():
        return snapshot
    with open(assets.directory / "snapshot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if snapshot.exists():
            return snapshot
        empty = assets.directory / "empty"
        empty.mkdir(exist_ok=True)
        shares = {tag: (empty, True) for tag in ("sys", "sub", "out")}
        with Guest(assets, shares, kvm=kvm_usable(assets)) as guest:
            try:
                guest.start()
                guest.save_snapshot(snapshot)
            except (GuestLost, InfraError):
                snapshot.unlink(missing_ok=True)
    return snapshot


# ------------------------------------------------------------------- host
class _Capture(threading.Thread):
    """Reads one pipe of a host job, keeping the first OUTPUT_CAP bytes."""

    def __init__(self, pipe, on_flood) -> None:
        super().__init__(daemon=True)
        self.pipe, self.on_flood = pipe, on_flood
        self.data = bytearray()
        self.total = 0

    def run(self) -> None:
        while chunk := self.pipe.read1(65536):
            self.total += len(chunk)
            if len(self.data) < OUTPUT_CAP:
                self.data += chunk[:OUTPUT_CAP - len(self.data)]
            if self.total > FLOOD_LIMIT:
                self.on_flood()
                break
        self.pipe.close()


@dataclass
class _HostJob:
    popen: subprocess.Popen
    out: _Capture
    err: _Capture
    started: float
    flooded: list = field(default_factory=list)


class HostBackend(Backend):
    name = "host"

    def __init__(self, sub: Path, out: Path) -> None:
        self.sub_dir, self.out_dir = str(sub), str(out)
        self.jobs: list[_HostJob] = []

    def spawn(self, argv, *, cwd=None, env=None, stdin=b"", uid=None, gid=None) -> Job:
        def demote():
            if gid is not None:
                os.setgroups([])
                os.setgid(gid)
            if uid is not None:
                os.setuid(uid)
        base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": "/root", "LANG": "C.UTF-8"}
        try:
            popen = subprocess.Popen(list(argv), cwd=cwd, env=env or base,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     preexec_fn=demote if uid is not None or gid is not None else None)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot start {argv[0]}: {exc.strerror}") from None
        hj = _HostJob(popen, None, None, time.monotonic())

        def flood():
            hj.flooded.append(True)
            self._kill(popen.pid)
        hj.out, hj.err = _Capture(popen.stdout, flood), _Capture(popen.stderr, flood)
        hj.out.start()
        hj.err.start()
        try:
            popen.stdin.write(stdin)
            popen.stdin.close()
        except BrokenPipeError:
            pass
        self.jobs.append(hj)
        return Job(self, hj, popen.pid, list(argv))

    @staticmethod
    def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _peek(self, job):
        hj = job.handle
        return (hj.popen.poll() is None, bytes(hj.out.data).decode(errors="replace"),
                bytes(hj.err.data).decode(errors="replace"))

    def _wait(self, job, timeout, kill):
        hj = job.handle
        timed_out = False
        try:
            hj.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            if not kill:
                return None
            timed_out = True
            self._kill(hj.popen.pid)
            hj.popen.wait()
        # Like the agent: what remains in the pipes is read; descendants that
        # keep them open do not hold the answer back.
        hj.out.join(0.2)
        hj.err.join(0.2)
        code = hj.popen.returncode
        return Result(job.argv, exit=code if code >= 0 else None,
                      signal=-code if code < 0 else None, out=bytes(hj.out.data),
                      err=bytes(hj.err.data), out_total=hj.out.total, err_total=hj.err.total,
                      flooded=bool(hj.flooded), timed_out=timed_out,
                      ms=int((time.monotonic() - hj.started) * 1000))

    def _signal(self, job, sig):
        self._kill(job.pid, sig)

    def cleanup(self):
        for hj in self.jobs:
            self._kill(hj.popen.pid)
            if hj.popen.poll() is None:
                hj.popen.wait(5)
        self.jobs.clear()

    def read(self, path, max_bytes=1 << 20):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            chunks, size = [], 0
            while size < max_bytes and (chunk := os.read(fd, min(65536, max_bytes - size))):
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def write(self, path, data, mode=0o644):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def readlink(self, path):
        return os.readlink(path)

    def listdir(self, path):
        return os.listdir(path)

    def lstat(self, path):
        st = os.lstat(path)
        return SimpleNamespace(mode=st.st_mode, ino=st.st_ino, dev=st.st_dev,
                               rdev_major=os.major(st.st_rdev), rdev_minor=os.minor(st.st_rdev),
                               uid=st.st_uid, gid=st.st_gid, size=st.st_size, nlink=st.st_nlink)

    def ps(self):
        procs = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                raw = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2:].split()
            if int(fields[6]) & 0x00200000:  # PF_KTHREAD
                continue
            procs.append(Proc(int(name), int(fields[1]), fields[0], comm))
        return procs


def make_backend(name: str, sub: Path, out: Path) -> Backend:
    if name == "vm":
        return VMBackend(sub, out)
    if name == "host":
        if os.geteuid() != 0:
            raise InfraError("the host backend runs cases as root: run it as root, or use --backend vm")
        return HostBackend(sub, out)
    raise InfraError(f"unknown backend {name!r} (vm or host)")

