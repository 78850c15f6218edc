"""One throwaway QEMU guest: start it (cold or from a snapshot), talk to it, kill it.

The recipe (measured on a 2-core TCG machine, see docs/vm.md): a microvm
machine booting an uncompressed kernel through PVH, with tsc_early_khz on the
command line (without it about one boot in five hangs calibrating the clock),
the host's /usr and the lab's files as 9p shares, and the agent on a
virtio-serial port whose host end is a unix socket.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import GuestLost, InfraError
from .agent import AgentClient
from .assets import Assets

# LABS_QEMU names another emulator (the test suite uses one that never boots).
QEMU = os.environ.get("LABS_QEMU", "qemu-system-x86_64")
MEMORY_MB = int(os.environ.get("LABS_MEM", "1024"))
BOOT_TIMEOUT = float(os.environ.get("LABS_BOOT_TIMEOUT", "30"))


def host_tsc_khz() -> int:
    """The host's TSC rate, which the guest is told instead of measuring it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return int(float(line.split(":")[1]) * 1000)
    except OSError:
        pass
    return 2_000_000


def kvm_usable(assets: Assets) -> bool:
    """KVM is used only if a short probe boot answers; on the machine this was
    built on, KVM guests hang.  The answer is kept next to the assets.

    LABS_KVM=0 or 1 overrides the probe.
    """
    forced = os.environ.get("LABS_KVM")
    if forced in ("0", "1"):
        return forced == "1"
    verdict = assets.directory / "kvm-probe"
    if not verdict.exists():
        ok = False
        if os.access("/dev/kvm", os.R_OK | os.W_OK):
            try:
                with Guest(assets, shares={}, kvm=True) as probe:
                    probe.start(timeout=5.0)
                ok = True
            except (GuestLost, InfraError, OSError):
                ok = False
        verdict.write_text("1\n" if ok else "0\n")
    return verdict.read_text().strip() == "1"


def _die_with_parent() -> None:
    """In QEMU's child, before exec: the kernel kills it when the harness
    dies, even by SIGKILL (a guest left running would burn a core for ever).
    The guest's own session keeps the terminal's ^C away from it."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Guest:
    """A QEMU process and the agent connection to it.

    shares maps a 9p mount tag to (host directory, read_only).  The guest
    mounts them only when attach() is called, after any snapshot.
    """

    def __init__(self, assets: Assets, shares: dict[str, tuple[Path, bool]], kvm: bool = False,
                 memory_mb: int = MEMORY_MB) -> None:
        self.assets = assets
        self.shares = shares
        self.kvm = kvm
        self.memory_mb = memory_mb
        self.dir = Path(tempfile.mkdtemp(prefix="labs-vm-"))
        self.proc: subprocess.Popen | None = None
        self.agent = AgentClient(str(self.dir / "agent.sock"), on_lost=self.why_lost)
        self.started_at = 0.0
        self.ready_after = 0.0

    # ------------------------------------------------------------ process
    def command(self, incoming: Path | None) -> list[str]:
        cmd = [QEMU, "-M", "microvm", "-m", str(self.memory_mb), "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-kernel", str(self.assets.kernel), "-initrd", str(self.assets.initrd),
               "-append", f"console=ttyS0 panic=-1 quiet cryptomgr.notests "
                          f"tsc_early_khz={host_tsc_khz()}" + os.environ.get("LABS_APPEND", ""),
               "-chardev", f"file,id=con,path={self.dir / 'console.log'}",
               "-serial", "chardev:con",
               "-chardev", f"socket,id=ag,path={self.dir / 'agent.sock'},server=on,wait=off",
               "-device", "virtio-serial-device",
               "-device", "virtserialport,chardev=ag,name=agent",
               "-qmp", f"unix:{self.dir / 'qmp.sock'},server=on,wait=off"]
        # -cpu max: RDRAND fills the entropy pool at once (measured: 0.6 s).
        cmd += ["-accel", "kvm" if self.kvm else "tcg", "-cpu", "max"]
        # The same three share devices always, so that a snapshot taken with
        # one set of directories restores with another.
        for tag in ("sys", "sub", "out"):
            path, read_only = self.shares.get(tag, (self.dir / "empty", True))
            path.mkdir(exist_ok=True)
            cmd += ["-fsdev", f"local,id=fs_{tag},path={path},security_model=none,multidevs=remap"
                              + (",readonly=on" if read_only else ""),
                    "-device", f"virtio-9p-device,fsdev=fs_{tag},mount_tag={tag}"]
        if incoming:
            cmd += ["-incoming", f"exec:cat {incoming}"]
        return cmd

    def start(self, timeout: float = BOOT_TIMEOUT, snapshot: Path | None = None) -> None:
        """Boots (or restores) and waits until the agent answers."""
        if shutil.which(QEMU) is None:
            raise InfraError(f"{QEMU} not found: install qemu-system-x86 (see 'make deps')")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(snapshot), stdin=subprocess.DEVNULL,
                                     stdout=open(self.dir / "qemu.log", "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        self.agent.connect(timeout)
        self.agent.ping(timeout)
        self.ready_after = time.monotonic() - self.started_at

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def why_lost(self) -> str:
        if self.proc is None:
            return "never started"
        code = self.proc.poll()
        if code is None:
            return "QEMU still runs but the guest is silent"
        console = self.console_tail()
        if "Kernel panic" in console:
            return "the guest kernel panicked"
        if "reboot: Power down" in console or "reboot: Restarting" in console:
            return "the guest powered off or rebooted"
        qemu_log = (self.dir / "qemu.log").read_text(errors="replace").strip()
        return f"QEMU exited with {code}" + (f": {qemu_log[-300:]}" if qemu_log else "")

    def console_tail(self, size: int = 4000) -> str:
        try:
            return (self.dir / "console.log").read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def attach(self, timeout: float = 20.0) -> None:
        """Mounts the 9p shares in the guest (after any snapshot was taken)."""
        answer = self.agent.call("spawn", timeout, argv=["/sbin/attach"])
        done = self.agent.call("wait", timeout, id=answer["id"], timeout_ms=int(timeout * 1000), kill=1)
        if done.get("exit") != b"0":
            raise InfraError("mounting the shares in the guest failed: "
                             + done.get("err", b"").decode(errors="replace"))

    def close(self) -> None:
        self.agent.close()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Guest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------- snapshot
    def qmp(self, *commands: dict, timeout: float = 30.0) -> list[dict]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(str(self.dir / "qmp.sock"))
        stream = sock.makefile("rwb")
        answers = []

        def answer() -> dict:
            while True:
                line = stream.readline()
                if not line:
                    raise InfraError("QMP connection closed")
                message = json.loads(line)
                if "event" not in message:
                    return message

        answer()  # greeting
        for command in ({"execute": "qmp_capabilities"}, *commands):
            stream.write(json.dumps(command).encode() + b"\n")
            stream.flush()
            answers.append(answer())
        sock.close()
        return answers[1:]

    def save_snapshot(self, path: Path, timeout: float = 60.0) -> None:
        """Migrates the running guest into a file (before any 9p mount).

        It waits for the guest's init to have loaded every module first, so
        that restored guests have them all.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.agent.call("read", 5.0, path="/run/modules-ready")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise InfraError("the guest never finished loading its modules")
                time.sleep(0.02)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        self.qmp({"execute": "migrate", "arguments": {"uri": f"exec:cat > {tmp}"}})
        deadline = time.monotonic() + timeout
        while True:
            (status,) = self.qmp({"execute": "query-migrate"})
            state = status.get("return", {}).get("status")
            if state == "completed":
                break
            if state in ("failed", "cancelled") or time.monotonic() > deadline:
                tmp.unlink(missing_ok=True)
                raise InfraError(f"snapshot failed: {status}")
            time.sleep(0.05)
        os.replace(tmp, path)
        # The source stops at the end of a migration; let it go on.
        self.qmp({"execute": "cont"})
