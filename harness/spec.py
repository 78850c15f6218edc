"""The graded contract of each lab, read from spec/NN-name/spec.toml and checked.

A spec names the files a student hands in, how they are built, the norm
(functions allowed and forbidden), the graded cases (points, visibility,
timeout, the handout section that explains each, trap flags) and, for every
hand-written mutant, the cases that must catch it.

check() refuses a spec before anything runs: points that do not sum to 100, a
case without its test or a test without its case, a mutant file not declared
or declared but missing, a mutant that names an unknown case, a handout
section that does not exist.  Each error names the file and the entry.
"""
from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import patches

ROOT = Path(__file__).resolve().parents[1]
SPEC_DIR = ROOT / "spec"
LABS_DIR = ROOT / "labs"
SOLUTIONS_DIR = ROOT / "solutions"
MUTANTS_DIR = ROOT / "mutants"
VISIBILITIES = ("public", "hidden")
CASE_FILES = {"public": "test_public.py", "hidden": "test_hidden.py"}


class SpecError(ValueError):
    """A spec that cannot be graded with; the message names file and entry."""


@dataclass
class Case:
    id: str
    title: str
    points: int
    visibility: str
    timeout: float
    section: str
    trap: bool = False
    trap_why: str = ""
    requires: list[str] = field(default_factory=list)


@dataclass
class Mutant:
    file: str               # a patch against the reference, in mutants/NN-name/
    kills: list[str]        # the cases that must fail

    @property
    def name(self) -> str:
        return Path(self.file).stem


@dataclass
class Norm:
    forbidden: list[str]
    allowed: list[str]      # empty: anything not forbidden is allowed


@dataclass
class Lab:
    name: str               # "01-pid"
    title: str
    passing: int
    student_files: list[str]
    binaries: dict[str, list[str]]
    ldlibs: list[str]
    norm: Norm
    cases: list[Case]
    mutants: list[Mutant]
    equivalent: dict[str, str]   # generated mutant id -> why it is equivalent
    spec_path: Path
    bundle: bool = False         # a student bundle's copy: public cases only

    @property
    def number(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def lab_dir(self) -> Path:
        return LABS_DIR / self.name

    @property
    def handout(self) -> Path:
        return self.lab_dir / "README.md"

    @property
    def provided_files(self) -> list[str]:
        """Sources and headers the lab gives the student (drivers, the header)."""
        names = {src for srcs in self.binaries.values() for src in srcs} - set(self.student_files)
        names |= {p.name for p in self.lab_dir.glob("*.h")}
        return sorted(names)

    @property
    def total(self) -> int:
        return sum(c.points for c in self.cases)

    def case(self, case_id: str) -> Case:
        for c in self.cases:
            if c.id == case_id:
                return c
        raise KeyError(case_id)

    def test_file(self, visibility: str) -> Path:
        return self.spec_path.parent / CASE_FILES[visibility]


def rel(path: Path) -> str:
    """A path as the project names it: relative to the checkout when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _need(table: dict, key: str, kind, where: str):
    if key not in table:
        raise SpecError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SpecError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def _common() -> dict:
    path = SPEC_DIR / "common.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def load(name: str) -> Lab:
    """Reads spec/NAME/spec.toml (NAME as '01-pid' or '01')."""
    return load_file(resolve(name) / "spec.toml")


def load_file(path: Path) -> Lab:
    """Reads a spec.toml; the lab is named after its folder."""
    where = rel(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: {exc}") from None
    common = _common()
    build = _need(data, "build", dict, where)
    binaries = _need(build, "binaries", dict, f"{where} [build]")
    student = _need(build, "student", list, f"{where} [build]")
    norm_table = data.get("norm", {})
    allowed = list(norm_table.get("allowed", []))
    if allowed:
        allowed += common.get("norm", {}).get("allowed", [])
    norm = Norm(forbidden=list(norm_table.get("forbidden", []))
                + common.get("norm", {}).get("forbidden", []), allowed=allowed)
    cases = []
    for i, raw in enumerate(data.get("case", [])):
        w = f"{where} case #{i + 1} ({raw.get('id', '?')})"
        case = Case(id=_need(raw, "id", str, w), title=_need(raw, "title", str, w),
                    points=_need(raw, "points", int, w),
                    visibility=_need(raw, "visibility", str, w),
                    timeout=float(raw.get("timeout", common.get("timeout", 10))),
                    section=_need(raw, "section", str, w), trap=bool(raw.get("trap", False)),
                    trap_why=raw.get("trap_why", ""), requires=list(raw.get("requires", [])))
        cases.append(case)
    mutants = []
    for i, raw in enumerate(data.get("mutant", [])):
        w = f"{where} mutant #{i + 1} ({raw.get('file', '?')})"
        mutants.append(Mutant(file=_need(raw, "file", str, w), kills=_need(raw, "kills", list, w)))
    return Lab(name=path.parent.name, title=_need(data, "title", str, where),
               passing=int(data.get("passing", common.get("passing", 70))),
               student_files=student, binaries=binaries, ldlibs=list(build.get("ldlibs", [])),
               norm=norm, cases=cases, mutants=mutants,
               equivalent=dict(data.get("equivalent", {})), spec_path=path,
               bundle=bool(data.get("bundle", False)))


def resolve(name: str) -> Path:
    """spec/01-pid from '01-pid', '01' or '1'."""
    exact = SPEC_DIR / name
    if exact.is_dir():
        return exact
    number = name.zfill(2) if name.isdigit() else name
    found = sorted(p for p in SPEC_DIR.glob(f"{number}-*") if p.is_dir())
    if len(found) != 1:
        known = ", ".join(p.name for p in all_lab_dirs())
        raise SpecError(f"no lab named {name!r} (labs: {known})")
    return found[0]


def all_lab_dirs() -> list[Path]:
    return sorted(p for p in SPEC_DIR.glob("[0-9][0-9]-*") if (p / "spec.toml").exists())


def all_labs() -> list[Lab]:
    return [load(p.name) for p in all_lab_dirs()]


def select(names: str | None) -> list[Lab]:
    """Labs from a comma list ('00,01'); all labs when names is empty."""
    if not names:
        return all_labs()
    return [load(n.strip()) for n in names.split(",") if n.strip()]


# ------------------------------------------------------------------ checks
def handout_sections(handout: Path) -> list[str]:
    """Markdown headings of the handout, without the leading #s."""
    return [m.group(1).strip() for m in re.finditer(r"^#{2,4}\s+(.+)$", handout.read_text(), re.M)]


def test_functions(path: Path) -> list[str]:
    """Names of the test_* functions a case file defines, without 'test_'."""
    if not path.exists():
        return []
    tree = ast.parse(path.read_text(), str(path))
    return [n.name[5:] for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def mutant_header_cases(path: Path) -> list[str]:
    """The case ids a mutant's opening comment says must catch it ('Caught by: a, b')."""
    match = re.search(r"Caught by:\s*(.+)", patches.comment(path))
    return [c.strip() for c in match.group(1).split(",")] if match else []


def variant_files(directory: Path, suffix: str) -> list[Path]:
    """Alternatives (.c files or folders) or mutants (.patch files) in a folder."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if (p.is_file() and p.suffix == suffix) or (suffix == ".c" and p.is_dir()
                                                               and not p.name.startswith(".")))


def check(lab: Lab, with_mutants: bool = True) -> list[str]:
    """Every problem found in a lab's spec and files, as readable lines."""
    where = rel(lab.spec_path)
    errors: list[str] = []
    ids = [c.id for c in lab.cases]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"{where}: case '{dup}' is listed more than once")
    if lab.total != 100 and not lab.bundle:
        errors.append(f"{where}: case points sum to {lab.total}, not 100")
    if not 0 < lab.passing <= 100:
        errors.append(f"{where}: passing score {lab.passing} is not between 1 and 100")
    sections = handout_sections(lab.handout) if lab.handout.exists() else []
    if not lab.handout.exists():
        errors.append(f"{where}: handout {rel(lab.handout)} is missing")
    for c in lab.cases:
        w = f"{where}: case '{c.id}'"
        if c.points <= 0:
            errors.append(f"{w}: points must be positive")
        if c.visibility not in VISIBILITIES:
            errors.append(f"{w}: visibility must be public or hidden, not {c.visibility!r}")
        if c.trap and not c.trap_why:
            errors.append(f"{w}: a trap needs trap_why (what the trap is)")
        if sections and c.section not in sections:
            errors.append(f"{w}: handout has no section '{c.section}'")
        if c.timeout <= 0:
            errors.append(f"{w}: timeout must be positive")
    for visibility in VISIBILITIES[:1] if lab.bundle else VISIBILITIES:
        path = lab.test_file(visibility)
        declared = {c.id for c in lab.cases if c.visibility == visibility}
        defined = test_functions(path)
        for missing in sorted(declared - set(defined)):
            errors.append(f"{where}: {visibility} case '{missing}' has no test_{missing} in {path.name}")
        for extra in sorted(set(defined) - declared):
            errors.append(f"{rel(path)}: test_{extra} is not a {visibility} case of the spec")
    for binary, sources in lab.binaries.items():
        for src in sources:
            if src not in lab.student_files and not (lab.lab_dir / src).exists():
                errors.append(f"{where}: binary '{binary}' needs {src}, not in labs/{lab.name}")
    for student in lab.student_files:
        if not (lab.lab_dir / student).exists():
            errors.append(f"{where}: the skeleton labs/{lab.name}/{student} is missing")
        if not (SOLUTIONS_DIR / lab.name / student).exists() and not lab.bundle:
            errors.append(f"{where}: the reference solutions/{lab.name}/{student} is missing")
    if with_mutants and not lab.bundle:
        errors += _check_mutants(lab, where, set(ids))
    return errors


def _check_mutants(lab: Lab, where: str, ids: set[str]) -> list[str]:
    errors = []
    folder = MUTANTS_DIR / lab.name
    declared = {m.file for m in lab.mutants}
    on_disk = {p.name for p in variant_files(folder, ".patch")}
    for name in sorted(on_disk - declared):
        errors.append(f"mutants/{lab.name}/{name}: not declared in {where}")
    for m in lab.mutants:
        w = f"{where}: mutant '{m.file}'"
        if m.file not in on_disk:
            errors.append(f"{w}: file mutants/{lab.name}/{m.file} is missing")
            continue
        if not m.kills:
            errors.append(f"{w}: names no case that must catch it")
        for case_id in m.kills:
            if case_id not in ids:
                errors.append(f"{w}: names unknown case '{case_id}'")
        header = mutant_header_cases(folder / m.file)
        if sorted(header) != sorted(m.kills):
            errors.append(f"{w}: its comment says 'Caught by: {', '.join(header)}' "
                          f"but the spec says {', '.join(m.kills)}")
        try:
            for name, hunks in patches.parse((folder / m.file).read_text()).items():
                if name not in lab.student_files:
                    errors.append(f"{w}: patches {name}, which is not a student file")
                else:
                    patches.apply((SOLUTIONS_DIR / lab.name / name).read_text(), hunks, name)
        except (patches.PatchError, OSError) as exc:
            errors.append(f"{w}: does not apply to the reference: {exc}")
    if len(lab.mutants) < 5:
        errors.append(f"{where}: {len(lab.mutants)} mutants declared; every lab needs at least 5")
    return errors
