"""Hostile and broken submissions: each is scored with a clear reason, and
the host, the harness and the next case are left as they were.

Each submission in hostile/ (a folder, or a patch against the reference laid
out in tmp_path: see the submission fixture) is graded through the command
line, with its own temporary folder; before and after, the host's mount
table, network links and checkout are compared, no QEMU is left behind, and
nothing is left in the temporary folder.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import spec as specmod

HOSTILE = Path(__file__).with_name("hostile")

# name: (what the report must say, what it must not say, how many of the 12
# cases must pass at least and at most).  "Once" attacks hit the first case
# only: the cases after it must run in a clean guest, and pass.
EXPECTED = {
    "fork_bomb": (r"never happened|timed out after", None, 10, 12),
    "infinite_loop": (r"never happened|timed out after", None, 10, 12),
    "sleep_forever": (r"never happened|timed out after", None, 10, 12),
    "output_flood": (r"killed for flooding output", None, 10, 12),
    "memory_hog": (r"never happened|killed by SIGKILL", None, 10, 12),
    "kill_everything": (r"Points \d+/100", None, 11, 12),
    "reboot": (r"the grading VM died twice", None, 0, 2),
    "poweroff": (r"the grading VM died twice", None, 0, 2),
    "mount_over_harness": (r"mounts: left /out \(tmpfs\), /sub \(tmpfs\), /usr \(tmpfs\).*fresh guest", None, 10, 12),
    "rm_rf_root": (r"root files: removed bin.*the next case ran in a fresh guest", None, 1, 12),
    "write_everywhere": (r"root files: left owned.*the next case ran in a fresh guest", None, 12, 12),
    "agent_port": (r"Points 100/100", r"note:", 12, 12),
    "daemon": (r"Points \d+/100", r"processes: left", 11, 12),
    "leaks": (r"mounts: left /mnt/leak.*/run/netns/leak.*named netns: left leak.*IPC objects: left shm key 0x1ea4"
              r".*hostname: left owned.*cgroups: left leak.*fresh guest", None, 11, 12),
    "snoop": (r"snoop: 0 found", r"FOUND", 11, 12),
    "compile_snoop": (r"pid_lab.c does not compile.*No such file or directory", r"reference solution", 0, 0),
    "wrong_names": (r"missing pid_lab.c", None, 0, 0),
    "empty_lab": (r"missing pid_lab.c", None, 0, 0),
}


OWNED = [specmod.ROOT / "owned", Path("/owned"), Path("/root/owned"), Path("/etc/owned"), Path("/usr/owned")]


def host_state() -> dict:
    """The host's mounts and links, the private part of the checkout, and the
    files the hostile submissions try to create on the host."""
    mounts = sorted(line.split(" - ")[0].split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    git = subprocess.run(["git", "status", "--porcelain", "solutions", "mutants", "harness/tests"],
                         cwd=specmod.ROOT, capture_output=True, text=True).stdout
    return {"mounts": mounts, "links": sorted(os.listdir("/sys/class/net")), "private files": git,
            "owned": [str(p) for p in OWNED if p.exists()]}


def orphan_qemus(tmp: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "qemu-system" in line and str(tmp) in line]


def test_every_hostile_submission_has_an_expectation():
    assert sorted(EXPECTED) == sorted(p.name.removesuffix(".patch") for p in HOSTILE.iterdir()
                                      if p.is_dir() or p.suffix == ".patch")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_submission(name, tmp_path, submission):
    must, must_not, fewest, most = EXPECTED[name]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    folder = submission(HOSTILE, name)
    before = host_state()
    proc = subprocess.run([sys.executable, "-m", "harness", "grade", str(folder), "--labs", "01",
                           "--report", str(tmp_path / "report")],
                          cwd=specmod.ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TMPDIR": str(scratch)})
    out = proc.stdout
    assert proc.returncode in (0, 1), f"expected a score, got exit {proc.returncode}:\n{out}{proc.stderr}"
    assert re.search(must, out, re.S), f"{must!r} not in the report:\n{out}"
    assert not (must_not and re.search(must_not, out)), f"{must_not!r} in the report:\n{out}"
    passed = len(re.findall(r"^  ok ", out, re.M))
    assert fewest <= passed <= most, f"{passed} cases passed, expected {fewest} to {most}:\n{out}"
    assert (tmp_path / "report" / "results.json").exists()
    assert host_state() == before
    assert not orphan_qemus(scratch)
    assert not list(scratch.iterdir()), f"left behind: {list(scratch.iterdir())}"
