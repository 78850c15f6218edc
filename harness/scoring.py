"""From case outcomes to points, per lab and in all.

- A passed case earns its points, anything else none.
- A case skipped because the machine lacks what it needs counts neither way:
  the lab is scored out of the points of the cases that ran.
- A lab that does not build scores 0; so does a lab whose student code calls a
  function the norm refuses (the cases still run, for the feedback).
- A lab with an infrastructure failure gets no score at all: it is reported
  as such, left out of the total, and must be graded again.
- A lab passes with at least its spec's passing score (70 by default), as a
  percentage of the points that could be earned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .spec import Lab


@dataclass
class CaseScore:
    id: str
    title: str
    points: int
    max: int
    status: str
    message: str
    visibility: str
    seconds: float


@dataclass
class LabScore:
    name: str
    title: str
    points: int
    max: int
    passing: int
    cases: list[CaseScore]
    build_ok: bool
    build_reason: str = ""
    build_log: str = ""
    norm: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)

    @property
    def infra(self) -> bool:
        return any(c.status == "infra" for c in self.cases)

    @property
    def passed(self) -> bool:
        return not self.infra and self.max > 0 and self.points * 100 >= self.passing * self.max

    @property
    def verdict(self) -> str:
        return "INFRA" if self.infra else ("PASS" if self.passed else "FAIL")


@dataclass
class Report:
    submission: str
    backend: str
    seconds: float
    labs: list[LabScore]
    machine: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        """Over the labs that were graded: a lab with an infrastructure
        failure has no score yet, and counts neither way."""
        return sum(lab.points for lab in self.labs if not lab.infra)

    @property
    def max(self) -> int:
        return sum(lab.max for lab in self.labs if not lab.infra)

    @property
    def infra(self) -> bool:
        return any(lab.infra for lab in self.labs)

    @property
    def passed(self) -> bool:
        return bool(self.labs) and all(lab.passed for lab in self.labs)


def score_lab(lab: Lab, data: dict | None) -> LabScore:
    data = data or {}
    build = data.get("build") or {}
    outcomes = data.get("cases", {})
    cases = []
    for c in lab.cases:
        o = outcomes.get(c.id)
        if o is None:   # not collected: a public-only run
            continue
        earned = c.points if o["status"] == "passed" else 0
        counted = o["status"] != "skipped"
        cases.append(CaseScore(c.id, c.title, earned, c.points if counted else 0, o["status"],
                               o["message"], c.visibility, o["seconds"]))
    points = sum(c.points for c in cases)
    norm = build.get("norm", [])
    if not build.get("ok", False) or norm:
        points = 0
    return LabScore(lab.name, lab.title, points, sum(c.max for c in cases), lab.passing, cases,
                    build_ok=bool(build.get("ok")), build_reason=build.get("reason", ""),
                    build_log=build.get("log", ""), norm=norm, resets=data.get("resets", []))


def score(labs: list[Lab], outcomes: dict) -> Report:
    per_lab = outcomes.get("labs", {})
    return Report(submission=outcomes.get("submission", "?"), backend=outcomes.get("backend", "?"),
                  seconds=outcomes.get("seconds", 0.0),
                  labs=[score_lab(lab, per_lab.get(lab.name)) for lab in labs if lab.name in per_lab],
                  machine=outcomes.get("machine", {}))
