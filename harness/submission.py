"""Where a lab's handed-in files are, and the staging of what a grading sees.

A submission is a folder.  It may hold the labs' folders directly
(SUBMISSION/01-pid/pid_lab.c, like solutions/) or inside labs/ (a student's
checkout of the bundle: SUBMISSION/labs/01-pid/pid_lab.c).

A variant is the reference with some files replaced: a mutant is a patch
against it (see patches.py), an alternative a file or a folder of files.

Staging copies, for each lab, the lab's provided files (driver, header) and
only the student files the spec names into a fresh folder: that folder is
all the guest ever sees of the submission.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import patches
from .spec import SOLUTIONS_DIR, Lab


@dataclass
class Handin:
    """The student files of one lab: name -> path (None when not handed in)."""
    label: str
    files: dict[str, Path | None]

    @property
    def missing(self) -> list[str]:
        return [name for name, path in self.files.items() if path is None]


def lab_folder(submission: Path, lab: Lab) -> Path:
    for candidate in (submission / lab.name, submission / "labs" / lab.name):
        if candidate.is_dir():
            return candidate
    return submission / lab.name


def handin(submission: Path, lab: Lab) -> Handin:
    folder = lab_folder(submission, lab)
    # A symlink counts as missing: it could point at any file of the host.
    files = {name: (folder / name if (folder / name).is_file() and not (folder / name).is_symlink()
                    else None) for name in lab.student_files}
    return Handin(str(submission), files)


def variant(lab: Lab, path: Path, scratch: Path) -> Handin:
    """The reference solution of lab with path laid over it.

    path is a patch against the reference (a mutant), a folder of files, or
    one file replacing the lab's student file (an alternative).  Patched
    files are written under scratch.
    """
    reference = SOLUTIONS_DIR / lab.name
    files: dict[str, Path | None] = {name: reference / name for name in lab.student_files}
    if path.suffix == ".patch":
        files.update(patches.materialise(path, reference, scratch / lab.name / path.stem))
    elif path.is_dir():
        files.update({name: path / name for name in lab.student_files if (path / name).is_file()})
    elif len(lab.student_files) == 1:
        files[lab.student_files[0]] = path
    else:
        raise ValueError(f"{path}: a lab with several student files takes a patch or a folder")
    return Handin(str(path), files)


def stage(lab: Lab, hand: Handin, sub_root: Path) -> Path:
    """Copies the lab's provided files and the handed-in files into sub_root/NN-name."""
    dest = sub_root / lab.name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in lab.provided_files:
        shutil.copy2(lab.lab_dir / name, dest / name)
    for name, path in hand.files.items():
        if path is not None:
            shutil.copyfile(path, dest / name)
    return dest


BUSYBOX = Path("/bin/busybox")


def stage_rootfs(sub_root: Path) -> Path:
    """A small root filesystem for the labs that change root: busybox and its
    applets (relative symlinks, so that they work from any mount point),
    empty /proc, /sys, /dev and /tmp, and minimal /etc.  The same every time,
    built from Debian's busybox-static; no network needed."""
    root = sub_root / "rootfs"
    for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt", "var", "usr/bin"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "tmp").chmod(0o1777)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "etc" / "hostname").write_text("rootfs\n")
    (root / "etc" / "os-release").write_text("NAME=labs-rootfs\nID=labs\n")
    return root
