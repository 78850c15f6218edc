"""Grading broken submissions end to end, through the moulinette's command line.

Each is scored with a clear reason - the compiler's output, the norm, the
signal, the timeout - and the reports are written.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import spec as specmod
from harness.vm.assets import ensure_assets

SUBMISSIONS = Path(__file__).with_name("submissions")


def grade(submission: Path, labs: str, tmp_path: Path) -> tuple[int, str, dict]:
    report = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "harness", "grade", str(submission), "--labs", labs,
                           "--report", str(report)], cwd=specmod.ROOT, capture_output=True, text=True)
    results = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else {}
    return proc.returncode, proc.stdout, results


def test_the_reference_gets_full_marks_and_every_report(tmp_path):
    code, out, results = grade(specmod.SOLUTIONS_DIR, "00", tmp_path)
    assert code == 0 and out.rstrip().endswith("Points 100/100")
    assert results["score"] == 100 and len(results["tests"]) == len(specmod.load("00").cases)
    assert (tmp_path / "report" / "junit.xml").read_text().startswith("<?xml")


def test_a_compile_error_scores_zero_with_the_compiler_output(tmp_path, submission):
    code, out, results = grade(submission(SUBMISSIONS, "compile_error"), "00", tmp_path)
    assert code == 1 and out.rstrip().endswith("Points 0/100")
    assert "ns_inspect.c does not compile" in out and "error:" in out
    assert "error:" in results["tests"][0]["output"]


def test_a_missing_file_is_named(tmp_path, submission):
    code, out, _ = grade(submission(SUBMISSIONS, "empty"), "00", tmp_path)
    assert code == 1 and "missing ns_inspect.c" in out


def test_a_forbidden_function_scores_zero(tmp_path, submission):
    code, out, results = grade(submission(SUBMISSIONS, "norm_system"), "00", tmp_path)
    assert code == 1 and "calls system(), which this lab forbids" in out
    assert results["score"] == 0


def test_a_crash_names_the_signal(tmp_path, submission):
    code, out, _ = grade(submission(SUBMISSIONS, "crash"), "01", tmp_path)
    assert code == 1 and "killed by SIGSEGV" in out


@pytest.mark.slow
def test_a_hang_is_reported_as_a_timeout(tmp_path, submission):
    code, out, _ = grade(submission(SUBMISSIONS, "hang"), "01", tmp_path)
    assert code == 1 and "timed out after" in out


def test_a_guest_that_never_boots_is_an_infrastructure_failure(tmp_path):
    """No score at all, exit status 3, and the reason - never a 0 for the student."""
    fake = tmp_path / "qemu-that-hangs"
    fake.write_text("#!/bin/sh\nexec sleep 600\n")
    fake.chmod(0o755)
    empty_cache = tmp_path / "cache"  # the same assets, without a snapshot: a cold boot
    assets = ensure_assets()
    shutil.copytree(assets.directory, empty_cache / assets.directory.name,
                    ignore=shutil.ignore_patterns("snapshot.bin"))
    env = {**os.environ, "LABS_QEMU": str(fake), "LABS_BOOT_TIMEOUT": "2",
           "LABS_CACHE": str(empty_cache), "LABS_KVM": "0"}
    proc = subprocess.run([sys.executable, "-m", "harness", "grade", str(specmod.SOLUTIONS_DIR), "--labs", "00"],
                          cwd=specmod.ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "infrastructure failure" in proc.stdout + proc.stderr
    assert "the grading VM did not start" in proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("Points 0/0")  # no lab graded, none held against anyone
