"""Points, verdicts, and the three report formats."""
import json
import xml.etree.ElementTree as ET

from harness import reports, scoring
from harness import spec as specmod

LAB = specmod.load("00")


def outcomes(statuses: dict, build_ok=True, norm=()) -> dict:
    cases = {c.id: {"status": statuses.get(c.id, "passed"), "message": "m", "seconds": 0.1}
             for c in LAB.cases}
    return {"submission": "s", "backend": "vm", "seconds": 3.0,
            "labs": {LAB.name: {"build": {"ok": build_ok, "reason": "" if build_ok else "x.c does not compile",
                                          "log": "x.c:1: error", "norm": list(norm), "seconds": 1},
                                "cases": cases, "resets": []}}}


def test_full_marks():
    report = scoring.score([LAB], outcomes({}))
    assert (report.points, report.max, report.passed) == (100, 100, True)


def test_a_failed_case_costs_its_points():
    report = scoring.score([LAB], outcomes({"no_fd_leak": "failed"}))
    assert report.points == 85 and report.passed


def test_below_the_passing_score_fails():
    failing = {c.id: "failed" for c in LAB.cases[:4]}     # 55 points lost
    report = scoring.score([LAB], outcomes(failing))
    assert report.points == 45 and not report.passed


def test_a_build_failure_scores_zero():
    report = scoring.score([LAB], outcomes({}, build_ok=False))
    assert report.points == 0 and not report.passed


def test_a_norm_violation_scores_zero():
    report = scoring.score([LAB], outcomes({}, norm=["ns_inspect.c calls system()"]))
    assert report.points == 0 and not report.passed


def test_skipped_cases_count_neither_way():
    report = scoring.score([LAB], outcomes({"no_fd_leak": "skipped"}))
    assert (report.points, report.max, report.passed) == (85, 85, True)


def test_an_infrastructure_failure_is_no_verdict():
    report = scoring.score([LAB], outcomes({"no_fd_leak": "infra"}))
    assert report.infra and not report.passed
    assert report.labs[0].verdict == "INFRA"


def test_text_report_ends_with_points():
    text = reports.text(scoring.score([LAB], outcomes({"no_fd_leak": "failed"})))
    assert text.splitlines()[-1] == "Points 85/100"
    assert "FAIL" in text


def test_gradescope_format():
    data = reports.gradescope(scoring.score([LAB], outcomes({"no_fd_leak": "failed"})))
    json.dumps(data)
    assert data["score"] == 85 and data["execution_time"] == 3
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_published"}
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t) for t in data["tests"])
    leak = next(t for t in data["tests"] if "no_fd_leak" in t["name"])
    assert (leak["score"], leak["max_score"]) == (0, 15)


def test_gradescope_shows_a_build_failure_as_its_own_test():
    data = reports.gradescope(scoring.score([LAB], outcomes({}, build_ok=False)))
    assert data["tests"][0]["name"].endswith("build and norm")
    assert "x.c:1: error" in data["tests"][0]["output"]


def test_junit_is_valid_xml():
    xml = reports.junit(scoring.score([LAB], outcomes({"no_fd_leak": "failed", "small_buffer": "skipped"})))
    suite = ET.fromstring(xml).find("testsuite")
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert len(suite.findall("testcase")) == len(LAB.cases)
