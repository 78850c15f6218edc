"""Fixtures of the harness's own tests."""
import shutil
from pathlib import Path

import pytest

from harness import patches
from harness import spec as specmod


@pytest.fixture
def spec_copy(tmp_path):
    """A copy of lab 00's spec folder, to break on purpose: (folder, load)."""
    folder = tmp_path / "00-ns-inspect"
    shutil.copytree(specmod.SPEC_DIR / "00-ns-inspect", folder)

    def load():
        return specmod.load_file(folder / "spec.toml")
    return folder, load


@pytest.fixture
def submission(tmp_path):
    """submission(FOLDER, NAME): the folder to grade for the test submission NAME.

    FOLDER/NAME.patch is a diff against solutions/ (its files are named
    a/NN-lab/file.c): each lab it patches is laid out in tmp_path with the
    reference's files, the patch applied.  Otherwise the folder FOLDER/NAME
    is graded as it is."""
    def find(folder: Path, name: str) -> Path:
        patch = folder / f"{name}.patch"
        if not patch.exists():
            return folder / name
        dest = tmp_path / "patched" / name
        for lab in {file.split("/")[0] for file in patches.parse(patch.read_text())}:
            (dest / lab).mkdir(parents=True)
            for reference in (specmod.SOLUTIONS_DIR / lab).iterdir():
                if reference.is_file():
                    shutil.copyfile(reference, dest / lab / reference.name)
        patches.materialise(patch, specmod.SOLUTIONS_DIR, dest)
        return dest
    return find


@pytest.fixture(scope="session")
def guest():
    """One booted grading VM, with empty shares, for the agent's tests."""
    from harness.backends import VMBackend
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="labs-test-"))
    (work / "sub").mkdir()
    (work / "out").mkdir()
    backend = VMBackend(work / "sub", work / "out")
    backend.start()
    yield backend
    backend.close()
    shutil.rmtree(work, ignore_errors=True)
