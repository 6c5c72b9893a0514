"""The golden traces pin every era rule: changing one rule of the era table fails exactly the recorded releases the
rule governs, and no other."""

from dataclasses import replace

import pytest

from ultralytics_neptune import eras
from ultralytics_neptune.testing import parity
from ultralytics_neptune.testing.recording import bundled_recordings, load_bundled

YOLOV8, FIXED_ULTRALYTICS, TRAINER_PLOTS = eras.ERAS


def with_eras(*changed):
    return lambda monkeypatch: monkeypatch.setattr(eras, "ERAS", changed)


def with_fixed_plots(*names):
    return lambda monkeypatch: monkeypatch.setattr(eras, "FIXED_PLOT_FILES", names)


RULE_CHANGES = {
    "default name before 8.3.9 becomes Ultralytics": (
        with_eras(replace(YOLOV8, default_name="Ultralytics"), FIXED_ULTRALYTICS, TRAINER_PLOTS),
        {"ultralytics-8.1.47", "ultralytics-8.3.8"},
    ),
    "default name Ultralytics from 8.3.162 instead of 8.3.9": (
        with_eras(YOLOV8, replace(FIXED_ULTRALYTICS, first="8.3.162"), TRAINER_PLOTS),
        {"ultralytics-8.3.161"},
    ),
    "fixed plot list without results.png": (
        with_fixed_plots(*(name for name in eras.FIXED_PLOT_FILES if name != "results.png")),
        {"ultralytics-8.1.47", "ultralytics-8.3.8", "ultralytics-8.3.161", "ultralytics-8.3.234"},
    ),
    "fixed plot list without the curves": (
        with_fixed_plots(*(name for name in eras.FIXED_PLOT_FILES if not name.endswith("_curve.png"))),
        {"ultralytics-8.3.161"},
    ),
    "plots from the trainer from 8.4.0 instead of 8.3.235": (
        with_eras(YOLOV8, FIXED_ULTRALYTICS, replace(TRAINER_PLOTS, first="8.4.0")),
        {"ultralytics-8.3.253"},
    ),
}


@pytest.fixture(autouse=True)
def fresh_era_lookup():
    eras.era_for.cache_clear()
    yield
    eras.era_for.cache_clear()


def fails(name: str, workdir) -> bool:
    """Whether our module's trace on the recording differs from its golden trace."""
    return not parity.check_against_golden(load_bundled(name), workdir / name).passed


def failing_recordings(workdir) -> set:
    return {name for name in bundled_recordings() if fails(name, workdir)}


@pytest.mark.parametrize("rule", list(RULE_CHANGES))
def test_changing_one_era_rule_fails_exactly_the_releases_it_governs(rule, monkeypatch, tmp_path):
    change, affected = RULE_CHANGES[rule]
    change(monkeypatch)
    assert failing_recordings(tmp_path) == affected
