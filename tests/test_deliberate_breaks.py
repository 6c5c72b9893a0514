"""The deliberate breaks kept as patches (tests/deliberate_breaks/*.patch, issue 28): each changed test was made to
fail once by its patch; each patch still applies to the tree and names a test that exists, so the break can be
replayed: ``git apply tests/deliberate_breaks/NAME.patch && tox -e py -- -q TEST``, then ``git apply -R``. (Other
breaks run as mutation tests: test_era_rules.py, test_faults.py, test_released_modules.py, test_skip_allow_list.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PATCHES = sorted((ROOT / "tests" / "deliberate_breaks").glob("*.patch"))


def broken_test(patch: Path) -> str:
    """The node id of the test the patch makes fail (its first line: "Breaks: NODE-ID ...")."""
    first = patch.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("Breaks: "), first
    return first.removeprefix("Breaks: ").split()[0]


def test_there_are_deliberate_breaks():
    assert len(PATCHES) >= 8


@pytest.mark.parametrize("patch", PATCHES, ids=[patch.stem for patch in PATCHES])
def test_the_deliberate_break_still_applies_to_the_tree(patch):
    result = subprocess.run(["git", "apply", "--check", str(patch)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("patch", PATCHES, ids=[patch.stem for patch in PATCHES])
def test_the_deliberate_break_names_a_test_that_exists(patch):
    path, _, name = broken_test(patch).partition("::")
    assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8")
