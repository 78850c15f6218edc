"""A graded submission, written three ways.

- text: the table a student or an instructor reads, ending 'Points X/Y';
- results.json in Gradescope's autograder format (score, execution_time,
  tests[] with name, score, max_score, output, visibility);
- JUnit XML, one testsuite per lab, for CI dashboards.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .scoring import LabScore, Report

MARKS = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "infra": "INFRA"}


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line for line in text.splitlines())


def lab_text(lab: LabScore, verbose: bool = True) -> str:
    points = "-" if lab.infra else lab.points
    lines = [f"{lab.name:<16} {lab.title:<44} {points:>3}/{lab.max:<3} {lab.verdict}"]
    if not lab.build_ok and lab.build_reason:
        lines.append(f"  build failed: {lab.build_reason}")
        if verbose and lab.build_log.strip():
            lines.append(_indent(_tail(lab.build_log, 30), "    | "))
    for v in lab.norm:
        lines.append(f"  norm: {v} (the lab scores 0)")
    for c in lab.cases:
        lines.append(f"  {MARKS[c.status]:<5} {c.points:>3}/{c.max:<3} {c.id:<32} {c.title}")
        if c.status != "passed" and c.message and verbose and (lab.build_ok or c is lab.cases[0]):
            lines.append(_indent(c.message, "          "))
    for r in lab.resets:
        lines.append(f"  note: {r}")
    return "\n".join(lines)


def _tail(text: str, n: int) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join((["..."] if len(lines) > n else []) + lines[-n:])


def text(report: Report, verbose: bool = True) -> str:
    parts = [lab_text(lab, verbose) for lab in report.labs]
    if report.infra:
        parts.append("INFRA: the grading machine failed during some cases; those labs have no score "
                     "and must be graded again (this is not the submission's fault).")
    parts.append(f"Points {report.points}/{report.max}")
    return "\n\n".join(parts[:-1]) + "\n\n" + parts[-1]


def gradescope(report: Report) -> dict:
    tests = []
    for lab in report.labs:
        if lab.build_reason or lab.norm:
            tests.append({"name": f"{lab.name}: build and norm", "score": 0, "max_score": 0,
                          "status": "failed", "visibility": "visible",
                          "output": "\n".join(filter(None, [lab.build_reason, *lab.norm,
                                                            _tail(lab.build_log, 60)]))})
        for c in lab.cases:
            tests.append({
                "name": f"{lab.name}: {c.id} - {c.title}",
                "score": c.points if lab.build_ok and not lab.norm else 0,
                "max_score": c.max,
                "status": "passed" if c.status == "passed" else "failed",
                "output": c.message,
                "visibility": "visible" if c.visibility == "public" else "after_published",
            })
    return {
        "score": report.points,
        "max_score": report.max,
        "execution_time": round(report.seconds),
        "output": "\n".join(f"{lab.name}: {lab.points}/{lab.max} {lab.verdict}" for lab in report.labs),
        "tests": tests,
    }


def junit(report: Report) -> str:
    suites = ET.Element("testsuites", name=report.submission, time=f"{report.seconds:.2f}")
    for lab in report.labs:
        failures = sum(c.status == "failed" for c in lab.cases)
        suite = ET.SubElement(suites, "testsuite", name=lab.name, tests=str(len(lab.cases)),
                              failures=str(failures), errors=str(sum(c.status == "infra" for c in lab.cases)),
                              skipped=str(sum(c.status == "skipped" for c in lab.cases)))
        for c in lab.cases:
            tc = ET.SubElement(suite, "testcase", classname=lab.name, name=c.id, time=f"{c.seconds:.2f}")
            if c.status == "failed":
                ET.SubElement(tc, "failure", message=c.message.splitlines()[0] if c.message else "failed").text = c.message
            elif c.status == "infra":
                ET.SubElement(tc, "error", message="infrastructure failure").text = c.message
            elif c.status == "skipped":
                ET.SubElement(tc, "skipped", message=c.message)
        ET.SubElement(suite, "system-out").text = lab.build_log
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write(report: Report, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(gradescope(report), indent=1))
    (directory / "junit.xml").write_text(junit(report))
    (directory / "report.txt").write_text(text(report) + "\n")
