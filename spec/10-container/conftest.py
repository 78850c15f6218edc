"""Helpers shared by the public and hidden cases of lab 10-container.

Every case works in /tmp/c10: the image (a fresh busybox root filesystem,
the overlay's lower layer) and the state folder where `ctr run` makes each
container's layers.  Containers are made under the machine's cgroup parent.

The grading VM's root is its initramfs (rootfs), the one mount pivot_root(2)
always refuses to move (EINVAL).  An ordinary host boots from a disk mounted
over it; the cases run ctr through /tmp/c10/on-a-real-root, which does the
same in a mount namespace of its own: the whole tree bind-mounted and moved
over /.  ctr keeps the launcher's PID, so the case signals ctr itself.
"""
import pytest

from harness.casekit import CaseFailed, show, tail

BASE = "/tmp/c10"
IMAGE = f"{BASE}/image"
STATE = f"{BASE}/state"
TOP = "/tmp/c10-top"
LAUNCHER = f"{BASE}/on-a-real-root"

LAUNCHER_SCRIPT = f"""#!/bin/sh
# on-a-real-root PROGRAM [ARG...]: runs PROGRAM from a root that is a mount,
# as on an ordinary host (the VM's root is its initramfs, which pivot_root(2)
# cannot move): a private mount namespace, the whole tree bind-mounted on
# {TOP} and moved over /, a chroot into it.  PROGRAM keeps this PID.
set -e
if [ "$1" != --in-namespace ]; then
	exec /usr/bin/unshare --mount "$0" --in-namespace "$PWD" "$@"
fi
cwd=$2
shift 2
/usr/bin/mount --rbind / {TOP}
cd {TOP}
/usr/bin/mount --move . /
exec /usr/sbin/chroot . /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
"""

# What the container's /dev must hold.
DEV = {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr"}


class Ctr:
    """The image, the launcher, and `ctr run` / `ctr stop` through it."""

    DEV = DEV
    IP = "/usr/bin/ip"              # iproute2 (busybox's ip, first in PATH, has no -j)
    NSENTER = "/usr/bin/nsenter"
    IMAGE = IMAGE
    STATE = STATE

    def __init__(self, lab):
        self.lab = lab
        lab.sh(f"rm -rf {BASE} && mkdir -p {BASE} {TOP}")
        lab.rootfs(IMAGE)
        lab.machine.write(LAUNCHER, LAUNCHER_SCRIPT.encode(), 0o755)
        self.parent = lab.machine.cgroup_parent
        self.running = []         # (ctr run, name) to stop at the end of the case

    def argv(self, name: str, opts, cmd) -> list:
        return [LAUNCHER, f"{self.lab.out}/ctr", "run", "--image", IMAGE, "--state", STATE,
                "--cgroup-parent", self.parent, "--name", name, *map(str, opts), "--", *map(str, cmd)]

    def run(self, name: str, *cmd, opts=(), timeout: float = 20.0):
        """`ctr run` to its end; returns its Result (exit is the command's code)."""
        return self.lab.run(*self.argv(name, opts, cmd), timeout=timeout)

    def start(self, name: str, *cmd, opts=()):
        prog = self.lab.start(*self.argv(name, opts, cmd))
        self.running.append((prog, name))
        return prog

    def close(self):
        """Stops what the case left running, so that ctr itself cleans up.

        Not lab.run: this must work when the case has used up its time. A
        ctr that does not clean up leaves its cgroup, and the harness then
        runs the next case in a fresh guest."""
        for prog, name in self.running:
            if prog.running():
                self.lab.machine.run([f"{self.lab.out}/ctr", "stop", "--cgroup-parent", self.parent, name],
                                     timeout=5)
                prog.job.wait(5.0, kill=True)

    def stop(self, name: str):
        return self.lab.run("ctr", "stop", "--cgroup-parent", self.parent, name)

    def parked(self, name: str, *extra, opts=(), ready: str = "ready\n"):
        """Starts a container whose command prints ready and sleeps; returns (ctr, its init's PID)."""
        cmd = extra or ("sh", "-c", "echo ready; exec sleep 60")
        prog = self.start(name, *cmd, opts=opts)
        self.wait_ready(prog, ready)
        return prog, self.init_of(prog)

    def wait_ready(self, prog, ready="ready\n"):
        def seen():
            running, out, _ = prog.job.peek()
            if ready in out:
                return out
            if not running:
                result = prog.finish(1.0)
                raise CaseFailed(f"`{show(prog.job.argv[1:])}` ended before its command printed {ready.strip()!r}",
                                 observed=f"{result.describe()}, having printed: {result.stdout.strip() or 'nothing'}",
                                 hint=tail(result.stderr))
            return None
        return self.lab.eventually(seen, timeout=10.0, what=f"{ready.strip()!r} from the container's command")

    def init_of(self, prog) -> int:
        """The container's init: the child of ctr in a PID namespace of its own."""
        own = self.lab.ns_of(prog.pid, "pid")

        def find():
            kids = [p.pid for p in self.lab.children(prog.pid) if self.lab.ns_of(p.pid, "pid") not in (own, None)]
            return kids[0] if len(kids) == 1 else None
        return self.lab.eventually(find, what="the container's init, a child of ctr in a new PID namespace")

    def members(self, init: int) -> list[int]:
        """Every process of the PID namespace init is PID 1 of."""
        ns = self.lab.ns_of(init, "pid")
        return [p.pid for p in self.lab.ps() if ns is not None and self.lab.ns_of(p.pid, "pid") == ns]

    def cgroup(self, name: str) -> str:
        return f"{self.parent}/{name}"

    def image_digest(self) -> str:
        """Every path of the image with its type, mode, size and mtime, and every file's md5."""
        return self.lab.sh(f"cd {IMAGE} && find . -exec stat -c '%n %F %a %s %Y' {{}} + | sort"
                           f" && find . -type f -exec md5sum {{}} + | sort", timeout=20.0).stdout

    def leftovers(self, name: str) -> list[str]:
        """What a finished container left on the machine: cgroup, veth, mounts, layers."""
        left = []
        if self.lab.exists(self.cgroup(name)):
            left.append(f"the cgroup {self.cgroup(name)}")
        if self.lab.exists(f"/sys/class/net/vh-{name}"):
            left.append(f"the link vh-{name}")
        for m in self.lab.mounts(1):
            if m.fstype == "overlay" or m.point.startswith(BASE):
                left.append(f"a mount on {m.point} ({m.fstype})")
        for sub in ("work", "merged"):
            if self.lab.exists(f"{STATE}/{name}/{sub}"):
                left.append(f"the folder {STATE}/{name}/{sub}")
        return left


@pytest.fixture
def ctr(lab):
    c = Ctr(lab)
    yield c
    c.close()
