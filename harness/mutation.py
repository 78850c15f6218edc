"""Generated mutants: how strong is each lab's set of graded cases?

Operators, applied one at a time to the reference solutions' C source
(comments, strings and preprocessor lines are left alone):

  ror     relational and equality swaps:  <  <=  >  >=  ==  !=
  const   an integer constant becomes 0, 1, n-1 or n+1
  neg     the condition of an if or while is negated
  call    a statement that is only a call is deleted
  ret     a returned value becomes 0, or -1
  swap    the two arguments of a two-argument call are swapped

A mutant that does not compile with the grader's flags, or whose object code
is identical to the reference's, is invalid and not counted.  Every valid
mutant is graded (several per VM, stopping at the first failing case, each
case given the larger of 10 times the reference's time and one second); it
is killed when any case fails, crashes or times out.  The mutation score is
killed over valid, minus the mutants a lab's spec lists as equivalent.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import build as buildmod
from .spec import LABS_DIR, SOLUTIONS_DIR, Lab

TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.(){}\[\]])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.S | re.X)

ROR = {"<": ["<="], "<=": ["<"], ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="]}
KEYWORDS = {"if", "while", "for", "return", "sizeof", "switch", "do", "else", "case"}


@dataclass
class Tok:
    kind: str
    text: str
    start: int
    end: int


@dataclass
class Mutant:
    id: str            # stable: file:line:col operator 'old' -> 'new'
    file: str
    text: str          # the whole mutated file
    diff: str


def tokens(source: str) -> list[Tok]:
    """C tokens outside comments, strings and preprocessor lines."""
    out = []
    preproc = _preprocessor_spans(source)
    for m in TOKEN.finditer(source):
        kind = m.lastgroup
        if kind in ("comment", "space") or any(a <= m.start() < b for a, b in preproc):
            continue
        out.append(Tok(kind, m.group(), m.start(), m.end()))
    return out


def _preprocessor_spans(source: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", source, re.M):
        spans.append((m.start(), m.end()))
    return spans


def _closing(toks: list[Tok], i: int) -> int:
    """Index of the token closing the bracket at toks[i]."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opening, depth = toks[i].text, 0
    for j in range(i, len(toks)):
        if toks[j].text == opening:
            depth += 1
        elif toks[j].text == pairs[opening]:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _top_level_commas(toks: list[Tok], open_i: int, close_i: int) -> list[int]:
    commas, depth = [], 0
    for j in range(open_i + 1, close_i):
        t = toks[j].text
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        elif t == "," and depth == 0:
            commas.append(j)
    return commas


def _in_declaration_scope(toks: list[Tok], i: int) -> bool:
    """True outside any function body (file-scope declarations, sizes)."""
    depth = 0
    for t in toks[:i]:
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
    return depth == 0


def edits(source: str) -> list[tuple[str, int, int, str]]:
    """Every (operator, start, end, replacement) the operators make of source."""
    toks = tokens(source)
    found = []
    for i, t in enumerate(toks):
        if _in_declaration_scope(toks, i):
            continue
        if t.kind == "op" and t.text in ROR:
            for new in ROR[t.text]:
                found.append(("ror", t.start, t.end, new))
        elif t.kind == "number" and not (i > 0 and toks[i - 1].text == "["):
            value = int(re.sub(r"[uUlL]+$", "", t.text), 0)
            for new in sorted({0, 1, value - 1, value + 1} - {value}):
                if new >= 0:
                    found.append(("const", t.start, t.end, str(new)))
        elif t.kind == "ident" and t.text in ("if", "while") and i + 1 < len(toks) and toks[i + 1].text == "(":
            close = _closing(toks, i + 1)
            if close > 0:
                a, b = toks[i + 1].end, toks[close].start
                found.append(("neg", a, b, f"!({source[a:b]})"))
        elif t.kind == "ident" and t.text == "return" and i + 1 < len(toks) and toks[i + 1].text != ";":
            end = next(j for j in range(i + 1, len(toks)) if toks[j].text == ";")
            expr = source[toks[i + 1].start:toks[end].start].strip()
            for new in ("0", "-1"):
                if expr != new:
                    found.append(("ret", toks[i + 1].start, toks[end].start, new))
        elif (t.kind == "ident" and t.text not in KEYWORDS and i + 1 < len(toks) and toks[i + 1].text == "("
              and i > 0 and toks[i - 1].text in (";", "{", "}", ")", "else")):
            close = _closing(toks, i + 1)
            if close > 0 and close + 1 < len(toks) and toks[close + 1].text == ";":
                if toks[i - 1].text != ")" or _is_control_close(toks, i - 1):
                    found.append(("call", t.start, toks[close + 1].end, ";"))
        if t.kind == "ident" and t.text not in KEYWORDS and i + 1 < len(toks) and toks[i + 1].text == "(":
            close = _closing(toks, i + 1)
            commas = _top_level_commas(toks, i + 1, close) if close > 0 else []
            if len(commas) == 1:
                a = source[toks[i + 1].end:toks[commas[0]].start].strip()
                b = source[toks[commas[0]].end:toks[close].start].strip()
                if a != b:
                    found.append(("swap", toks[i + 1].end, toks[close].start, f"{b}, {a}"))
    return found


def _is_control_close(toks: list[Tok], i: int) -> bool:
    """Whether the ')' at toks[i] closes an if/while/for condition."""
    depth = 0
    for j in range(i, -1, -1):
        if toks[j].text == ")":
            depth += 1
        elif toks[j].text == "(":
            depth -= 1
            if depth == 0:
                return j > 0 and toks[j - 1].text in ("if", "while", "for")
    return False


def generate(lab: Lab) -> list[Mutant]:
    """Every generated mutant of the lab's reference, valid or not."""
    mutants = []
    for name in lab.student_files:
        path = SOLUTIONS_DIR / lab.name / name
        source = path.read_text()
        seen = set()
        for op, start, end, new in edits(source):
            text = source[:start] + new + source[end:]
            if text in seen:
                continue
            seen.add(text)
            line = source.count("\n", 0, start) + 1
            col = start - (source.rfind("\n", 0, start) + 1) + 1
            old = " ".join(source[start:end].split())
            short = lambda s: s if len(s) <= 24 else s[:21] + "..."  # noqa: E731
            mid = f"{name}:{line}:{col} {op} '{short(old)}' -> '{short(' '.join(new.split()))}'"
            diff = "".join(difflib.unified_diff(source.splitlines(True), text.splitlines(True),
                                                f"a/{name}", f"b/{name}", n=1))
            mutants.append(Mutant(mid, name, text, diff))
    return mutants


def _object(lab: Lab, files: dict[str, str], folder: Path) -> tuple[bool, str]:
    """Compiles the student files (given as text) with the grader's flags, no
    debug information; returns (compiled, digest of the objects)."""
    for header in LABS_DIR.joinpath(lab.name).glob("*.h"):
        (folder / header.name).write_bytes(header.read_bytes())
    digest = hashlib.sha256()
    for name, text in sorted(files.items()):
        (folder / name).write_text(text)
        flags = [f for f in buildmod.CFLAGS if f != "-g"] + ["-g0"]
        r = subprocess.run(["gcc", *flags, "-c", name, "-o", f"{name}.o"], cwd=folder,
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            return False, ""
        digest.update((folder / f"{name}.o").read_bytes())
    return True, digest.hexdigest()


def validate(lab: Lab, mutants: list[Mutant]) -> tuple[list[Mutant], int, int]:
    """The mutants that compile and change the object code; also counts the
    ones that do not compile and the ones identical to the reference."""
    reference = {n: (SOLUTIONS_DIR / lab.name / n).read_text() for n in lab.student_files}
    with tempfile.TemporaryDirectory() as tmp:
        ok, ref_digest = _object(lab, reference, Path(tmp))
        if not ok:
            raise RuntimeError(f"the reference of {lab.name} does not compile")
    valid, broken, identical = [], 0, 0
    for m in mutants:
        with tempfile.TemporaryDirectory() as tmp:
            ok, digest = _object(lab, {**reference, m.file: m.text}, Path(tmp))
        if not ok:
            broken += 1
        elif digest == ref_digest:
            identical += 1
        else:
            valid.append(m)
    return valid, broken, identical


# ----------------------------------------------------------------- running
@dataclass
class LabResult:
    lab: Lab
    generated: int
    broken: int
    identical: int
    valid: list[Mutant]
    killed: list[str]
    survivors: list[Mutant]
    equivalent: list[str]
    unknown: list[str]          # graded with an infrastructure failure
    seconds: float

    @property
    def score(self) -> float:
        counted = len(self.valid) - len(self.equivalent)
        return len(self.killed) / counted if counted else 1.0


def baseline_path(lab: Lab) -> Path:
    return lab.spec_path.parent / "mutation-baseline.json"


def reference_timeouts(labs: list[Lab], backend: str) -> dict:
    """Per case: the larger of 10 times the reference's time and one second."""
    from .cli import run_cases
    data = run_cases(SOLUTIONS_DIR, labs, backend=backend)
    timeouts = {}
    for lab in labs:
        cases = data["labs"][lab.name]["cases"]
        bad = [c for c, o in cases.items() if o["status"] not in ("passed", "skipped")]
        if bad:
            raise RuntimeError(f"the reference of {lab.name} fails {', '.join(bad)}: fix it first")
        timeouts[lab.name] = {c: max(10 * o["seconds"], 1.0) for c, o in cases.items()}
    return timeouts


def grade_batches(entries: list[dict], labs: list[Lab], timeouts: dict, backend: str,
                  jobs: int) -> dict[str, dict]:
    """Grades the entries in `jobs` machines at once; returns name -> lab outcome."""
    import json
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from .spec import ROOT
    chunks = [entries[i::jobs] for i in range(jobs) if entries[i::jobs]]
    with tempfile.TemporaryDirectory(prefix="labs-mutate-") as tmp:
        (Path(tmp) / "timeouts.json").write_text(json.dumps(timeouts))

        def run(index: int) -> dict:
            batch, out = Path(tmp) / f"batch{index}.json", Path(tmp) / f"out{index}.json"
            batch.write_text(json.dumps(chunks[index]))
            subprocess.run([sys.executable, "-m", "harness", "outcomes", str(SOLUTIONS_DIR),
                            "--labs", ",".join(l.name for l in labs), "--backend", backend,
                            "--batch", str(batch), "--timeouts", str(Path(tmp) / "timeouts.json"),
                            "--stop-on-fail", "--out", str(out)], cwd=ROOT)
            return json.loads(out.read_text())["batch"] if out.exists() else {}
        results: dict[str, dict] = {}
        with ThreadPoolExecutor(max_workers=len(chunks) or 1) as pool:
            for part in pool.map(run, range(len(chunks))):
                results.update(part)
    return results


def run(labs: list[Lab], backend: str = "vm", jobs: int = 2, log=print) -> list[LabResult]:
    import time
    start = time.monotonic()
    prepared, entries = [], []
    with tempfile.TemporaryDirectory(prefix="labs-mutants-") as tmp:
        for lab in labs:
            valid, broken, identical = validate(lab, generate(lab))
            log(f"{lab.name}: {len(valid) + broken + identical} generated, {len(valid)} valid "
                f"({broken} do not compile, {identical} compile to the reference's code)")
            for n, m in enumerate(valid):
                path = Path(tmp) / lab.name / f"m{n:04d}.patch"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(m.diff)
                entries.append({"name": f"{lab.name}/{m.id}", "lab": lab.name, "path": str(path)})
            prepared.append((lab, valid, broken, identical))
        log(f"timing the references, then grading {len(entries)} mutants in {jobs} VMs...")
        timeouts = reference_timeouts(labs, backend)
        outcomes = grade_batches(entries, labs, timeouts, backend, jobs)
    results = []
    for lab, valid, broken, identical in prepared:
        killed, survivors, equivalent, unknown = [], [], [], []
        for m in valid:
            o = outcomes.get(f"{lab.name}/{m.id}")
            statuses = [c["status"] for c in o["cases"].values()] if o else []
            if o and (not o["build"] or not o["build"]["ok"] or "failed" in statuses):
                killed.append(m.id)
            elif not o or "infra" in statuses:
                unknown.append(m.id)
            elif m.id in lab.equivalent:
                equivalent.append(m.id)
            else:
                survivors.append(m)
        results.append(LabResult(lab, len(valid) + broken + identical, broken, identical, valid,
                                 killed, survivors, equivalent, unknown, time.monotonic() - start))
    return results


def compare_with_baseline(r: LabResult) -> list[str]:
    """Regressions against the committed baseline: a lower score, a new survivor."""
    import json
    path = baseline_path(r.lab)
    if not path.exists():
        return [f"{r.lab.name}: no baseline ({path.name}); run `moulinette mutate --update-baseline`"]
    base = json.loads(path.read_text())
    problems = []
    if r.score + 1e-9 < base["score"]:
        problems.append(f"{r.lab.name}: mutation score {r.score:.1%} fell below the baseline {base['score']:.1%}")
    for m in r.survivors:
        if m.id not in base["survivors"]:
            problems.append(f"{r.lab.name}: new survivor {m.id}")
    return problems


def write_baseline(r: LabResult) -> None:
    import json
    baseline_path(r.lab).write_text(json.dumps({
        "score": round(r.score, 4), "valid": len(r.valid), "killed": len(r.killed),
        "equivalent": len(r.equivalent), "survivors": sorted(m.id for m in r.survivors),
    }, indent=1) + "\n")
