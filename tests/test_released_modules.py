"""Golden traces against the live upstream modules that made them, in CI.

CI's release environments (tox.ini, label ``ci``) compare the goldens of their own release with the live upstream
module (tests/test_parity.py); the other goldens are compared here with the Neptune callback file of their release,
taken from the release's wheel on the package index and replayed on the same recording (the matrix, ``tox -m
versions``, also runs each of them inside its own release). The era-boundary goldens (the recordings of the last
release before a boundary of the module, replayed through the module of the first release after it) are compared
with their modules here too.
"""

import configparser
from pathlib import Path

import pytest

from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import (
    MODULE_BOUNDARIES,
    bundled_recordings,
    load_bundled,
    recording_name,
)

TOX_INI = Path(__file__).parent.parent / "tox.ini"
ENV_PREFIX = "ultralytics-"


def releases_live_in_ci() -> set:
    """The releases whose tox environment CI runs (label ``ci``): there, test_parity.py compares live."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(TOX_INI)
    releases = set()
    for section in config.sections():
        labels = config[section].get("labels", "").replace(",", " ").split()
        if section.startswith(f"testenv:{ENV_PREFIX}") and "ci" in labels:
            releases.add(section.split(ENV_PREFIX, 1)[1])
    return releases


LIVE_IN_CI = releases_live_in_ci()
GOLDENS = [name for name in bundled_recordings() if parity.golden_source(load_bundled(name)) not in LIVE_IN_CI]
BOUNDARIES = [(recording_name(before, task), after) for before, after in MODULE_BOUNDARIES for task in TASKS]


@pytest.fixture(scope="session")
def released_module(tmp_path_factory):
    """released_module(version) -> the path of that release's Neptune callback file, downloaded once a session."""
    folder = tmp_path_factory.mktemp("released-modules")
    return lambda version: parity.released_module_path(version, folder)


def test_ci_runs_the_releases_whose_goldens_are_not_compared_here():
    assert releases_live_in_ci() == {"8.1.47", "8.4.131"}
    assert len(GOLDENS) == len(bundled_recordings()) - 15  # 8.1.47's five, and 8.4.131's for ten recordings


@pytest.mark.parametrize("name", GOLDENS)
def test_the_golden_trace_is_what_its_releases_upstream_module_logs(name, released_module, tmp_path):
    recording = load_bundled(name)
    release = parity.golden_source(recording)
    live = parity.released_trace(recording, release, released_module(release), tmp_path)
    result = parity.compare(live, parity.load_golden(recording), name, f"live upstream {release}")
    assert result.passed, "\n".join(result.differences)


@pytest.mark.parametrize(("name", "release"), BOUNDARIES, ids=[f"{name}-as-{release}" for name, release in BOUNDARIES])
def test_the_boundary_golden_is_what_the_first_module_after_the_boundary_logs(name, release, released_module, tmp_path):
    recording = load_bundled(name)
    live = parity.released_trace(recording, release, released_module(release), tmp_path)
    result = parity.compare(live, parity.load_boundary_golden(recording, release), name, f"live upstream {release}")
    assert result.passed, "\n".join(result.differences)


def test_a_golden_trace_unlike_its_module_fails(released_module, tmp_path):
    """The comparison above can fail: a golden trace with one figure re-drawn otherwise is caught."""
    recording = load_bundled(GOLDENS[0])
    release = parity.golden_source(recording)
    golden = parity.load_golden(recording)
    plot = next(op for op in golden.operations if op["path"][0] == "Plots")
    plot["content"]["image"]["pixels_sha256"] = "0" * 64
    live = parity.released_trace(recording, release, released_module(release), tmp_path)
    assert not parity.compare(live, golden, recording.name, "live").passed
