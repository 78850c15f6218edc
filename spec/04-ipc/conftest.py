"""Helpers shared by the public and hidden cases of lab 04-ipc.

The System V objects of a namespace are read from the kernel's tables,
/proc/sysvipc/{shm,msg,sem}: by the grader for the machine's namespace, and
through `nsenter -t PID -i cat ...` for the namespace of PID (those files
show the IPC namespace of whoever reads them).  A child's mqueue mount is
listed through /proc/PID/root, which leads into the child's mount table.
The objects "outside" are made by the case itself, with Python's ctypes.
"""
import contextlib

import pytest

from harness.casekit import CaseFailed
from harness.errors import InfraError

KEY = 0x4C414234  # "LAB4"

# Makes, or removes, System V objects with a key, straight from the C library.
#   python3 -c OBJECTS KEY shm=SIZE msg=MESSAGES sem=NSEMS   prints "KIND ID" for each
#   python3 -c OBJECTS KEY rm                                 removes every object of KEY
OBJECTS = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
key = int(sys.argv[1])
CREATE = 0o1000 | 0o2000 | 0o600  # IPC_CREAT | IPC_EXCL | 0600
IPC_RMID = 0

class Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 16)]

def check(result, what):
    if result < 0:
        sys.exit(f"{what}: errno {ctypes.get_errno()}")
    return result

for arg in sys.argv[2:]:
    kind, _, n = arg.partition("=")
    if kind == "shm":
        print("shm", check(libc.shmget(key, ctypes.c_size_t(int(n)), CREATE), "shmget"))
    elif kind == "msg":
        queue = check(libc.msgget(key, CREATE), "msgget")
        for _ in range(int(n)):
            check(libc.msgsnd(queue, ctypes.byref(Message(1, b"outside")), ctypes.c_size_t(16), 0), "msgsnd")
        print("msg", queue)
    elif kind == "sem":
        print("sem", check(libc.semget(key, int(n), CREATE), "semget"))
    elif kind == "rm":
        found = libc.shmget(key, ctypes.c_size_t(0), 0)
        if found >= 0:
            libc.shmctl(found, IPC_RMID, None)
        found = libc.msgget(key, 0)
        if found >= 0:
            libc.msgctl(found, IPC_RMID, None)
        found = libc.semget(key, 0, 0)
        if found >= 0:
            libc.semctl(found, 0, IPC_RMID)
"""

# What the case puts outside, under KEY: each differs from what ipcset_create
# makes (4096 bytes, an empty queue, 1 semaphore), so that the two are told apart.
OUTSIDE = {"shm": 8192, "msg": 2, "sem": 3}
MQUEUE = "/dev/mqueue"


class Ipcns:
    """Runs the lab's driver, ipcns, and looks into the namespaces it makes."""

    KEY, OUTSIDE, MQUEUE = KEY, OUTSIDE, MQUEUE

    def __init__(self, lab):
        self.lab = lab
        self.held = []  # (driver, payload PID) of every held run, stopped after the case

    # ------------------------------------------------------------ the driver
    @staticmethod
    def parse(text: str) -> dict:
        """{'spawned': 812, 'found': 0, 'found_ids': {'shm': -1, ...}, 'created': {'shm': 3, ...},
        'reopened': 3, 'reopened_ids': {...}, 'set': {...}, 'queues': [...], 'mounted': '/dir',
        'error': 'ipcset_create returned -1, errno EEXIST (File exists)'}"""
        report = {}
        for line in text.splitlines():
            line = line.removeprefix("inside ")
            words = line.split()
            if not words:
                continue
            if words[0] == "reopened" and len(words) == 9:
                words = words[1:]
                report["reopened"] = int(words[1])
                report["reopened_ids"] = {words[i]: int(words[i + 1]) for i in (2, 4, 6)}
            elif words[0] == "found" and len(words) == 8:
                report["found"] = int(words[1])
                report["found_ids"] = {words[i]: int(words[i + 1]) for i in (2, 4, 6)}
            elif words[0] in ("spawned", "exited", "signaled", "found") and len(words) == 2:
                report[words[0]] = int(words[1])
            elif words[0] in ("created", "set") and len(words) == 7:
                report[words[0]] = {words[i]: int(words[i + 1]) for i in (1, 3, 5)}
            elif words[0] == "queues:":
                report["queues"] = [] if words[1:] == ["(none)"] else words[1:]
            elif words[0] in ("used", "removed"):
                report[words[0]] = True
            elif words[0] == "mounted" and len(words) == 2:
                report["mounted"] = words[1]
            elif words[0] == "error:":
                report["error"] = line.partition(" ")[2]
        return report

    def run(self, *argv, uid=None, gid=None):
        result = self.lab.run("ipcns", *argv, uid=uid, gid=gid)
        return result, self.parse(result.stdout)

    @staticmethod
    def ids(shm=-1, msg=-1, sem=-1) -> dict:
        return {"shm": shm, "msg": msg, "sem": sem}

    @staticmethod
    def said(result) -> str:
        """A program's output on one line, or how it ended if it printed nothing."""
        return result.stdout.strip().replace("\n", " | ") or result.describe()

    def settle(self, prog, timeout: float = 10.0) -> str:
        """Output of a --hold program once it printed 'ready', or once it ended."""
        def done():
            out = prog.output()
            return out if "ready\n" in out or not prog.running() else None
        self.lab.eventually(done, timeout=timeout, what="ipcns to print 'ready' or to end")
        return prog.output()

    def start_held(self, mode: str, arg):
        """`ipcns --hold MODE ARG`, once its payload waits: (program, payload PID, report)."""
        prog = self.lab.start("ipcns", "--hold", mode, arg)
        out = self.settle(prog)
        report = self.parse(out)
        if "spawned" not in report:
            raise CaseFailed(f"`ipcns --hold {mode} {arg}` should spawn its payload",
                             expected="spawned PID", observed=self.show(out))
        child = self.lab.eventually(lambda: self.lab.only_child(prog.pid), what="the payload process")
        self.held.append((prog, child))
        if child != report["spawned"]:
            raise CaseFailed("the PID ipcns_spawn returned, against the driver's child in the process table",
                             expected=child, observed=report["spawned"])
        return prog, child, report

    @staticmethod
    def show(out: str) -> str:
        return out.strip().replace("\n", " | ") or "nothing"

    def release(self) -> None:
        """Kills the held payloads and lets their drivers reap them."""
        for prog, child in self.held:
            try:
                self.lab.machine.run(["kill", "-KILL", str(child)], timeout=5.0)
                prog.job.wait(5.0, kill=True)
            except Exception:  # the machine's own clean-up comes next anyway
                pass
        self.held.clear()

    # --------------------------------------------------- the kernel's tables
    def table(self, kind: str, pid: int | None = None) -> list[dict]:
        """Rows of /proc/sysvipc/KIND, as the IPC namespace of pid (or the machine's) has them."""
        if pid is None:
            text = self.lab.read(f"/proc/sysvipc/{kind}")
        else:
            result = self.lab.run("nsenter", "-t", pid, "-i", "cat", f"/proc/sysvipc/{kind}")
            if result.exit != 0:
                raise CaseFailed(f"reading /proc/sysvipc/{kind} in PID {pid}'s IPC namespace with nsenter",
                                 observed=f"{result.describe()}: {result.stderr.strip()}")
            text = result.stdout
        header, *rows = text.splitlines()
        names = header.split()
        return [{n: int(v) for n, v in zip(names, row.split())} for row in rows if row.strip()]

    def with_key(self, kind: str, pid: int | None = None, key: int = KEY) -> list[dict]:
        return [row for row in self.table(kind, pid) if row["key"] == key]

    def keyed(self, pid: int | None = None, key: int = KEY) -> dict[str, list[dict]]:
        return {kind: self.with_key(kind, pid, key) for kind in ("shm", "msg", "sem")}

    # ------------------------------------------------------ what is outside
    def _setup(self, argv: list[str]) -> str:
        result = self.lab.machine.run(argv, timeout=self.lab.budget(30.0))
        if result.exit != 0:
            raise InfraError(f"case set-up failed: {argv[0]} {result.describe()}: {result.stderr.strip()}")
        return result.stdout

    def _quietly(self, argv: list[str]) -> None:
        try:
            self.lab.machine.run(argv, timeout=10.0)
        except Exception:
            pass

    @contextlib.contextmanager
    def outside_objects(self, kinds=("shm", "msg", "sem")):
        """The case's own objects under KEY in the machine's namespace: {'shm': id, ...}."""
        out = self._setup(["python3", "-c", OBJECTS, str(KEY), *(f"{k}={OUTSIDE[k]}" for k in kinds)])
        ids = {kind: int(i) for kind, i in (line.split() for line in out.splitlines())}
        try:
            yield ids
        finally:
            self.release()
            self._quietly(["python3", "-c", OBJECTS, str(KEY), "rm"])

    @contextlib.contextmanager
    def outside_mqueue(self, queue: str, shared: bool = False):
        """The machine's mqueue filesystem on /dev/mqueue, with one queue in it;
        shared: a shared mount, as systemd makes them."""
        self._setup(["mount", "-t", "mqueue", "mqueue", MQUEUE])
        try:
            if shared:
                self._setup(["mount", "--make-shared", MQUEUE])
            self._setup(["touch", f"{MQUEUE}/{queue}"])
            yield
        finally:
            self.release()
            for _ in range(4):  # the case's mount, and any a wrong solution left on top
                if not self.mqueue_mounts():
                    break
                self._quietly(["rm", "-f", f"{MQUEUE}/{queue}"])
                self._quietly(["umount", "-l", MQUEUE])

    def mqueue_mounts(self, pid: int | str = 1):
        return [m for m in self.lab.mounts(pid) if m.point == MQUEUE]


@pytest.fixture
def ipcns(lab):
    helper = Ipcns(lab)
    yield helper
    helper.release()
