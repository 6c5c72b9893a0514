"""Extended mode: a strict superset of parity mode that fixes upstream's defects, each shown before and after, on
the recordings of every task."""

from __future__ import annotations

import copy
from pathlib import PurePosixPath

import pytest

from ultralytics_neptune.releases import LAST_UPSTREAM
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.trace import step_violations
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import Recording, bundled_recordings, load_bundled, recording_name

RECORDINGS = list(bundled_recordings())
PLOT_SUFFIXES = (".png", ".jpg", ".jpeg")


def variant(recording: Recording, change) -> Recording:
    """A copy of a recording with change(events) applied, e.g. to replay an older trainer's behaviour."""
    events = copy.deepcopy(recording.events)
    change(events)
    return Recording(meta=dict(recording.meta), events=events)


def both_modes(recording, tmp_path, version=None):
    return (
        parity.our_trace(recording, tmp_path, version=version),
        parity.our_trace(recording, tmp_path, version=version, extended=True),
    )


def field_ops(trace, prefix):
    return {path: ops for path, ops in trace.by_field().items() if path.startswith(prefix)}


def not_a_superset(parity_trace, extended_trace) -> list:
    """Parity operations missing from the extended trace; plots may be files instead of figures, steps may grow."""
    missing = []
    extended_fields = extended_trace.by_field()
    for path, ops in parity_trace.by_field().items():
        got = extended_fields.get(path, [])
        if path.startswith("Plots/"):
            if not got or any(op["type"] != "UploadFile" for op in got):
                missing.append(f"{path}: no upload")
        elif ops[0]["type"] == "LogFloats":
            if [v["value"] for op in ops for v in op["values"]] != [v["value"] for op in got for v in op["values"]]:
                missing.append(f"{path}: values differ")
        elif path.startswith(("sys/", "monitoring/")):
            continue
        elif [{k: v for k, v in op.items() if k != "tmp_file_name"} for op in ops] != got[: len(ops)]:
            missing.append(f"{path}: operations differ")
    return missing


def shared_modes(replays, name: str, as_release: str | None = None) -> tuple:
    return replays.ours(name, as_release), replays.ours(name, as_release, extended=True)


def plots(trace) -> set:
    return {op["path"][1] for op in trace.operations if op["path"][0] == "Plots"}


@pytest.mark.parametrize("name", RECORDINGS)
def test_extended_mode_logs_everything_parity_mode_logs(name, replays):
    parity_trace, extended_trace = shared_modes(replays, name)
    assert not_a_superset(parity_trace, extended_trace) == []
    assert {k: extended_trace.init_run[k] for k in ("project", "name", "tags")} == {
        k: parity_trace.init_run[k] for k in ("project", "name", "tags")
    }


@pytest.mark.parametrize("name", ["ultralytics-8.4.131", "ultralytics-8.4.131-classify"])
def test_the_superset_check_notices_a_missing_operation(name, replays):
    parity_trace, extended_trace = shared_modes(replays, name)
    extended_trace.operations = [op for op in extended_trace.operations if op["path"][0] != "Validation"]
    assert any(line.startswith("Validation/") for line in not_a_superset(parity_trace, extended_trace))


# Fix 1: plots


def plot_images_saved(recording: Recording) -> set:
    """The stems of the images the training left in its run folder, batch images excepted."""
    paths = [PurePosixPath(path) for path in recording.final_files()]
    return {
        path.stem
        for path in paths
        if len(path.parts) == 1 and path.suffix in PLOT_SUFFIXES and "batch" not in path.name
    }


@pytest.mark.parametrize("name", RECORDINGS)
def test_extended_mode_uploads_every_plot_image_the_training_saved(name, replays):
    assert plots(replays.ours(name, extended=True)) == plot_images_saved(load_bundled(name))


def test_parity_redraws_plots_at_low_resolution_and_extended_uploads_the_files(replays):
    parity_trace, extended_trace = shared_modes(replays, "ultralytics-8.4.131")
    redrawn = field_ops(parity_trace, "Plots/results")["Plots/results"][-1]
    uploaded = field_ops(extended_trace, "Plots/results")["Plots/results"][-1]
    assert redrawn["content"]["image"]["width"] < 1000  # a 2400x1200 PNG re-drawn at the figure's size
    assert uploaded["file_path"] == "{save_dir}/results.png" and uploaded["content"]["size"] > 0


def test_extended_mode_leaves_no_figure_open(tmp_path, neptune_fake, neptune_replay):
    import matplotlib.pyplot as plt

    from ultralytics_neptune import neptune_callbacks

    plt.close("all")
    neptune_replay(load_bundled("ultralytics-8.4.131"), neptune_callbacks(extended=True))
    assert plt.get_fignums() == []


def curves(prefix: str) -> set:
    return {f"{prefix}{curve}_curve" for curve in ("F1", "PR", "P", "R")}


LABELS = {"labels", "labels_correlogram"}  # the label statistics plots, never in the fixed list
RAW_MATRIX = {"confusion_matrix"}  # dropped by the validator's de-duplication, 8.3.247 - 8.4.102
#: task -> release -> the plots its training saved that upstream did not upload (what extended mode adds)
MISSED_BY_UPSTREAM = {
    "detect": {
        "8.1.47": LABELS,
        "8.3.8": LABELS,
        "8.3.161": {"labels"},
        "8.3.234": {"labels"} | curves("Box"),  # the fixed list names F1_curve.png, the run saves BoxF1_curve.png
        "8.3.253": RAW_MATRIX,
        "8.4.51": RAW_MATRIX,
        "8.4.131": set(),
        "8.4.190": set(),
    },
    "segment": {
        "8.1.47": LABELS,
        "8.3.8": LABELS,
        "8.3.161": {"labels"} | curves("Mask"),
        "8.3.234": {"labels"} | curves("Box") | curves("Mask"),
        "8.3.253": RAW_MATRIX | curves("Mask"),
        "8.4.51": RAW_MATRIX | curves("Mask"),
        "8.4.131": set(),
        "8.4.190": set(),
    },
    "pose": {
        "8.1.47": LABELS,
        "8.3.8": LABELS,
        "8.3.161": {"labels"} | curves("Pose"),
        "8.3.234": {"labels"} | curves("Box") | curves("Pose"),
        "8.3.253": RAW_MATRIX | curves("Pose"),
        "8.4.51": RAW_MATRIX | curves("Pose"),
        "8.4.131": set(),
        "8.4.190": set(),
    },
    "classify": {
        "8.1.47": set(),
        "8.3.8": set(),
        "8.3.161": set(),
        "8.3.234": set(),
        "8.3.253": RAW_MATRIX,
        "8.4.51": RAW_MATRIX,
        "8.4.131": set(),
        "8.4.190": set(),
    },
    "obb": {
        "8.1.47": LABELS,
        "8.3.8": LABELS,
        "8.3.161": {"labels"},
        "8.3.234": {"labels"} | curves("Box"),
        "8.3.253": RAW_MATRIX,
        "8.4.51": RAW_MATRIX,
        "8.4.131": set(),
        "8.4.190": set(),
    },
}


@pytest.mark.parametrize(
    ("task", "release"), [(task, release) for task, releases in MISSED_BY_UPSTREAM.items() for release in releases]
)
def test_extended_mode_adds_exactly_the_plots_upstream_missed(task, release, replays):
    parity_trace, extended_trace = shared_modes(replays, recording_name(release, task))
    assert plots(extended_trace) - plots(parity_trace) == MISSED_BY_UPSTREAM[task][release]


def test_every_bundled_recording_is_in_the_table_of_missed_plots():
    recordings = bundled_recordings()
    table = {recording_name(release, task) for task, releases in MISSED_BY_UPSTREAM.items() for release in releases}
    assert table == set(recordings)


# Fix 2: project


def with_args_project(events, project):
    for event in events:
        if "args" in event.get("state", {}):
            event["state"]["args"]["project"] = project


def upstream_trace(recording, tmp_path, module_file):
    """The trace of 8.4.131's own module on the recording (its file from the release's wheel)."""
    return parity.released_trace(recording, LAST_UPSTREAM, module_file, tmp_path / "upstream")


def test_parity_sends_the_local_runs_directory_as_project_as_upstream_did(tmp_path, monkeypatch, last_upstream_module):
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    recording = variant(load_bundled("ultralytics-8.4.131"), lambda events: with_args_project(events, "runs/exp"))
    parity_trace = parity.our_trace(recording, tmp_path)
    assert parity_trace.init_run["project"] == "runs/exp"
    assert upstream_trace(recording, tmp_path, last_upstream_module).init_run["project"] == "runs/exp"


def test_extended_mode_does_not_send_the_local_runs_directory_as_project(tmp_path, monkeypatch):
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    recording = variant(load_bundled("ultralytics-8.4.131"), lambda events: with_args_project(events, "runs/exp"))
    assert parity.our_trace(recording, tmp_path, extended=True).init_run["project"] == "Ultralytics"


def test_parity_mode_ignores_neptune_project_as_upstream_did(tmp_path, monkeypatch, last_upstream_module):
    monkeypatch.setenv("NEPTUNE_PROJECT", "team/detection")
    recording = load_bundled("ultralytics-8.4.131")
    assert parity.our_trace(recording, tmp_path).init_run["project"] == "Ultralytics"
    assert upstream_trace(recording, tmp_path, last_upstream_module).init_run["project"] == "Ultralytics"


def test_extended_mode_takes_the_project_from_neptune_project(tmp_path, monkeypatch):
    monkeypatch.setenv("NEPTUNE_PROJECT", "team/detection")
    extended_trace = parity.our_trace(load_bundled("ultralytics-8.4.131"), tmp_path, extended=True)
    assert extended_trace.init_run["project"] == "team/detection"


def test_an_explicit_project_wins_over_neptune_project(neptune_fake, neptune_replay, monkeypatch):
    from ultralytics_neptune import neptune_callbacks

    monkeypatch.setenv("NEPTUNE_PROJECT", "team/detection")
    neptune_replay(load_bundled("ultralytics-8.4.131"), neptune_callbacks(extended=True, project="me/mine"))
    assert neptune_fake.last_run.init_kwargs["project"] == "me/mine"


# Fix 3: final evaluation step


@pytest.mark.parametrize("task", TASKS)
def test_before_8_4_52_parity_repeats_the_last_step_and_extended_mode_moves_past_it(task, replays):
    """Before 8.4.52 the final evaluation's fit_epoch_end ran with the last epoch's number."""
    parity_trace, extended_trace = shared_modes(replays, recording_name("8.4.51", task))
    assert any(line.startswith("metrics/") for line in step_violations(parity_trace))
    assert step_violations(extended_trace) == []
    metric = sorted(field for field in extended_trace.by_field() if field.startswith("metrics/"))[0]
    assert [v["step"] for op in extended_trace.by_field()[metric] for v in op["values"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("name", RECORDINGS)
def test_extended_steps_always_increase(name, replays):
    assert step_violations(replays.ours(name, extended=True)) == []


# Fix 5: the run is stopped


def test_extended_mode_stops_the_run_at_train_end(neptune_fake, neptune_replay):
    from ultralytics_neptune import neptune_callbacks

    neptune_replay(load_bundled("ultralytics-8.4.131"), neptune_callbacks(extended=True))
    assert neptune_fake.last_run.stopped


def test_a_late_val_end_after_the_run_stopped_is_harmless(neptune_fake, neptune_replay):
    from ultralytics_neptune import neptune_callbacks

    registered = neptune_callbacks(extended=True)
    trainer = neptune_replay(load_bundled("ultralytics-8.4.131"), registered)
    operations = len(neptune_fake.last_run.operations)
    registered["on_val_end"][0](trainer.validator)
    assert len(neptune_fake.last_run.operations) == operations


def test_parity_mode_stops_its_run_at_teardown(neptune_fake, neptune_replay, parity_logger, parity_callbacks):
    """The contributed module stops its run at teardown (upstream left it to the client's exit handler: below)."""
    neptune_replay(load_bundled("ultralytics-8.4.131"), parity_callbacks)
    assert neptune_fake.last_run.stopped and parity_logger.run is None


def test_upstream_left_its_run_open_after_the_training(neptune_fake, neptune_replay, upstream_callbacks):
    neptune_replay(load_bundled("ultralytics-8.4.131"), upstream_callbacks())
    assert len(neptune_fake.runs) == 1 and not neptune_fake.last_run.stopped


def until(recording: Recording, event_name: str, occurrence: int) -> Recording:
    """The recording cut after the n-th event of that name: a training that ended there."""
    seen, cut = 0, len(recording.events)
    for index, event in enumerate(recording.events):
        seen += event["event"] == event_name
        if seen == occurrence:
            cut = index + 1
            break
    return Recording(meta=dict(recording.meta), events=recording.events[:cut])


def test_a_training_that_ends_by_an_exception_stops_its_run_as_failed(neptune_fake, neptune_replay):
    from ultralytics_neptune import neptune_callbacks

    trainer = neptune_replay(
        until(load_bundled("ultralytics-8.4.131"), "on_fit_epoch_end", 2), neptune_callbacks(extended=True)
    )
    trainer.run_callbacks("teardown")  # what Ultralytics' finally block does when the exception passes
    run = neptune_fake.last_run
    assert run.stopped
    assert run.operations[-1] == {"type": "AssignBool", "path": ["sys", "failed"], "value": True}


# Fix 6 and 7: defaults and versions


def test_extended_mode_turns_console_capture_off_unless_asked(neptune_fake, neptune_replay):
    from ultralytics_neptune import neptune_callbacks

    neptune_replay(load_bundled("ultralytics-8.4.131"), neptune_callbacks(extended=True, capture_stderr=True))
    init = neptune_fake.last_run.init_kwargs
    assert (init["capture_stdout"], init["capture_stderr"], init["capture_hardware_metrics"]) == (False, True, True)


def test_the_run_records_the_versions_that_are_installed(replays):
    import ultralytics

    import ultralytics_neptune

    extended_trace = replays.ours("ultralytics-8.3.8", extended=True)
    atoms = {"/".join(op["path"]): op["value"] for op in extended_trace.operations if op["type"].startswith("Assign")}
    assert atoms["Configuration/Versions/ultralytics-neptune"] == ultralytics_neptune.__version__
    assert atoms["Configuration/Versions/ultralytics"] == ultralytics.__version__  # not the release replayed as


def test_the_run_records_the_version_of_the_client_that_logs_it(neptune_fake, neptune_replay, monkeypatch):
    import sys

    from ultralytics_neptune import neptune_callbacks

    monkeypatch.setattr(sys.modules["neptune"], "__version__", "1.2.3-a-client-of-the-test")
    neptune_replay(load_bundled("ultralytics-8.4.131"), neptune_callbacks(extended=True))
    versions = [op for op in neptune_fake.last_run.operations if op["path"] == ["Configuration", "Versions", "neptune"]]
    assert [op["value"] for op in versions] == ["1.2.3-a-client-of-the-test"]


# switching extended mode on


def test_the_environment_variable_switches_extended_mode_on(neptune_fake, neptune_replay, monkeypatch):
    from ultralytics_neptune import neptune_callbacks

    monkeypatch.setenv("ULTRALYTICS_NEPTUNE_EXTENDED", "1")
    registered = neptune_callbacks()
    assert "teardown" in registered
    neptune_replay(load_bundled("ultralytics-8.4.131"), registered)
    assert neptune_fake.last_run.stopped


def test_an_explicit_extended_false_wins_over_the_environment(monkeypatch):
    from ultralytics_neptune import neptune_callbacks
    from ultralytics_neptune.composed import ParityLogger

    monkeypatch.setenv("ULTRALYTICS_NEPTUNE_EXTENDED", "1")
    (train_start,) = neptune_callbacks(extended=False)["on_train_start"]
    assert isinstance(train_start.__self__, ParityLogger)


def test_a_meaningless_environment_value_is_refused_at_registration(monkeypatch):
    from ultralytics_neptune import neptune_callbacks

    monkeypatch.setenv("ULTRALYTICS_NEPTUNE_EXTENDED", "maybe")
    with pytest.raises(ValueError, match="ULTRALYTICS_NEPTUNE_EXTENDED='maybe' means nothing"):
        neptune_callbacks()


def test_extended_must_be_a_bool():
    from ultralytics_neptune import neptune_callbacks

    with pytest.raises(TypeError, match="extended must be True or False"):
        neptune_callbacks(extended="yes")
