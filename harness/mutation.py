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
import os
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
    digest: str = ""   # of its object code, once validated


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
            value, spell = _c_integer(t.text)
            for new in sorted({0, 1, value - 1, value + 1} - {value}):
                if new >= 0:
                    found.append(("const", t.start, t.end, spell(new)))
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


def _c_integer(text: str):
    """A C integer literal's value, and how to write another in its base."""
    digits = re.sub(r"[uUlL]+$", "", text)
    if digits[:2] in ("0x", "0X"):
        return int(digits, 16), lambda v: hex(v)
    if len(digits) > 1 and digits[0] == "0":
        return int(digits, 8), lambda v: "0" + format(v, "o") if v else "0"
    return int(digits), str


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
    ones that do not compile and the ones identical to the reference.  Each
    valid mutant's digest (of its object code) is set: mutants that compile
    to the same code are one mutant, graded once."""
    from concurrent.futures import ThreadPoolExecutor
    reference = {n: (SOLUTIONS_DIR / lab.name / n).read_text() for n in lab.student_files}

    def digest(files: dict[str, str]) -> tuple[bool, str]:
        with tempfile.TemporaryDirectory() as tmp:
            return _object(lab, files, Path(tmp))
    ok, ref_digest = digest(reference)
    if not ok:
        raise RuntimeError(f"the reference of {lab.name} does not compile")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda m: digest({**reference, m.file: m.text}), mutants))
    valid, broken, identical = [], 0, 0
    for m, (ok, d) in zip(mutants, results):
        if not ok:
            broken += 1
        elif d == ref_digest:
            identical += 1
        else:
            m.digest = d
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
    distinct: int = 0           # distinct object codes among the valid mutants
    sampled: bool = False       # only a fixed sample of them was graded

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


BATCH = 16   # mutants a child grades in one guest session: progress, and work shared evenly


def grade_batches(entries: list[dict], labs: list[Lab], timeouts: dict, backend: str,
                  jobs: int, log=print) -> dict[str, dict]:
    """Grades the entries in `jobs` guests at once, each stopping at a
    mutant's first failing case; returns name -> lab outcome."""
    import json
    import time
    from . import children
    count = max(jobs, -(-len(entries) // BATCH))
    chunks = [entries[i::count] for i in range(count) if entries[i::count]]
    start, graded = time.monotonic(), 0

    def done(_index: int, part: dict | None) -> None:
        nonlocal graded
        graded += len(part["batch"]) if part else 0
        elapsed = time.monotonic() - start
        left = elapsed / graded * (len(entries) - graded) if graded else 0
        log(f"  graded {graded}/{len(entries)} mutants in {elapsed:.0f} s, about {left / 60:.0f} min left")
    with tempfile.TemporaryDirectory(prefix="labs-mutate-") as tmp:
        (Path(tmp) / "timeouts.json").write_text(json.dumps(timeouts))
        runs = [[str(SOLUTIONS_DIR), "--labs", ",".join(l.name for l in labs), "--backend", backend,
                 "--batch", children.batch_file(Path(tmp), f"batch{i}", chunk),
                 "--timeouts", str(Path(tmp) / "timeouts.json"), "--stop-on-fail"]
                for i, chunk in enumerate(chunks)]
        results: dict[str, dict] = {}
        for part in children.outcomes(runs, jobs, done):
            results.update(part["batch"] if part else {})
    return results


def sample_of(mutants: list[Mutant], size: int) -> list[Mutant]:
    """A fixed sample: the `size` distinct mutants whose ids hash lowest.  The
    same source gives the same sample on every machine, spread over files,
    functions and operators rather than the first lines of the first file."""
    def rank(m: Mutant) -> str:
        return hashlib.sha256(m.id.encode()).hexdigest()
    first = {}
    for m in sorted(mutants, key=rank):
        first.setdefault(m.digest, m)
    return list(first.values())[:size]


def run(labs: list[Lab], backend: str = "vm", jobs: int = 2, only: dict[str, set[str]] | None = None,
        sample: int | None = None, log=print) -> list[LabResult]:
    """Generates, validates and grades every lab's mutants (only those named
    in `only`, per lab, when given; a fixed sample of `sample` distinct ones
    per lab, when given); returns each lab's result."""
    import time
    start = time.monotonic()
    prepared, entries = [], []
    with tempfile.TemporaryDirectory(prefix="labs-mutants-") as tmp:
        for lab in labs:
            generated = generate(lab)
            valid, broken, identical = validate(lab, generated)
            if only is not None:
                valid = [m for m in valid if m.id in only.get(lab.name, set())]
            distinct = len({m.digest for m in valid if m.id not in lab.equivalent})
            if sample is not None:
                kept = {m.digest for m in sample_of([m for m in valid if m.id not in lab.equivalent], sample)}
                valid = [m for m in valid if m.digest in kept and m.id not in lab.equivalent]
            graded = {}
            for m in valid:
                # One representative per object code; listed equivalents are
                # known survivors and are not graded.
                if m.id not in lab.equivalent and m.digest not in graded:
                    graded[m.digest] = m
                    path = Path(tmp) / lab.name / f"m{len(graded):04d}.patch"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(m.diff)
                    entries.append({"name": f"{lab.name}/{m.digest}", "lab": lab.name, "path": str(path)})
            log(f"{lab.name}: {len(generated)} generated, {len(generated) - broken - identical} valid "
                f"({broken} do not compile, {identical} compile to the reference's code); "
                f"{len(graded)} distinct to grade" + (f" (a fixed sample of {distinct})" if sample else ""))
            prepared.append((lab, valid, broken, identical, len(generated), distinct))
        log(f"timing the references, then grading {len(entries)} mutants in {jobs} VMs...")
        timeouts = reference_timeouts(labs, backend)
        outcomes = grade_batches(entries, labs, timeouts, backend, jobs, log)
    results = []
    for lab, valid, broken, identical, generated, distinct in prepared:
        killed, survivors, equivalent, unknown = [], [], [], []
        for m in valid:
            if m.id in lab.equivalent:
                equivalent.append(m.id)
                continue
            o = outcomes.get(f"{lab.name}/{m.digest}")
            statuses = [c["status"] for c in o["cases"].values()] if o else []
            if o and (not o["build"] or not o["build"]["ok"] or "failed" in statuses):
                killed.append(m.id)
            elif not o or "infra" in statuses:
                unknown.append(m.id)
            else:
                survivors.append(m)
        results.append(LabResult(lab, generated, broken, identical, valid, killed, survivors,
                                 equivalent, unknown, time.monotonic() - start, distinct, sample is not None))
    return results


def baseline_survivors(lab: Lab) -> set[str]:
    import json
    path = baseline_path(lab)
    return set(json.loads(path.read_text())["survivors"]) if path.exists() else set()


def compare_with_baseline(r: LabResult) -> list[str]:
    """Regressions against the committed baseline: a lower score, a new survivor."""
    import json
    path = baseline_path(r.lab)
    if not path.exists():
        return [f"{r.lab.name}: no baseline ({path.name}); run `moulinette mutate --update-baseline`"]
    base = json.loads(path.read_text())
    problems = []
    # A sample's score is not the lab's score (nor is a baseline drawn from a
    # sample); its survivors still must be known ones.
    if not r.sampled and not base.get("sample") and r.score + 1e-9 < base["score"]:
        problems.append(f"{r.lab.name}: mutation score {r.score:.1%} fell below the baseline {base['score']:.1%}")
    for m in r.survivors:
        if m.id not in base["survivors"]:
            problems.append(f"{r.lab.name}: new survivor {m.id}")
    return problems


def write_baseline(r: LabResult) -> None:
    import json
    sample = {"sample": len({m.digest for m in r.valid})} if r.sampled else {}
    baseline_path(r.lab).write_text(json.dumps({
        **sample, "score": round(r.score, 4), "valid": len(r.valid), "killed": len(r.killed),
        "equivalent": len(r.equivalent), "survivors": sorted(m.id for m in r.survivors),
    }, indent=1) + "\n")
