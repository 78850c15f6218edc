"""Twenty consecutive gradings of the same submission give the same result,
case by case: for lab 01's reference (full marks every time) and for one of
its mutants (the same cases failing every time).  Lab 01 is the most
timing-sensitive lab (orphans, signals, zombies).  The twenty gradings run
one after the other in one guest, as `moulinette mutate` grades variants."""
import json
import subprocess
import sys

import pytest

from harness import spec as specmod

RUNS = 20
LAB = "01-pid"


@pytest.mark.parametrize("variant", [specmod.SOLUTIONS_DIR / LAB / "pid_lab.c",
                                     specmod.MUTANTS_DIR / LAB / "signal_as_exit.patch"],
                         ids=["reference", "mutant signal_as_exit"])
def test_twenty_gradings_agree(variant, tmp_path):
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"name": f"run{i}", "lab": LAB, "path": str(variant)} for i in range(RUNS)]))
    out = tmp_path / "outcomes.json"
    subprocess.run([sys.executable, "-m", "harness", "outcomes", str(specmod.SOLUTIONS_DIR), "--labs", LAB,
                    "--batch", str(batch), "--out", str(out)], cwd=specmod.ROOT, check=True)
    runs = json.loads(out.read_text())["batch"]
    assert len(runs) == RUNS
    seen = [{case: o["status"] for case, o in run["cases"].items()} for run in runs.values()]
    first = seen[0]
    for i, statuses in enumerate(seen):
        assert statuses == first, f"grading {i + 1} differs: " + ", ".join(
            f"{c} {first[c]} then {statuses[c]}" for c in first if first[c] != statuses.get(c))
    failed = {c for c, s in first.items() if s == "failed"}
    if variant.suffix == ".patch":
        assert failed, "the mutant must fail some cases"
    else:
        assert not failed and set(first.values()) == {"passed"}
