"""The golden traces pin every era rule: changing one rule of the era table fails exactly the recorded releases the
rule governs, and no other."""

import pytest

from ultralytics_neptune.registration import parity_module
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import bundled_recordings, load_bundled

YOLOV8, FIXED_ULTRALYTICS, TRAINER_PLOTS = parity_module().ERAS
FIXED_PLOTS = parity_module().FIXED_PLOTS


def replace(era: tuple, first=None, default_name=None) -> tuple:
    return (first or era[0], default_name or era[1], era[2])


def changing(name: str, value):
    """Make the parity suite load copies of our module with one table changed."""

    def change(monkeypatch):
        load_our_module = parity.load_our_module

        def changed_module():
            module = load_our_module()
            setattr(module, name, value)
            return module

        monkeypatch.setattr(parity, "load_our_module", changed_module)

    return change


def with_eras(*changed):
    return changing("ERAS", changed)


def with_fixed_plots(*names):
    return changing("FIXED_PLOTS", names)


RULE_CHANGES = {
    "default name before 8.3.9 becomes Ultralytics": (
        with_eras(replace(YOLOV8, default_name="Ultralytics"), FIXED_ULTRALYTICS, TRAINER_PLOTS),
        {"ultralytics-8.1.47", "ultralytics-8.3.8"},
    ),
    "default name Ultralytics from 8.3.162 instead of 8.3.9": (
        with_eras(YOLOV8, replace(FIXED_ULTRALYTICS, first=(8, 3, 162)), TRAINER_PLOTS),
        {"ultralytics-8.3.161"},
    ),
    "fixed plot list without results.png": (
        with_fixed_plots(*(name for name in FIXED_PLOTS if name != "results.png")),
        {"ultralytics-8.1.47", "ultralytics-8.3.8", "ultralytics-8.3.161", "ultralytics-8.3.234"},
    ),
    "fixed plot list without the curves": (
        with_fixed_plots(*(name for name in FIXED_PLOTS if not name.endswith("_curve.png"))),
        {"ultralytics-8.3.161"},
    ),
    "plots from the trainer from 8.4.0 instead of 8.3.235": (
        with_eras(YOLOV8, FIXED_ULTRALYTICS, replace(TRAINER_PLOTS, first=(8, 4, 0))),
        {"ultralytics-8.3.253"},
    ),
}


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
