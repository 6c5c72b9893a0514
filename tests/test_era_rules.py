"""The golden traces pin every era rule: changing one rule of the era table fails exactly the recordings (releases
and tasks) the rule governs, and no other. The boundary goldens (the last recordings before a boundary of the module,
replayed through the upstream module of the first release after it) pin where each boundary lies: one release late
fails them.

Era rules decide the run's project and tags and which plots are uploaded, never a plot's pixels (test_parity.py
compares those), so here a plot upload counts by its field and the module uploads the plot file instead of re-drawing
it: about 0.3 s saved per plot, on every recording for every rule.
"""

import pytest

from ultralytics_neptune import releases
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import (
    MODULE_BOUNDARIES,
    bundled_recordings,
    load_bundled,
    recording_name,
)

YOLOV8, FIXED_ULTRALYTICS, TRAINER_PLOTS = releases.ERAS
FIXED_PLOTS = releases.FIXED_PLOTS


def replace(era: releases.Era, first=None, default_name=None) -> releases.Era:
    return era._replace(first=first or era.first, default_name=default_name or era.default_name)


def of(*releases: str, tasks=TASKS) -> set:
    """The names of the recordings of these releases and tasks."""
    return {recording_name(release, task) for release in releases for task in tasks}


def as_first_after(before: str, tasks=TASKS) -> set:
    """The names of the boundary replays: the recordings of release before, as the first release after the boundary."""
    [after] = [after for last, after in MODULE_BOUNDARIES if last == before]
    return {f"{recording_name(before, task)}-as-{after}" for task in tasks}


RULE_CHANGES = {  # rule changed: (tables of releases.py changed, the recordings that must fail)
    "none": ({}, set()),
    "default name before 8.3.9 becomes Ultralytics": (
        {"ERAS": (replace(YOLOV8, default_name="Ultralytics"), FIXED_ULTRALYTICS, TRAINER_PLOTS)},
        of("8.1.47", "8.3.8"),
    ),
    "default name Ultralytics from 8.3.162 instead of 8.3.9": (
        {"ERAS": (YOLOV8, replace(FIXED_ULTRALYTICS, first=(8, 3, 162)), TRAINER_PLOTS)},
        of("8.3.161") | as_first_after("8.3.8"),
    ),
    "default name Ultralytics from 8.3.10 instead of 8.3.9": (
        {"ERAS": (YOLOV8, replace(FIXED_ULTRALYTICS, first=(8, 3, 10)), TRAINER_PLOTS)},
        as_first_after("8.3.8"),
    ),
    "plots from the trainer from 8.3.236 instead of 8.3.235": (
        {"ERAS": (YOLOV8, FIXED_ULTRALYTICS, replace(TRAINER_PLOTS, first=(8, 3, 236)))},
        as_first_after("8.3.234", tasks=("detect", "segment", "pose", "obb")),  # classification: the same plots
    ),
    "fixed plot list without results.png": (
        {"FIXED_PLOTS": tuple(name for name in FIXED_PLOTS if name != "results.png")},
        of("8.1.47", "8.3.8", "8.3.161", "8.3.234") | as_first_after("8.3.8"),
    ),
    "fixed plot list without the curves": (
        {"FIXED_PLOTS": tuple(name for name in FIXED_PLOTS if not name.endswith("_curve.png"))},
        of("8.3.161", tasks=("detect", "obb")),  # segmentation and pose curves always had a prefix
    ),
    "plots from the trainer from 8.4.0 instead of 8.3.235": (
        {"ERAS": (YOLOV8, FIXED_ULTRALYTICS, replace(TRAINER_PLOTS, first=(8, 4, 0)))},
        of("8.3.253") | as_first_after("8.3.234", tasks=("detect", "segment", "pose", "obb")),
    ),
}


def plots_by_field(trace: Trace) -> Trace:
    """The trace with each plot upload reduced to its field: which plots were uploaded, not what they show."""
    operations = [{"type": "Plot", "path": op["path"]} if op["path"][0] == "Plots" else op for op in trace.operations]
    return Trace(trace.init_run, operations, trace.meta)


def uploading_plot_files(release: str):
    """Parity mode uploading each plot's file under its field instead of re-drawing it."""
    logger = parity.ParityLogger(release=release)
    module = logger.module
    module._log_plot = lambda title, plot_path: module._log_images({title: str(plot_path)}, "Plots")
    return logger


def failing_recordings(tables: dict, workdir, monkeypatch) -> set:
    """The recordings on which parity mode, with the era tables changed, logs other than its golden trace."""
    for name, value in tables.items():
        monkeypatch.setattr(releases, name, value)
    monkeypatch.setattr(parity, "parity_logger", uploading_plot_files)
    failing = set()
    for name in bundled_recordings():
        recording = load_bundled(name)
        ours = parity.our_trace(recording, workdir / name)
        if diff_traces(plots_by_field(parity.load_golden(recording)), plots_by_field(ours)):
            failing.add(name)
    for before, after in MODULE_BOUNDARIES:
        for task in TASKS:
            recording = load_bundled(recording_name(before, task))
            ours = parity.our_trace(recording, workdir / f"{recording.name}-as-{after}", version=after)
            if diff_traces(plots_by_field(parity.load_boundary_golden(recording, after)), plots_by_field(ours)):
                failing.add(f"{recording.name}-as-{after}")
    return failing


@pytest.mark.parametrize("rule", list(RULE_CHANGES))
def test_changing_one_era_rule_fails_exactly_the_recordings_it_governs(rule, tmp_path, monkeypatch):
    tables, affected = RULE_CHANGES[rule]
    assert failing_recordings(tables, tmp_path, monkeypatch) == affected
