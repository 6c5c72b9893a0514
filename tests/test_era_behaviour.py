"""Each era's distinguishing behaviour as a named test: our module replaying real trainings of the releases where
what reaches Neptune changed, and the same training replayed as the neighbouring release (REFERENCE sections 1
and 2). The parity tests prove each of these traces equals the upstream module's."""

import pytest

from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import load_bundled

CURVES = {"F1_curve", "PR_curve", "P_curve", "R_curve"}
RENAMED_CURVES = {f"Box{curve}" for curve in CURVES}


@pytest.fixture(scope="module")
def replays(tmp_path_factory):
    """our(name, as_release=None) -> the trace of our module on a bundled recording, replayed once per module."""
    workdir = tmp_path_factory.mktemp("replays")
    cache = {}

    def our(name, as_release=None):
        if (name, as_release) not in cache:
            cache[name, as_release] = parity.our_trace(load_bundled(name), workdir, version=as_release)
        return cache[name, as_release]

    return our


def plots(trace) -> set:
    return {op["path"][1] for op in trace.operations if op["path"][0] == "Plots"}


def steps(trace, field: str) -> list:
    return [value["step"] for op in trace.by_field()[field] for value in op["values"]]


@pytest.mark.parametrize("version", ["8.1.47", "8.3.8"])
def test_the_yolov8_era_opens_the_run_in_project_yolov8_with_the_tag_yolov8(replays, version):
    init_run = replays(f"ultralytics-{version}").init_run
    assert (init_run["project"], init_run["tags"]) == ("YOLOv8", ["YOLOv8"])


def test_from_8_3_9_the_same_training_opens_the_run_in_project_ultralytics_and_nothing_else_changes(replays):
    as_8_3_8, as_8_3_9 = replays("ultralytics-8.3.8"), replays("ultralytics-8.3.8", as_release="8.3.9")
    tags_8_3_8, tags_8_3_9 = as_8_3_8.by_field()["sys/tags"], as_8_3_9.by_field()["sys/tags"]
    assert [op["values"] for op in tags_8_3_8] == [["YOLOv8"]]
    assert [op["values"] for op in tags_8_3_9] == [["Ultralytics"]]
    same_tags = Trace(as_8_3_9.init_run, [tags_8_3_8[0] if op in tags_8_3_9 else op for op in as_8_3_9.operations])
    assert diff_traces(as_8_3_8, same_tags) == [
        "init_run project: expected 'YOLOv8', got 'Ultralytics'",
        "init_run tags: expected ['YOLOv8'], got ['Ultralytics']",
    ]


@pytest.mark.parametrize("version", ["8.3.161", "8.3.234", "8.3.253", "8.4.131", "8.4.190"])
def test_from_8_3_9_on_the_run_opens_in_project_ultralytics_with_the_tag_ultralytics(replays, version):
    init_run = replays(f"ultralytics-{version}").init_run
    assert (init_run["project"], init_run["tags"]) == ("Ultralytics", ["Ultralytics"])


def test_the_fixed_plot_list_uploads_the_curves_while_they_have_their_old_names(replays):
    assert (
        plots(replays("ultralytics-8.3.161")) == {"results", "confusion_matrix", "confusion_matrix_normalized"} | CURVES
    )


def test_the_fixed_plot_list_uploads_no_curves_once_they_are_renamed(replays):
    assert plots(replays("ultralytics-8.3.234")) == {"results", "confusion_matrix", "confusion_matrix_normalized"}


def test_the_yolov8_era_uploads_the_fixed_plot_list(replays):
    assert plots(replays("ultralytics-8.1.47")) == {"results", "confusion_matrix", "confusion_matrix_normalized"}


def test_from_8_3_235_the_same_training_uploads_the_plots_the_trainer_and_validator_registered(replays):
    fixed, registered = replays("ultralytics-8.3.234"), replays("ultralytics-8.3.234", as_release="8.3.235")
    assert plots(fixed) == {"results", "confusion_matrix", "confusion_matrix_normalized"}
    assert plots(registered) == plots(fixed) | RENAMED_CURVES | {"labels"}
    assert all(line.startswith("Plots/") for line in diff_traces(fixed, registered))


def test_plots_from_the_trainer_never_include_batch_images(replays):
    for name in ("ultralytics-8.3.253", "ultralytics-8.4.131", "ultralytics-8.4.190"):
        assert not any("batch" in plot for plot in plots(replays(name)))


def test_while_the_validator_deduplicates_plots_the_raw_confusion_matrix_is_not_uploaded(replays):
    for name in ("ultralytics-8.3.253", "ultralytics-8.4.51"):
        assert plots(replays(name)) == {"results", "labels", "confusion_matrix_normalized"} | RENAMED_CURVES


def test_once_deduplication_is_gone_the_raw_confusion_matrix_is_uploaded_again(replays):
    assert "confusion_matrix" in plots(replays("ultralytics-8.4.131"))


@pytest.mark.parametrize("version", ["8.1.47", "8.3.8", "8.3.161", "8.3.234", "8.3.253", "8.4.51"])
def test_until_8_4_51_the_final_evaluation_logs_its_metrics_at_step_e_again(replays, version):
    assert steps(replays(f"ultralytics-{version}"), "metrics/mAP50(B)") == [1, 2, 3, 3]


@pytest.mark.parametrize("version", ["8.4.131", "8.4.190"])
def test_from_8_4_52_the_final_evaluation_logs_its_metrics_at_step_e_plus_one(replays, version):
    assert steps(replays(f"ultralytics-{version}"), "metrics/mAP50(B)") == [1, 2, 3, 4]


def test_releases_without_an_upstream_module_log_what_8_4_131_logged(replays):
    assert diff_traces(replays("ultralytics-8.4.190", as_release="8.4.131"), replays("ultralytics-8.4.190")) == []
