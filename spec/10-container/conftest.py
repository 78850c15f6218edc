"""Helpers shared by the public and hidden cases of lab 10-container.

Everything lives in /tmp/c10.  The image (the overlay's lower layer: busybox,
a few of its applets, /etc) is made once and shared by every case: a
container must never write to it, so each case checks, before it starts,
that nothing in it is newer than image.made, and makes it again if so (or if
a fresh guest has an empty /tmp).  Beside it, three broken images that stop
a container's init at a given step.  Each case starts without the state
folder, which `ctr run` makes, with each container's layers in it;
containers are made under the machine's cgroup parent.

The programs a case runs on the machine are cheap ones: ctr itself, busybox
(a static binary), and iproute2's ip where JSON is wanted.
"""
import re

import pytest

from harness.casekit import CaseFailed, expect, show, tail

BASE = "/tmp/c10"
IMAGE = f"{BASE}/image"
STAMP = f"{BASE}/image.made"
STATE = f"{BASE}/state"
BAD = f"{BASE}/bad"
BB = "/bin/busybox"
IP = "/usr/bin/ip"                 # iproute2: busybox's ip has no -j

# What the image holds: the binary and the applets the cases' commands use.
APPLETS = ("sh", "cat", "dd", "echo", "hostname", "ip", "kill", "ls", "ping", "ps", "rm", "sleep", "true")

SETUP = f"""
B={BB}
$B rm -rf {STATE}
if ! [ -e {STAMP} ] || [ -n "$($B find {IMAGE} {BAD} -newer {STAMP} 2>&1)" ]; then
	$B rm -rf {BASE}
	$B mkdir -p {IMAGE}/bin {IMAGE}/sbin {IMAGE}/proc {IMAGE}/sys {IMAGE}/dev {IMAGE}/tmp {IMAGE}/root \\
		{BAD}/noproc {BAD}/nodev/proc {BAD}/oldroot/proc {BAD}/oldroot/dev {BAD}/oldroot/.oldroot
	cd /sub/rootfs/bin && $B cp -dR busybox {' '.join(APPLETS)} {IMAGE}/bin/
	$B cp -dR /sub/rootfs/etc {IMAGE}/
	$B touch {STAMP}
fi
"""

# What the container's /dev must hold: character devices and links.
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
         "stderr": "/proc/self/fd/2"}

# The command of a parked container: says it is ready, then sleeps.
PARK = "echo ready; exec sleep 60"


class Ctr:
    """The image, and `ctr run` / `ctr stop` / `ctr call` on the machine."""

    BASE, IMAGE, STATE, BAD, IP, BB = BASE, IMAGE, STATE, BAD, IP, BB
    DEVICES, LINKS = DEVICES, LINKS

    def __init__(self, lab):
        self.lab = lab
        lab.sh(SETUP, timeout=20.0)
        self.parent = lab.machine.cgroup_parent
        self.running = []         # (ctr run, name) to stop at the end of the case

    # ------------------------------------------------------------ running
    def argv(self, name: str | None, opts=(), cmd=("true",), image: str = IMAGE, state: str = STATE,
             parent: str | None = "") -> list:
        """`ctr run`'s command line; a name or parent of None is left out."""
        parent = self.parent if parent == "" else parent
        return ["ctr", "run", "--image", image, "--state", state,
                *(["--cgroup-parent", parent] if parent is not None else []),
                *(["--name", name] if name is not None else []), *map(str, opts), "--", *map(str, cmd)]

    def run(self, name: str, *cmd, opts=(), image: str = IMAGE, timeout: float = 20.0):
        """`ctr run` to its end; returns its Result (exit is the command's code)."""
        return self.lab.run(*self.argv(name, opts, cmd, image), timeout=timeout)

    def start(self, name: str, *cmd, opts=()):
        prog = self.lab.start(*self.argv(name, opts, cmd))
        self.running.append((prog, name))
        return prog

    def close(self):
        """Stops what the case left running, so that ctr itself cleans up.

        Not lab.run: this must work when the case has used up its time.  A
        ctr that does not clean up leaves its cgroup, and the harness then
        runs the next case in a fresh guest."""
        for prog, name in self.running:
            if prog.running():
                self.lab.machine.run([f"{self.lab.out}/ctr", "stop", "--cgroup-parent", self.parent, name],
                                     timeout=5)
                prog.job.wait(5.0, kill=True)

    def stop(self, name: str):
        return self.lab.run("ctr", "stop", "--cgroup-parent", self.parent, name)

    def call(self, *steps, fds: int | None = None, without_stdin: bool = False) -> list[str]:
        """`ctr call` of each step (a tuple: function, arguments), in one run;
        returns the line each printed (cgroup_create's path line is joined to
        its own, after ' | ').  fds: `--fds N`; without_stdin: ctr starts
        with descriptor 0 closed, as a daemon may."""
        argv = [f"{self.lab.out}/ctr", "call", *(["--fds", str(fds)] if fds else [])]
        for i, step in enumerate(steps):
            argv += ([] if i == 0 else ["--"]) + [str(a) for a in step]
        if without_stdin:
            argv = ["/bin/sh", "-c", 'exec "$0" "$@" <&-', *argv]
        r = self.lab.run(*argv)
        lines = []
        for line in r.stdout.splitlines():
            if line.startswith(("path ", "overflow:")) and lines:
                lines[-1] += " | " + line
            else:
                lines.append(line)
        if r.signal is not None or r.timed_out or len(lines) != len(steps):
            raise CaseFailed(f"`ctr call` of {len(steps)} functions should print one line for each",
                             expected=f"{len(steps)} lines", observed=f"{r.describe()}, printed: {r.stdout.strip()!r}",
                             hint=tail(r.stderr))
        return lines

    def parked(self, name: str, script: str = PARK, opts=()):
        """Starts a container running `sh -c SCRIPT` (which must end by printing
        ready and sleeping); returns (ctr, its init's PID, what it printed)."""
        prog = self.start(name, "sh", "-c", script, opts=opts)
        said = self.wait_ready(prog)
        return prog, self.init_of(prog), said

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

    # -------------------------------------------------------- observing
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

    def image_changes(self) -> list[str]:
        """What in the image (or the broken ones) was modified since it was made."""
        return self.lab.sh(f"{BB} find {IMAGE} {BAD} -newer {STAMP}").stdout.split()

    def leftovers(self, name: str, state: str = STATE) -> list[str]:
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
            if self.lab.exists(f"{state}/{name}/{sub}"):
                left.append(f"the folder {state}/{name}/{sub}")
        return left

    def fds(self, pid: int) -> list[str]:
        """The open descriptors of a process, as 'N -> target'."""
        return [f"{n} -> {self.lab.machine.readlink(f'/proc/{pid}/fd/{n}')}"
                for n in sorted(self.lab.machine.listdir(f"/proc/{pid}/fd"), key=int)]

    # ---------------------------------------------------------- failing
    def said(self, result, what: str, errno_text: str, objects=()):
        """What a failing run printed on stderr: one line, "ctr: " then what
        failed (more than the names and paths involved), ": " and errno's
        text (strerror)."""
        lines = result.stderr.strip().splitlines()
        line = lines[0] if len(lines) == 1 else ""
        middle = line[len("ctr: "):-len(": " + errno_text)] if (
            line.startswith("ctr: ") and line.endswith(": " + errno_text)) else ""
        words = [w for w in middle.replace(":", " ").split()
                 if "/" not in w and w.strip("'\"") not in objects]
        expect(middle and "(null)" not in line and re.search(r"[A-Za-z]{3,}", " ".join(words)),
               f"what `ctr run` {what} said on stderr",
               expected=f"one line, 'ctr: ' then what failed (what was being done, on what), "
                        f"': ' and errno's text, '{errno_text}'",
               observed=" / ".join(lines) or "nothing")

    def refused(self, result, what: str, errno_text: str, name: str | None = None, state: str = STATE,
                command: str = "true"):
        """ctr run failed as it should: 125, one line of why, nothing left."""
        said = result.stderr.strip()
        expect(result.exit == 125 and not result.timed_out and errno_text in said,
               f"`ctr run` {what}",
               expected=f"exit status 125 and a message on stderr with errno's text, '{errno_text}'",
               observed=f"{result.describe()}; stderr: {said or 'nothing'}")
        objects = {command, *(n for n in (name, f"vh-{name}", f"vc-{name}") if name)}
        self.said(result, what, errno_text, objects)
        if name:
            left = self.leftovers(name, state)
            expect(not left, f"what the failed `ctr run` ({what}) left on the machine", expected="nothing",
                   observed="; ".join(left))


@pytest.fixture
def ctr(lab):
    c = Ctr(lab)
    yield c
    c.close()
