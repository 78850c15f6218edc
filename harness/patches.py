"""Mutants are unified diffs against the reference solution.

A diff shows exactly the mistake and nothing else, and it cannot drift: if
the reference changes under it, the diff no longer applies and the spec
check says so.  Text before the first '--- ' line is the mutant's comment
(what is wrong, why a student writes it, which case catches it).

The applier is strict: every context and removed line must match exactly.
"""
from __future__ import annotations

import re
from pathlib import Path

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    pass


def parse(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    """{file name: [(old start line, hunk lines with their ' ', '-', '+' marks)]}."""
    files: dict[str, list] = {}
    current = None
    hunk = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:].split("\t")[0].strip()
            current = files.setdefault(name[2:] if name.startswith("b/") else name, [])
            hunk = None
        elif line.startswith("--- ") and hunk is None:
            continue
        elif (m := HUNK.match(line)) and current is not None:
            hunk = (int(m.group(1)), [])
            current.append(hunk)
        elif hunk is not None and line[:1] in (" ", "-", "+"):
            hunk[1].append(line)
        elif hunk is not None and line == "":
            hunk[1].append(" ")  # an empty context line whose space was trimmed
        elif hunk is not None and line.startswith("\\"):
            continue  # "\ No newline at end of file"
    if not files:
        raise PatchError("no '+++ file' header: not a unified diff")
    return files


def apply(original: str, hunks: list[tuple[int, list[str]]], name: str = "") -> str:
    lines = original.split("\n")
    out: list[str] = []
    pos = 0
    for start, body in hunks:
        at = max(start - 1, 0)
        old = [h[1:] for h in body if h[0] in " -"]
        if lines[at:at + len(old)] != old:
            raise PatchError(f"{name}: hunk at line {start} does not match the reference")
        out += lines[pos:at]
        out += [h[1:] for h in body if h[0] in " +"]
        pos = at + len(old)
    out += lines[pos:]
    return "\n".join(out)


def materialise(patch: Path, reference_dir: Path, dest: Path) -> dict[str, Path]:
    """Writes the patched files into dest; returns {file name: path}."""
    dest.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, hunks in parse(patch.read_text()).items():
        source = reference_dir / name
        if not source.exists():
            raise PatchError(f"{patch.name}: patches {name}, which the reference does not have")
        target = dest / name
        target.write_text(apply(source.read_text(), hunks, f"{patch.name}: {name}"))
        written[name] = target
    return written


def comment(patch: Path) -> str:
    """The mutant's opening comment: everything before the diff."""
    text = patch.read_text()
    cut = text.find("\n--- ")
    return text[:cut] if cut >= 0 else text


TEMPLATE = """Mutant {name} (boundary|safety|resource|logic|return|...)

What is wrong:
  TODO: the mistake, and what it does at run time.

Why a student writes it:
  TODO: the reasoning that leads there.

Caught by: TODO_case_id

"""


def make(name: str, reference: Path, edited: Path) -> str:
    """A new mutant: the comment template, then the diff from reference to edited."""
    import difflib
    fname = reference.name
    diff = "".join(difflib.unified_diff(reference.read_text().splitlines(True),
                                        edited.read_text().splitlines(True),
                                        f"a/{fname}", f"b/{fname}", n=3))
    if not diff:
        raise PatchError(f"{edited} is the same as {reference}")
    return TEMPLATE.format(name=name) + diff
