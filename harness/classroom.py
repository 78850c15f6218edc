"""Grading a whole class: every submission of a folder, several at a time.

  moulinette grade-all CLASS --report DIR [--jobs 2] [--labs 00,01]

CLASS holds one folder (or git checkout) per student.  Each student is
graded like `moulinette grade`, in a guest of its own, and gets DIR/STUDENT/
(results.json, junit.xml, report.txt); DIR/gradebook.csv has one row per
student: each lab's points, the total, and PASS, FAIL or INFRA.

An interrupted run resumes: a student whose reports exist for the same files
(DIR/STUDENT/graded.json records their fingerprint) is not graded again.  A
student whose grading failed for infrastructure reasons is retried once,
then marked INFRA in the gradebook, to be graded again later.
"""
from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import spec as specmod
from .submission import lab_folder

EXIT_INFRA = 3


@dataclass
class Row:
    student: str
    labs: dict[str, int | None]     # lab -> points, None if infra
    total: int
    max: int
    verdict: str                   # PASS, FAIL, INFRA
    seconds: float


def students(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def fingerprint(submission: Path, labs: list[specmod.Lab]) -> str:
    """What a grading depends on: the handed-in files, and the specs."""
    h = hashlib.sha256()
    for lab in labs:
        h.update(lab.spec_path.read_bytes())
        folder = lab_folder(submission, lab)
        for name in lab.student_files:
            path = folder / name
            h.update(name.encode())
            h.update(path.read_bytes() if path.is_file() and not path.is_symlink() else b"-")
    return h.hexdigest()


def grade_one(submission: Path, labs: list[specmod.Lab], out: Path, backend: str) -> Row:
    """Grades one student in a child process (its own guest); retries an
    infrastructure failure once."""
    start = time.monotonic()
    for attempt in (1, 2):
        proc = subprocess.run([sys.executable, "-m", "harness", "grade", str(submission),
                               "--labs", ",".join(l.name for l in labs), "--backend", backend,
                               "--report", str(out), "-q"],
                              cwd=specmod.ROOT, capture_output=True, text=True)
        if proc.returncode != EXIT_INFRA:
            break
    results = out / "results.json"
    if proc.returncode == EXIT_INFRA or not results.exists():
        (out / "error.txt").write_text(proc.stdout + proc.stderr)
        return Row(submission.name, {l.name: None for l in labs}, 0, 0, "INFRA", time.monotonic() - start)
    data = json.loads(results.read_text())
    per_lab: dict[str, int | None] = {l.name: 0 for l in labs}
    max_points = 0
    for test in data["tests"]:
        lab_name = test["name"].split(":", 1)[0]
        if lab_name in per_lab:
            per_lab[lab_name] += test["score"]
        max_points += test["max_score"]
    verdict = "PASS" if proc.returncode == 0 else "FAIL"
    return Row(submission.name, per_lab, data["score"], max_points, verdict, time.monotonic() - start)


def load_done(out: Path, fp: str) -> Row | None:
    marker = out / "graded.json"
    if not marker.exists():
        return None
    data = json.loads(marker.read_text())
    if data.get("fingerprint") != fp or data["row"]["verdict"] == "INFRA":
        return None
    return Row(**data["row"])


def write_gradebook(path: Path, labs: list[specmod.Lab], rows: list[Row]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *[l.name for l in labs], "total", "max", "verdict"])
        for r in sorted(rows, key=lambda r: r.student):
            w.writerow([r.student, *["" if r.labs.get(l.name) is None else r.labs[l.name] for l in labs],
                        r.total, r.max, r.verdict])


def grade_all(folder: Path, report: Path, labs: list[specmod.Lab], jobs: int = 2,
              backend: str = "vm", log=print) -> list[Row]:
    report.mkdir(parents=True, exist_ok=True)
    todo, rows = [], []
    for sub in students(folder):
        fp = fingerprint(sub, labs)
        done = load_done(report / sub.name, fp)
        if done:
            rows.append(done)
        else:
            todo.append((sub, fp))
    log(f"grade-all: {len(rows) + len(todo)} students, {len(rows)} already graded, "
        f"{len(todo)} to grade, {jobs} at a time")
    started, finished = time.monotonic(), 0

    def one(sub: Path, fp: str) -> Row:
        out = report / sub.name
        out.mkdir(exist_ok=True)
        row = grade_one(sub, labs, out, backend)
        (out / "graded.json").write_text(json.dumps({"fingerprint": fp, "row": row.__dict__}, indent=1))
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(one, sub, fp) for sub, fp in todo]
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            finished += 1
            elapsed = time.monotonic() - started
            left = elapsed / finished * (len(todo) - finished)
            log(f"[{finished}/{len(todo)}] {row.student:<20} {row.total:>5}/{row.max:<5} {row.verdict:<5} "
                f"({row.seconds:.0f} s)  about {_duration(left)} left")
            write_gradebook(report / "gradebook.csv", labs, rows)
    write_gradebook(report / "gradebook.csv", labs, rows)
    return rows


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
