"""The student bundle: nothing private inside, and it grades itself."""
import os
import re
import subprocess
import sys

import pytest

from harness import bundle
from harness import spec as specmod


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return bundle.build(tmp_path_factory.mktemp("bundle") / "student-bundle")


@pytest.fixture
def env():
    """The bundle's moulinette, sharing this checkout's VM assets (no rebuild)."""
    from harness.vm.assets import cache_root
    # As a student's shell has it: not inside another make (CI runs this
    # suite from `make test`, whose MAKELEVEL would add "Entering directory").
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    clean = {k: v for k, v in os.environ.items() if k not in outer_make}
    return {**clean, "LABS_CACHE": str(cache_root())}


def every_file(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_no_private_path(built):
    for p in every_file(built):
        rel = str(p.relative_to(built))
        for name in bundle.private():
            assert name not in rel, rel


def test_no_hidden_case_and_no_mutant_in_any_file(built):
    hidden = {c.id for lab in specmod.all_labs() for c in lab.cases if c.visibility == "hidden"}
    mutants = {m.name for lab in specmod.all_labs() for m in lab.mutants}
    words = hidden | mutants
    for p in every_file(built):
        text = p.read_text(errors="replace")
        found = {w for w in words if re.search(rf"\b{re.escape(w)}\b", text)}
        assert not found, f"{p.relative_to(built)} names {sorted(found)}"
        if p.name == "spec.toml":
            assert "[equivalent]" not in text and "[[mutant]]" not in text, p


GENERATED = {"README.md", "Makefile"}


def test_every_file_is_a_public_file_of_the_project(built):
    """A copy of a tracked, public file, or generated for the bundle (its
    README, its Makefile, each lab's public spec)."""
    for p in every_file(built):
        rel = p.relative_to(built)
        if str(rel) in GENERATED or (rel.parts[0] == "spec" and rel.name == "spec.toml"):
            continue
        original = specmod.ROOT / rel
        assert original.is_file() and original.read_bytes() == p.read_bytes(), rel
        assert rel.parts[0] in ("labs", "harness", "bin", "docs", "spec", "pytest.ini"), rel


def test_the_bundle_grades_a_correct_lab_in_full(built, env):
    proc = subprocess.run([sys.executable, "-m", "harness", "grade", str(specmod.SOLUTIONS_DIR),
                           "--labs", "00", "--visibility", "public"],
                          cwd=built, capture_output=True, text=True, env=env)
    public = sum(c.points for c in specmod.load("00").cases if c.visibility == "public")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith(f"Points {public}/{public}"), proc.stdout


def test_make_check_grades_the_skeleton(built, env):
    proc = subprocess.run(["make", "check"], cwd=built / "labs" / "00-ns-inspect",
                          capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    last = proc.stdout.rstrip().splitlines()[-1]
    assert re.fullmatch(r"Points \d+/\d+", last), proc.stdout[-2000:]
    assert "lists_own_namespaces" in proc.stdout
