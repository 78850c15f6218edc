"""Proving the graded cases: a passing grade must mean a correct solution.

For every lab:
- the reference and each accepted alternative score full marks;
- the skeleton a student starts from compiles and scores below the passing score;
- every hand-written mutant compiles and fails at least the cases its spec
  entry names (the kill matrix shows every case it fails, named or not).

A lab's variants are graded one after the other in one guest (a variant
that leaves the guest dirty makes the next one start in a fresh guest, as
between cases); several labs run at once (--jobs), each in its own process
and guest.
"""
from __future__ import annotations

import os
import tempfile
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


def variants(lab: specmod.Lab) -> list[Variant]:
    found = [Variant(lab, "reference", "reference")]
    for alt in specmod.variant_files(specmod.SOLUTIONS_DIR / lab.name / "alternatives", ".c"):
        found.append(Variant(lab, "alternative", alt.stem, alt))
    found.append(Variant(lab, "skeleton", "skeleton"))
    for m in lab.mutants:
        found.append(Variant(lab, "mutant", m.name, specmod.MUTANTS_DIR / lab.name / m.file, m.kills))
    return found


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


def entry(v: Variant) -> dict:
    """The variant as a batch entry: the files laid over the reference."""
    if v.kind == "reference":
        path = specmod.SOLUTIONS_DIR / v.lab.name
    elif v.kind == "skeleton":
        path = specmod.LABS_DIR / v.lab.name
    else:
        path = v.path
    return {"name": f"{v.kind}/{v.name}", "lab": v.lab.name, "path": str(path)}


def prove(labs: list[specmod.Lab], backend: str = "vm", jobs: int = 2, log=print) -> list[Verdict]:
    """Every lab's variants graded in one guest per lab, `jobs` labs at once."""
    from . import children
    per_lab = [variants(lab) for lab in labs]
    verdicts: dict[int, list[Verdict]] = {}

    def done(index: int, data: dict | None) -> None:
        found = []
        for v in per_lab[index]:
            raw = (data or {}).get("batch", {}).get(entry(v)["name"])
            s = score_lab(v.lab, raw) if raw else None
            ok, why = judge(v, s)
            found.append(Verdict(v, s, ok, why))
            log(f"  {'ok ' if ok else 'BAD'} {v.lab.name:<16} {v.kind:<11} {v.name:<28} {why}")
        verdicts[index] = found

    with tempfile.TemporaryDirectory(prefix="labs-prove-") as tmp:
        runs = [[str(specmod.SOLUTIONS_DIR), "--labs", lab.name, "--backend", backend,
                 "--batch", children.batch_file(Path(tmp), lab.name, [entry(v) for v in per_lab[i]])]
                for i, lab in enumerate(labs)]
        children.outcomes(runs, jobs, done)
    return [v for i in range(len(labs)) for v in verdicts[i]]


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
