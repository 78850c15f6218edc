"""Fixtures of the harness's own tests."""
import shutil
from pathlib import Path

import pytest

from harness import spec as specmod


@pytest.fixture
def spec_copy(tmp_path):
    """A copy of lab 00's spec folder, to break on purpose: (folder, load)."""
    folder = tmp_path / "00-ns-inspect"
    shutil.copytree(specmod.SPEC_DIR / "00-ns-inspect", folder)

    def load():
        return specmod.load_file(folder / "spec.toml")
    return folder, load


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
