"""Compiling a staged lab, and the norm check on the student's objects.

Every source is compiled at -O0 -fno-builtin: the optimiser renames calls
(printf becomes puts) and inlines builtins, which would hide from nm the very
functions the norm is about.  The same objects are linked into the lab's
binaries, so what is checked is what runs.

A source can #include any file the compiler can read and print it in an
error, so the compiler must see no more than graded code does.  It runs in a
bubblewrap sandbox on the host that shows it exactly what the guest shows:
the host's /usr read-only, the staged lab at /sub and the output folder at
/out, no network, no /proc (about 60 ms a file, against about 1 s inside the
guest under TCG).  Where bubblewrap cannot run, the guest compiles.
"""
from __future__ import annotations

import hashlib
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .backends import Result
from .norm import norm_check
from .spec import Lab

CFLAGS = ["-std=c17", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-O0", "-fno-builtin", "-g"]
COMPILE_TIMEOUT = 60.0

# run(argv, cwd) -> Result, on the host or in the guest
Runner = Callable[[list[str], str], Result]


@dataclass
class Build:
    ok: bool
    log: str = ""
    reason: str = ""                 # one line: why the build failed
    norm: list[str] = field(default_factory=list)   # violations, readable
    binaries: list[str] = field(default_factory=list)      # built into the lab's out folder
    seconds: float = 0.0
    digests: dict[str, str] = field(default_factory=dict)   # host path -> sha256


BWRAP = "/usr/bin/bwrap"


def sandbox_runner(sub: Path, out: Path) -> Runner:
    """Runs build commands in a bubblewrap sandbox seeing /usr, /sub and /out only."""
    def run(argv: list[str], cwd: str) -> Result:
        cmd = [BWRAP, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
               "--setenv", "PATH", "/usr/bin", "--setenv", "LANG", "C.UTF-8",
               "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib64", "/lib64",
               "--symlink", "usr/lib", "/lib", "--symlink", "usr/bin", "/bin",
               "--ro-bind", str(sub), "/sub", "--bind", str(out), "/out",
               "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", cwd, *argv]
        start = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=COMPILE_TIMEOUT,
                               preexec_fn=_limit_memory)
            return Result(argv, exit=p.returncode, out=p.stdout[:1 << 20], err=p.stderr[:1 << 20],
                          ms=int((time.monotonic() - start) * 1000))
        except subprocess.TimeoutExpired:
            return Result(argv, timed_out=True, ms=int(COMPILE_TIMEOUT * 1000))
    return run


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


_sandbox_ok: bool | None = None


def sandbox_works() -> bool:
    """Whether bubblewrap can make its sandbox here (probed once)."""
    global _sandbox_ok
    if _sandbox_ok is None:
        try:
            probe = subprocess.run([BWRAP, "--unshare-all", "--ro-bind", "/usr", "/usr",
                                    "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/lib", "/lib",
                                    "/usr/bin/true"], capture_output=True, timeout=10)
            _sandbox_ok = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _sandbox_ok = False
    return _sandbox_ok


def build(lab: Lab, run: Runner, src: str, out: str, host_out: Path) -> Build:
    """Compiles lab's sources in src (as the runner sees it) into out.

    host_out is the same out folder seen from the host, used to fingerprint
    the binaries (a case may check that graded code did not replace them).
    """
    start = time.monotonic()
    host_out.mkdir(parents=True, exist_ok=True)  # graded code may have removed it
    log: list[str] = []
    objects: dict[str, str] = {}
    sources = sorted({s for srcs in lab.binaries.values() for s in srcs})
    # Student files first: their errors are the ones that matter.
    sources.sort(key=lambda s: s not in lab.student_files)
    for source in sources:
        obj = f"{out}/{Path(source).stem}.o"
        r = run(["gcc", *CFLAGS, "-c", source, "-o", obj], src)
        log.append(f"$ gcc {' '.join(CFLAGS)} -c {source}\n{r.stdout}{r.stderr}")
        if r.timed_out:
            return Build(False, "\n".join(log), f"compiling {source} took over {COMPILE_TIMEOUT:.0f} s",
                         seconds=time.monotonic() - start)
        if r.exit != 0:
            return Build(False, "\n".join(log), f"{source} does not compile",
                         seconds=time.monotonic() - start)
        objects[source] = obj
    violations: list[str] = []
    for source in lab.student_files:
        if source.endswith(".c"):
            violations += norm_check(lab, source, objects[source], run, src)
    binaries = []
    for binary, srcs in lab.binaries.items():
        target = f"{out}/{binary}"
        r = run(["gcc", "-o", target, *[objects[s] for s in srcs], *lab.ldlibs], src)
        log.append(f"$ gcc -o {binary} {' '.join(srcs)} {' '.join(lab.ldlibs)}\n{r.stdout}{r.stderr}")
        if r.exit != 0:
            return Build(False, "\n".join(log), f"linking {binary} failed", norm=violations,
                         seconds=time.monotonic() - start)
        binaries.append(binary)
    result = Build(True, "\n".join(log), norm=violations, binaries=binaries,
                   seconds=time.monotonic() - start)
    result.digests = fingerprint(host_out)
    return result


def fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build folder (empty if graded code removed it)."""
    if not folder.is_dir():
        return {}
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}
