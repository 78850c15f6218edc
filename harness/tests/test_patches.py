"""Mutant patches: strict application, and every mutant applies to its reference."""
import pytest

from harness import patches
from harness import spec as specmod

REFERENCE = "one\ntwo\nthree\nfour\n"
PATCH = """Mutant example (logic)

Caught by: a_case

--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
"""


def test_a_patch_applies():
    (name, hunks), = patches.parse(PATCH).items()
    assert name == "f.c"
    assert patches.apply(REFERENCE, hunks) == "one\nTWO\nthree\nfour\n"


def test_a_patch_that_does_not_match_is_refused():
    (_, hunks), = patches.parse(PATCH).items()
    with pytest.raises(patches.PatchError, match="does not match"):
        patches.apply("one\n2\nthree\n", hunks)


def test_the_comment_is_what_precedes_the_diff(tmp_path):
    path = tmp_path / "m.patch"
    path.write_text(PATCH)
    assert patches.comment(path).strip().endswith("Caught by: a_case")


def test_text_without_a_diff_is_refused():
    with pytest.raises(patches.PatchError):
        patches.parse("just words\n")


def test_make_then_apply_round_trips(tmp_path):
    ref, edited = tmp_path / "x.c", tmp_path / "edited.c"
    ref.write_text(REFERENCE)
    edited.write_text(REFERENCE.replace("three", "3"))
    made = patches.make("m", ref, edited)
    (_, hunks), = patches.parse(made).items()
    assert patches.apply(REFERENCE, hunks) == edited.read_text()


@pytest.mark.parametrize("lab", [p.name for p in specmod.all_lab_dirs()])
def test_every_mutant_applies_and_changes_something(lab, tmp_path):
    spec = specmod.load(lab)
    for m in spec.mutants:
        written = patches.materialise(specmod.MUTANTS_DIR / lab / m.file,
                                      specmod.SOLUTIONS_DIR / lab, tmp_path / m.name)
        for name, path in written.items():
            assert path.read_text() != (specmod.SOLUTIONS_DIR / lab / name).read_text(), m.file
