"""Proving the graded cases: a passing grade must mean a correct solution.

For every lab:
- the reference and each accepted alternative score full marks;
- the skeleton a student starts from compiles and scores below the passing score;
- every hand-written mutant compiles and fails at least the cases its spec
  entry names (the kill matrix shows every case it fails, named or not).

Each variant is graded like a submission, in its own fresh guest; several
run at once (--jobs), each in its own process and VM.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import spec as specmod
from .scoring import LabScore, score_lab


@dataclass
class Variant:
    lab: specmod.Lab
    kind: str                 # reference, alternative, skeleton, mutant
    name: str
    path: Path | None = None  # laid over the reference (alternative, mutant)
    kills: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    variant: Variant
    score: LabScore | None
    ok: bool
    why: str
    seconds: float


def variants(lab: specmod.Lab) -> list[Variant]:
    found = [Variant(lab, "reference", "reference")]
    for alt in specmod.variant_files(specmod.SOLUTIONS_DIR / lab.name / "alternatives", ".c"):
        found.append(Variant(lab, "alternative", alt.stem, alt))
    found.append(Variant(lab, "skeleton", "skeleton"))
    for m in lab.mutants:
        found.append(Variant(lab, "mutant", m.name, specmod.MUTANTS_DIR / lab.name / m.file, m.kills))
    return found


def grade_variant(v: Variant, backend: str) -> LabScore | None:
    """Grades one variant in a child process (its own pytest run and guest)."""
    submission = specmod.LABS_DIR if v.kind == "skeleton" else specmod.SOLUTIONS_DIR
    with tempfile.TemporaryDirectory(prefix="labs-prove-") as tmp:
        out = Path(tmp) / "outcomes.json"
        cmd = [sys.executable, "-m", "harness", "outcomes", str(submission), "--labs", v.lab.name,
               "--backend", backend, "--out", str(out)]
        if v.path:
            cmd += ["--variant", f"{v.lab.name}={v.path}"]
        proc = subprocess.run(cmd, cwd=specmod.ROOT, capture_output=True, text=True)
        if not out.exists():
            sys.stderr.write(proc.stdout + proc.stderr)
            return None
        data = json.loads(out.read_text())
    return score_lab(v.lab, data["labs"].get(v.lab.name))


def judge(v: Variant, s: LabScore | None) -> tuple[bool, str]:
    if s is None:
        return False, "the grading itself failed (see above)"
    if s.infra:
        return False, "infrastructure failure while grading"
    failed = {c.id for c in s.cases if c.status == "failed"}
    if v.kind in ("reference", "alternative"):
        if not s.build_ok or s.norm:
            return False, f"does not build cleanly: {s.build_reason or '; '.join(s.norm)}"
        if failed:
            return False, f"fails {', '.join(sorted(failed))}"
        return True, f"{s.points}/{s.max}"
    if v.kind == "skeleton":
        if not s.build_ok:
            return False, f"the skeleton must compile: {s.build_reason}"
        return (not s.passed), f"{s.points}/{s.max}" + ("" if not s.passed else " - the skeleton passes!")
    if not s.build_ok:
        return False, f"the mutant does not compile: {s.build_reason}"
    missed = [k for k in v.kills if k not in failed]
    if missed:
        return False, f"not caught by {', '.join(missed)}"
    return True, f"caught by {', '.join(v.kills)}"


def prove(labs: list[specmod.Lab], backend: str = "vm", jobs: int = 2, log=print) -> list[Verdict]:
    todo = [v for lab in labs for v in variants(lab)]
    verdicts: list[Verdict] = []

    def one(v: Variant) -> Verdict:
        start = time.monotonic()
        s = grade_variant(v, backend)
        ok, why = judge(v, s)
        verdict = Verdict(v, s, ok, why, time.monotonic() - start)
        log(f"  {'ok ' if ok else 'BAD'} {v.lab.name:<16} {v.kind:<11} {v.name:<28} {why}  ({verdict.seconds:.1f}s)")
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        verdicts = list(pool.map(one, todo))
    return verdicts


def kill_matrix(lab: specmod.Lab, verdicts: list[Verdict]) -> str:
    """Mutant by case: X must fail and fails, x fails as well, ! must fail but passes."""
    rows = [v for v in verdicts if v.variant.lab is lab and v.variant.kind == "mutant"]
    if not rows:
        return ""
    cases = [c.id for c in lab.cases]
    width = max(len(v.variant.name) for v in rows)
    head = " " * (width + 2) + " ".join(f"{i + 1:>2}" for i in range(len(cases)))
    lines = [f"{lab.name} kill matrix (X: named in the spec and fails, x: fails too, "
             f"!: named but passes, .: passes)", head]
    for v in rows:
        status = {c.id: c.status for c in v.score.cases} if v.score else {}
        cells = []
        for cid in cases:
            failed = status.get(cid) == "failed"
            named = cid in v.variant.kills
            cells.append("X" if named and failed else "!" if named else "x" if failed else ".")
        lines.append(f"  {v.variant.name:<{width}} " + " ".join(f"{c:>2}" for c in cells))
    lines.append("  cases: " + ", ".join(f"{i + 1} {cid}" for i, cid in enumerate(cases)))
    return "\n".join(lines)


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))
