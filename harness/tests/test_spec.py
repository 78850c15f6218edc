"""The spec checker: every lab's spec is gradable, and mistakes are named."""
import pytest

from harness import spec as specmod


@pytest.mark.parametrize("lab", [p.name for p in specmod.all_lab_dirs()])
def test_every_lab_spec_is_gradable(lab):
    assert specmod.check(specmod.load(lab)) == []


def edit(folder, old, new):
    path = folder / "spec.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_points_must_sum_to_100(spec_copy):
    folder, load = spec_copy
    edit(folder, "points = 15", "points = 16")
    errors = specmod.check(load())
    assert any("sum to 101, not 100" in e for e in errors), errors


def test_a_case_without_its_test_is_named(spec_copy):
    folder, load = spec_copy
    edit(folder, 'id = "no_fd_leak"', 'id = "no_fd_leaks"')
    errors = specmod.check(load())
    assert any("'no_fd_leaks' has no test_no_fd_leaks in test_hidden.py" in e for e in errors), errors
    assert any("test_no_fd_leak is not a hidden case" in e for e in errors), errors


def test_a_duplicate_case_is_named(spec_copy):
    folder, load = spec_copy
    edit(folder, 'id = "no_fd_leak"', 'id = "small_buffer"')
    assert any("'small_buffer' is listed more than once" in e for e in specmod.check(load()))


def test_an_unknown_handout_section_is_named(spec_copy):
    folder, load = spec_copy
    edit(folder, 'section = "5. Pitfalls"', 'section = "9. Nowhere"')
    assert any("handout has no section '9. Nowhere'" in e for e in specmod.check(load()))


def test_a_mutant_naming_an_unknown_case_is_named(spec_copy):
    folder, load = spec_copy
    edit(folder, 'kills = ["no_fd_leak"]', 'kills = ["no_such_case"]')
    errors = specmod.check(load())
    assert any("names unknown case 'no_such_case'" in e for e in errors), errors
    # and its comment no longer agrees with the spec
    assert any("no_closedir.patch" in e and "Caught by" in e for e in errors), errors


def test_an_undeclared_mutant_file_is_named(spec_copy):
    folder, load = spec_copy
    edit(folder, '[[mutant]]\nfile = "no_closedir.patch"\nkills = ["no_fd_leak"]\n', "")
    errors = specmod.check(load())
    assert any("no_closedir.patch: not declared" in e for e in errors), errors


def test_a_trap_needs_its_explanation(spec_copy):
    folder, load = spec_copy
    edit(folder, 'trap_why = "A process that cannot be read', 'trap_whyy = "A process that cannot be read')
    assert any("a trap needs trap_why" in e for e in specmod.check(load()))


def test_a_wrong_type_is_a_clear_error(spec_copy):
    folder, load = spec_copy
    edit(folder, "points = 15", 'points = "15"')
    with pytest.raises(specmod.SpecError, match="'points' must be int"):
        load()


def test_labs_are_found_by_number():
    assert specmod.resolve("1").name == "01-pid"
    assert specmod.resolve("01").name == "01-pid"
    with pytest.raises(specmod.SpecError, match="no lab named"):
        specmod.resolve("99")
