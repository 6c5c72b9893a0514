"""The suite's skip allow-list (tests/skip_allow_list.py, setup.cfg ``allowed_skips``): a skip, xfail or deselection
whose reason is not on it fails the run; one on it does not."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

INNER_TESTS = """
import pytest

def test_passes():
    pass

def test_skipped_for_a_listed_reason():
    pytest.skip("Ultralytics 9.9.9 ships no Neptune callback to compare with")

def test_skipped_for_another_reason():
    pytest.skip("needs something not installed")

@pytest.mark.xfail(reason="not yet")
def test_expected_to_fail():
    assert False
"""


def run_inner(pytester, allowed: str, *args: str):
    pytester.makeini(f"[pytest]\nallowed_skips =\n{allowed}\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
        return pytester.runpytest_subprocess("-p", "skip_allow_list", "-p", "no:cacheprovider", *args)


def test_skips_not_on_the_allow_list_fail_the_run_and_are_named(pytester):
    result = run_inner(pytester, "    py | Ultralytics * ships no Neptune callback*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skips not on the allow-list*", "*test_skipped_for_another_reason: needs something*"])
    result.stdout.fnmatch_lines(["*test_expected_to_fail: xfail: not yet*"])
    assert "test_skipped_for_a_listed_reason:" not in result.stdout.str()


def test_a_run_whose_skips_are_all_listed_passes(pytester):
    allowed = "    py | Ultralytics * ships no Neptune callback*\n    py | needs something*\n    py | xfail: not yet"
    assert run_inner(pytester, allowed).ret == pytest.ExitCode.OK


def test_a_deselected_test_fails_the_run_unless_listed(pytester):
    allowed = "    py | Ultralytics *\n    py | needs something*\n    py | xfail: *"
    assert run_inner(pytester, allowed, "-k", "not test_passes").ret == pytest.ExitCode.TESTS_FAILED
    listed = f"{allowed}\n    py | deselected test_inner.py::test_passes"
    assert run_inner(pytester, listed, "-k", "not test_passes").ret == pytest.ExitCode.OK


def test_an_allow_list_line_without_the_environment_is_refused(pytester):
    result = run_inner(pytester, "    needs something*")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_every_allowed_skip_names_a_tox_environment_that_runs_the_test():
    import re

    setup, tox = configparser.ConfigParser(interpolation=None), configparser.ConfigParser(interpolation=None)
    setup.read(TESTS.parent / "setup.cfg")
    tox.read(TESTS.parent / "tox.ini")
    known = {section.split(":", 1)[1] for section in tox.sections() if section.startswith("testenv:")}
    lines = [line for line in setup["tool:pytest"]["allowed_skips"].splitlines() if line.strip()]
    for line in lines:
        named = set(re.findall(r"\b(py|scale|ultralytics-[\d.]*\d)\b", line.partition("|")[0]))
        assert named and named <= known, line
