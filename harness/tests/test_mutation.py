"""The mutation engine without a VM: what each operator makes of C source,
the fixed sample CI grades, and the comparison with a baseline."""
import json

import pytest

from harness import mutation, spec as specmod

SOURCE = """#include <stdio.h>
#define LIMIT 64
static int table[8];   /* a size: never mutated */

/* a comment with i < n that must stay */
static int check(int n)
{
	if (n < 0 || n > 64)
		return -1;
	puts("a string with == inside");
	memcpy(table, NULL, 0x10);
	return n;
}
"""


def applied(op: str) -> list[str]:
    """Each edit of kind op, as the line of SOURCE it changes."""
    out = []
    for kind, start, end, new in mutation.edits(SOURCE):
        if kind == op:
            text = SOURCE[:start] + new + SOURCE[end:]
            line = SOURCE.count("\n", 0, start)
            out.append(text.splitlines()[line].strip())
    return out


def test_relational_operators_are_swapped_in_code_only():
    assert applied("ror") == ["if (n <= 0 || n > 64)", "if (n < 0 || n >= 64)"]


def test_constants_take_their_neighbours_in_their_own_base():
    assert "if (n < 0 || n > 63)" in applied("const")
    assert "if (n < 1 || n > 64)" in applied("const")
    assert "memcpy(table, NULL, 0xf);" in applied("const")
    assert not any("table[" in line or "LIMIT" in line for line in applied("const"))


def test_conditions_are_negated_and_calls_deleted():
    assert applied("neg") == ["if (!(n < 0 || n > 64))"]
    assert applied("call") == [";", ";"]          # puts(...); and memcpy(...);


def test_returned_values_are_replaced():
    assert applied("ret") == ["return 0;", "return 0;", "return -1;"]


def test_two_argument_calls_only_have_their_arguments_swapped():
    assert applied("swap") == []                   # memcpy has three
    edits = mutation.edits("int f(void)\n{\n\treturn g(a, b);\n}\n")
    assert [new for kind, _, _, new in edits if kind == "swap"] == ["b, a"]


def fake(ids_and_digests):
    return [mutation.Mutant(i, "x.c", "", "", d) for i, d in ids_and_digests]


def test_the_sample_is_fixed_and_one_per_object_code():
    mutants = fake([(f"x.c:{n}:1 ror", f"d{n % 7}") for n in range(40)])
    first = mutation.sample_of(mutants, 5)
    assert [m.id for m in first] == [m.id for m in mutation.sample_of(list(reversed(mutants)), 5)]
    assert len(first) == 5 and len({m.digest for m in first}) == 5
    assert len(mutation.sample_of(mutants, 100)) == 7


@pytest.fixture
def lab_with_baseline(tmp_path, monkeypatch):
    lab = specmod.load("00")
    path = tmp_path / "mutation-baseline.json"
    path.write_text(json.dumps({"score": 0.9, "valid": 10, "killed": 9, "equivalent": 0,
                                "survivors": ["x.c:1:1 ror"]}))
    monkeypatch.setattr(mutation, "baseline_path", lambda _lab: path)
    return lab


def result(lab, killed, survivors, sampled=False):
    valid = fake([(i, i) for i in killed + survivors])
    return mutation.LabResult(lab, len(valid), 0, 0, valid, killed, fake([(s, s) for s in survivors]),
                              [], [], 0.0, len(valid), sampled)


def test_a_known_survivor_is_no_regression(lab_with_baseline):
    r = result(lab_with_baseline, [f"k{i}" for i in range(9)], ["x.c:1:1 ror"])
    assert mutation.compare_with_baseline(r) == []


def test_a_lower_score_or_a_new_survivor_is_a_regression(lab_with_baseline):
    r = result(lab_with_baseline, [f"k{i}" for i in range(8)], ["x.c:1:1 ror", "x.c:2:1 neg"])
    problems = mutation.compare_with_baseline(r)
    assert any("fell below the baseline" in p for p in problems)
    assert any("new survivor x.c:2:1 neg" in p for p in problems)


def test_a_sample_is_held_to_its_survivors_not_to_the_score(lab_with_baseline):
    r = result(lab_with_baseline, ["k1"], ["x.c:1:1 ror"], sampled=True)
    assert mutation.compare_with_baseline(r) == []
    r = result(lab_with_baseline, ["k1"], ["x.c:3:1 call"], sampled=True)
    assert mutation.compare_with_baseline(r) == [f"{r.lab.name}: new survivor x.c:3:1 call"]


def test_a_baseline_drawn_from_a_sample_is_held_to_its_survivors(lab_with_baseline):
    path = mutation.baseline_path(lab_with_baseline)
    path.write_text(json.dumps({**json.loads(path.read_text()), "sample": 40}))
    r = result(lab_with_baseline, ["k1"], ["x.c:1:1 ror"])          # a full run: 50%, below 90%
    assert mutation.compare_with_baseline(r) == []
    r = result(lab_with_baseline, ["k1"], ["x.c:4:1 ret"])
    assert mutation.compare_with_baseline(r) == [f"{r.lab.name}: new survivor x.c:4:1 ret"]
