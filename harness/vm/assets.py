"""What a grading VM boots: an uncompressed kernel, an initramfs, a snapshot.

Everything is built from the machine's own Debian packages (linux-image-amd64,
busybox-static, gcc) into a cache directory, and rebuilt only when an input
changes: the cache key hashes the kernel, busybox, the host's loader cache,
the guest sources and this file.
"""
from __future__ import annotations

import glob
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InfraError

GUEST_DIR = Path(__file__).with_name("guest")
BUSYBOX = Path("/bin/busybox")
# The host's loader cache, for the programs the guest runs from the host's
# /usr: without it ld.so tries some forty directories per library, each a 9p
# lookup that fails (about 30 ms per exec under TCG, against 2 ms with it).
LD_SO_CACHE = Path("/etc/ld.so.cache")

# Loaded in this order by the guest's init.  The 9p and virtio modules are
# needed to reach the host; overlay and veth serve labs 06, 08 and 10, and
# cost nothing once they sit in the snapshot.
MODULES = [
    "drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_mmio",
    "fs/netfs/netfs", "fs/fscache/fscache", "net/9p/9pnet", "net/9p/9pnet_virtio",
    "fs/9p/9p", "drivers/char/virtio_console", "fs/overlayfs/overlay", "drivers/net/veth",
]
XZ_MAGIC = b"\xfd7zXZ\x00"


def cache_root() -> Path:
    """Where built assets live: $LABS_CACHE, else build/vm in the checkout."""
    env = os.environ.get("LABS_CACHE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "build" / "vm"


@dataclass(frozen=True)
class Assets:
    kernel: Path        # uncompressed vmlinux, booted through PVH
    initrd: Path
    directory: Path     # also holds the snapshot made from these

    @property
    def snapshot(self) -> Path:
        return self.directory / "snapshot.bin"


def find_kernel() -> tuple[Path, Path]:
    """The newest /boot/vmlinuz-* whose modules are installed."""
    found = []
    for image in glob.glob("/boot/vmlinuz-*"):
        version = image.split("vmlinuz-", 1)[1]
        modules = Path("/lib/modules") / version / "kernel"
        if modules.is_dir():
            found.append((os.path.getmtime(image), Path(image), modules))
    if not found:
        raise InfraError("no kernel: install linux-image-amd64 (see 'make deps')")
    _, image, modules = max(found)
    return image, modules


def extract_vmlinux(bzimage: Path, out: Path) -> None:
    """Decompress the XZ payload of a bzImage into an ELF QEMU boots with PVH.

    PVH skips the real-mode setup and the in-guest decompression, which under
    TCG saves seconds on every cold boot.
    """
    data = bzimage.read_bytes()
    start = data.find(XZ_MAGIC)
    if start < 0:
        raise InfraError(f"{bzimage}: no XZ payload (not a Debian kernel?)")
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        elf = decompressor.decompress(data[start:])
    except lzma.LZMAError as exc:
        raise InfraError(f"{bzimage}: cannot decompress its payload: {exc}") from exc
    if not elf.startswith(b"\x7fELF"):
        raise InfraError(f"{bzimage}: payload is not an ELF kernel")
    out.write_bytes(elf)


class Cpio:
    """A newc cpio archive, written without root (device nodes included)."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.buf.write(header + name.encode() + b"\0")
        self.buf.write(b"\0" * (-self.buf.tell() % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def dir(self, name: str, mode: int = 0o755) -> None:
        self._entry(name, 0o040000 | mode)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._entry(name, 0o020000 | mode, rdev=(major, minor))

    def bytes(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def build_agent(out: Path) -> None:
    cmd = ["gcc", "-std=c17", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
           "-o", str(out), str(GUEST_DIR / "agent.c")]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InfraError("building the guest agent failed:\n" + result.stderr)


def build_initramfs(out: Path, modules_dir: Path, agent: Path) -> None:
    if not BUSYBOX.exists():
        raise InfraError("no /bin/busybox: install busybox-static (see 'make deps')")
    cpio = Cpio()
    for d in ["bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc", "root",
              "usr", "modules", "mnt", "var"]:
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    # Debian's /usr is merged: dynamic programs from the host's /usr look for
    # their loader in /lib64.
    cpio.symlink("lib", "usr/lib")
    cpio.symlink("lib64", "usr/lib64")
    cpio.symlink("var/tmp", "../tmp")
    cpio.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            cpio.symlink(f"bin/{applet}", "busybox")
    cpio.file("init", (GUEST_DIR / "init").read_bytes(), 0o755)
    cpio.file("sbin/attach", (GUEST_DIR / "attach").read_bytes(), 0o755)
    cpio.file("sbin/agent", agent.read_bytes(), 0o755)
    cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
              b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
              b"student:x:1000:1000:student:/tmp:/bin/sh\n")
    cpio.file("etc/group", b"root:x:0:\nnogroup:x:65534:\nstudent:x:1000:\n")
    cpio.file("etc/hosts", b"127.0.0.1 localhost\n")
    cpio.file("etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files\n")
    if LD_SO_CACHE.exists():
        cpio.file("etc/ld.so.cache", LD_SO_CACHE.read_bytes())
    names = []
    for rel in MODULES:
        ko = modules_dir / f"{rel}.ko"
        if not ko.exists():
            raise InfraError(f"kernel module {ko} is missing")
        name = Path(rel).name
        cpio.file(f"modules/{name}.ko", ko.read_bytes())
        names.append(name)
    cpio.file("modules/order", ("\n".join(names) + "\n").encode())
    out.write_bytes(cpio.bytes())


def _fingerprint(image: Path) -> str:
    h = hashlib.sha256()
    inputs = [image, BUSYBOX, Path(__file__), *sorted(GUEST_DIR.iterdir())]
    if LD_SO_CACHE.exists():
        inputs.append(LD_SO_CACHE)
    for path in inputs:
        h.update(str(path).encode())
        h.update(path.read_bytes() if path.stat().st_size < 64 << 20 else b"")
    return h.hexdigest()[:16]


def ensure_assets() -> Assets:
    """Build (once) and return the kernel and initramfs for this machine."""
    image, modules = find_kernel()
    directory = cache_root() / _fingerprint(image)
    assets = Assets(directory / "vmlinux", directory / "initramfs.cpio", directory)
    if assets.kernel.exists() and assets.initrd.exists():
        return assets
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory.parent))
    try:
        extract_vmlinux(image, staging / "vmlinux")
        build_agent(staging / "agent")
        build_initramfs(staging / "initramfs.cpio", modules, staging / "agent")
        try:
            staging.rename(directory)
        except OSError:
            if not directory.exists():  # another process won the race otherwise
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return assets
