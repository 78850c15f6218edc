"""What students get: `moulinette bundle DEST` (or `make student-bundle`).

The labs (handouts, headers, skeletons, drivers), the public cases and their
fixtures, the spec of each lab reduced to its public cases, the harness
without its own tests, the documentation, and a README and Makefile for
students.  No reference solution, alternative, mutant, hidden case, mutation
baseline or equivalent-mutant list: private() lists what must never be in it,
and the test suite checks a built bundle against it.
"""
from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

from . import spec as specmod

ROOT = specmod.ROOT
SHIPPED = ["labs", "harness", "bin", "docs/Doxyfile", "pytest.ini",
           "spec/common.toml", "spec/conftest.py"]


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def public_spec(path: Path) -> str:
    """A lab's spec.toml with only what students may see."""
    data = tomllib.loads(path.read_text())
    lines = ["# The public part of this lab's spec (the hidden cases are graded by your",
             "# instructor).", "bundle = true"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, (dict, list))]
    for table in ("build", "norm"):
        if table in data:
            lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in data[table].items()]
    for case in data.get("case", []):
        if case["visibility"] == "public":
            lines += ["", "[[case]]"] + [f"{k} = {_toml_value(v)}" for k, v in case.items()]
    return "\n".join(lines) + "\n"


def shipped_files() -> list[Path]:
    """The files under SHIPPED, as git tracks them (so no build leftovers),
    or as they are on disk outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", *SHIPPED], cwd=ROOT, capture_output=True,
                                check=True).stdout.decode().split("\0")
        files = [ROOT / f for f in listed if f]
    except (OSError, subprocess.CalledProcessError):
        files = [p for name in SHIPPED for p in ([ROOT / name] if (ROOT / name).is_file()
                                                  else (ROOT / name).rglob("*")) if p.is_file()]
    return [f for f in files if f.exists() and "tests" not in f.relative_to(ROOT).parts[:2]
            and "__pycache__" not in f.parts]


def build(dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for src in shipped_files():
        target = dest / src.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for lab_dir in specmod.all_lab_dirs():
        target = dest / "spec" / lab_dir.name
        target.mkdir(parents=True)
        for name in ("conftest.py", "test_public.py"):
            if (lab_dir / name).exists():
                shutil.copy2(lab_dir / name, target / name)
        (target / "spec.toml").write_text(public_spec(lab_dir / "spec.toml"))
    shutil.copy2(ROOT / "docs" / "student" / "README.md", dest / "README.md")
    shutil.copy2(ROOT / "docs" / "student" / "Makefile", dest / "Makefile")
    return dest


def private() -> list[str]:
    """Names that must not appear in a bundle's file tree."""
    return ["solutions", "mutants", "test_hidden.py", "mutation-baseline.json", "harness/tests"]
