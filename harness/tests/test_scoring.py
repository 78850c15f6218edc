"""Points, verdicts, and the three report formats."""
import json
import xml.etree.ElementTree as ET

from harness import reports, scoring
from harness import spec as specmod

LAB = specmod.load("00")
LEAK = LAB.case("no_fd_leak").points


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
    assert report.points == 100 - LEAK and report.passed


def test_below_the_passing_score_fails():
    failing = {c.id: "failed" for c in LAB.cases[:4]}
    lost = sum(c.points for c in LAB.cases[:4])
    assert lost > 30
    report = scoring.score([LAB], outcomes(failing))
    assert report.points == 100 - lost and not report.passed


def test_a_build_failure_scores_zero():
    report = scoring.score([LAB], outcomes({}, build_ok=False))
    assert report.points == 0 and not report.passed


def test_a_norm_violation_scores_zero():
    report = scoring.score([LAB], outcomes({}, norm=["ns_inspect.c calls system()"]))
    assert report.points == 0 and not report.passed


def test_skipped_cases_count_neither_way():
    report = scoring.score([LAB], outcomes({"no_fd_leak": "skipped"}))
    assert (report.points, report.max, report.passed) == (100 - LEAK, 100 - LEAK, True)


def test_an_infrastructure_failure_is_no_verdict():
    report = scoring.score([LAB], outcomes({"no_fd_leak": "infra"}))
    assert report.infra and not report.passed
    assert report.labs[0].verdict == "INFRA"
    assert (report.points, report.max) == (0, 0)  # left out of the total until graded again


def test_text_report_ends_with_points():
    text = reports.text(scoring.score([LAB], outcomes({"no_fd_leak": "failed"})))
    assert text.splitlines()[-1] == f"Points {100 - LEAK}/100"
    assert "FAIL" in text


def test_gradescope_format():
    data = reports.gradescope(scoring.score([LAB], outcomes({"no_fd_leak": "failed"})))
    json.dumps(data)
    assert data["score"] == 100 - LEAK and data["execution_time"] == 3
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_published"}
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t) for t in data["tests"])
    leak = next(t for t in data["tests"] if "no_fd_leak" in t["name"])
    assert (leak["score"], leak["max_score"]) == (0, LEAK)


def test_gradescope_shows_a_build_failure_as_its_own_test():
    data = reports.gradescope(scoring.score([LAB], outcomes({}, build_ok=False)))
    assert data["tests"][0]["name"].endswith("build and norm")
    assert "x.c:1: error" in data["tests"][0]["output"]


def test_junit_is_valid_xml():
    xml = reports.junit(scoring.score([LAB], outcomes({"no_fd_leak": "failed", "small_buffer": "skipped"})))
    suite = ET.fromstring(xml).find("testsuite")
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert len(suite.findall("testcase")) == len(LAB.cases)
