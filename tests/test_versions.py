"""The version matrix: a recording of every task and its golden trace for every release where what reaches Neptune
changed (REFERENCE sections 1 and 2), our module against the installed upstream module on the recordings of every era
and task, and a fresh training of each task with the installed release that still matches its recording. Era
behaviours: test_era_behaviour.py."""

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

from ultralytics_neptune.releases import LAST_UPSTREAM, parse_version
from ultralytics_neptune.synthetic import MODELS, TASKS
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import (
    DATA_DIR,
    Recording,
    bundled_recordings,
    golden_trace_path,
    load_bundled,
    recording_name,
)

#: the releases of the matrix: the last or first release of each change that alters what reaches Neptune
MATRIX = ("8.1.47", "8.3.8", "8.3.161", "8.3.234", "8.3.253", "8.4.51", "8.4.131", "8.4.190")
TOX_INI = Path(__file__).parent.parent / "tox.ini"
DATA_LIMIT = 2_000_000  # bytes of recordings and golden traces together


def tox_environments() -> dict:
    """{environment name: its labels} of the tox.ini version environments."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(TOX_INI)
    sections = [name for name in config.sections() if name.startswith("testenv:ultralytics-")]
    return {name.split(":", 1)[1]: config[name].get("labels", "").replace(",", " ").split() for name in sections}


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", MATRIX)
def test_every_release_of_the_matrix_has_a_recording_of_every_task_made_by_that_release(version, task):
    recording = load_bundled(recording_name(version, task))
    assert recording.ultralytics_version == recording.meta["versions"]["ultralytics"] == version
    assert (recording.task, recording.meta["model"]) == (task, MODELS[task])
    assert recording.events[0]["state"]["args"]["task"] == task  # what the real trainer trained


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", MATRIX)
def test_every_recording_of_the_matrix_has_a_golden_trace_of_the_upstream_module_that_logged_it(version, task):
    recording = load_bundled(recording_name(version, task))
    golden = parity.load_golden(recording)
    expected_upstream = version if parse_version(version) <= parse_version(LAST_UPSTREAM) else LAST_UPSTREAM
    assert golden.meta["upstream"] == expected_upstream
    assert golden.meta["recording"] == recording.name


def test_every_bundled_recording_belongs_to_the_matrix():
    assert set(bundled_recordings()) == {recording_name(version, task) for version in MATRIX for task in TASKS}
    assert all(golden_trace_path(name).exists() for name in bundled_recordings())


def test_the_recordings_and_golden_traces_together_stay_under_2_mb():
    assert sum(path.stat().st_size for path in DATA_DIR.rglob("*.json")) < DATA_LIMIT


def test_every_release_of_the_matrix_has_a_tox_environment_labelled_versions():
    environments = tox_environments()
    assert set(environments) == {f"ultralytics-{version}" for version in MATRIX}
    assert all("versions" in labels for labels in environments.values())


def test_ci_runs_the_oldest_release_the_last_upstream_one_and_the_latest():
    ci = {name for name, labels in tox_environments().items() if "ci-versions" in labels}
    assert {f"ultralytics-{MATRIX[0]}", f"ultralytics-{LAST_UPSTREAM}"} <= ci
    config = configparser.ConfigParser(interpolation=None)
    config.read(TOX_INI)
    latest = config["testenv:py"]  # the whole suite, on the newest Ultralytics that pip finds
    assert "ci" in latest.get("labels", "") and "ultralytics" not in latest.get("deps", "")


# Cross-version replays: our module, behaving as the installed release, on the recordings of every era.


def installed_upstream_or_skip() -> str:
    if parity.upstream_module_path() is None:
        pytest.skip(f"Ultralytics {parity.installed_ultralytics()} ships no Neptune callback to compare with")
    return parity.installed_ultralytics()


@pytest.mark.parametrize("name", list(bundled_recordings()))
def test_our_module_as_the_installed_release_equals_its_upstream_module_on_every_recording(name, replays):
    installed = installed_upstream_or_skip()
    result = parity.compare(replays.upstream(name), replays.ours(name, as_release=installed), name, "live upstream")
    assert result.passed, "\n".join(result.differences)


# The installed release still trains every task, and trains it the way its bundled recording says.


def registered_plots(recording) -> tuple:
    trainer, validator = [], []
    for event in recording.events:
        trainer = event.get("state", {}).get("plots", trainer)
        validator = event.get("validator", {}).get("plots", validator)
    return sorted(trainer), sorted(validator)


@pytest.fixture(scope="module", params=TASKS)
def fresh_recording(request, tmp_path_factory):
    """A real tiny training of a task with the installed release, recorded now (skipped where no recording of it is
    bundled)."""
    installed, task = parity.installed_ultralytics(), request.param
    name = recording_name(installed, task)
    if name not in bundled_recordings():
        pytest.skip(f"no bundled {task} recording of Ultralytics {installed} to compare a fresh training with")
    out = tmp_path_factory.mktemp("fresh") / f"{name}.json"
    command = [sys.executable, "-m", "ultralytics_neptune.verification.recorder", "--task", task, "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return load_bundled(name), Recording.load(out)


def test_the_installed_release_trains_with_the_events_of_its_bundled_recording(fresh_recording):
    bundled, fresh = fresh_recording
    assert fresh.event_names() == bundled.event_names()


def test_the_installed_release_trains_to_the_files_and_plots_of_its_bundled_recording(fresh_recording):
    bundled, fresh = fresh_recording
    assert fresh.final_files() == bundled.final_files()
    assert registered_plots(fresh) == registered_plots(bundled)
