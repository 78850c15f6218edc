"""Gradings in child processes, several at a time, each with its own guest.

Every child runs `moulinette outcomes` (the cases of some labs, or a batch of
variants of them) and writes the raw outcomes; the parent reads them back.
A child is a whole pytest session: what one grading does to the process -
modules imported, fixtures, signals - cannot touch another.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from .spec import ROOT


def outcomes(runs: list[list[str]], jobs: int, done: Callable[[int, dict | None], None] | None = None,
             ) -> list[dict | None]:
    """Runs `moulinette outcomes ARGS` for each ARGS in runs, `jobs` at a time.

    Returns each run's outcomes (None when the child failed, its output then
    written to stderr); done(index, outcomes) is called as each one ends.
    """
    with tempfile.TemporaryDirectory(prefix="labs-children-") as tmp:
        def one(index: int) -> dict | None:
            out = Path(tmp) / f"{index}.json"
            proc = subprocess.run([sys.executable, "-m", "harness", "outcomes", *runs[index], "--out", str(out)],
                                  cwd=ROOT, capture_output=True, text=True)
            result = json.loads(out.read_text()) if out.exists() else None
            if result is None:
                sys.stderr.write(proc.stdout + proc.stderr)
            if done:
                done(index, result)
            return result
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(runs)))) as pool:
            return list(pool.map(one, range(len(runs))))


def batch_file(folder: Path, name: str, entries: list[dict]) -> str:
    """Writes a --batch file (a list of {name, lab, path}) and returns its path."""
    path = folder / f"{name}.json"
    path.write_text(json.dumps(entries))
    return str(path)
