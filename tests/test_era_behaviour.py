"""Each era's distinguishing behaviour as a named test: our module replaying real trainings of every task by the
releases where what reaches Neptune changed (REFERENCE sections 1 and 2). The parity tests prove each of these traces
equals the upstream module's. At each era boundary of the module (8.3.9, 8.3.235) the upstream modules of both
neighbouring releases ran on one training (the golden traces of the last release's recordings, and the boundary goldens
of the first release's module on them): what changed is read from upstream's traces, and our module, as each of the
two releases, is compared with each."""

import pytest

from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import MODULE_BOUNDARIES, load_bundled, recording_name

YOLOV8_ERA = ("8.1.47", "8.3.8")
FIXED_PLOT_LIST = (*YOLOV8_ERA, "8.3.161", "8.3.234")
DEDUPLICATING = ("8.3.253", "8.4.51")  # the validator registers one plot per type (8.3.247 - 8.4.102)
LATEST = ("8.4.131", "8.4.190")
MATRIX = (*FIXED_PLOT_LIST, *DEDUPLICATING, *LATEST)
CURVES = {"F1_curve", "PR_curve", "P_curve", "R_curve"}
FIXED_PLOTS = {"results", "confusion_matrix", "confusion_matrix_normalized"}


def curves(prefix: str) -> set:
    return {f"{prefix}{curve}" for curve in CURVES}


@pytest.fixture
def our(replays):
    """our(name, as_release=None) -> the trace of our module on a bundled recording (shared replays)."""
    return replays.ours


def plots(trace) -> set:
    return {op["path"][1] for op in trace.operations if op["path"][0] == "Plots"}


def fields(trace, namespace: str) -> set:
    return {field for field in trace.by_field() if field.startswith(f"{namespace}/")}


def steps(trace, field: str) -> list:
    return [value["step"] for op in trace.by_field()[field] for value in op["values"]]


# The run: project and tags


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", YOLOV8_ERA)
def test_the_yolov8_era_opens_the_run_in_project_yolov8_with_the_tag_yolov8(our, version, task):
    init_run = our(recording_name(version, task)).init_run
    assert (init_run["project"], init_run["tags"]) == ("YOLOv8", ["YOLOv8"])


def upstream_on_both_sides(name: str, after: str) -> tuple:
    """The traces of the upstream modules of the last release before a boundary (its golden trace) and of the first
    release after it (the boundary golden), on the same training, a recording of the release before."""
    recording = load_bundled(name)
    return parity.load_golden(recording), parity.load_boundary_golden(recording, after)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(("before", "after"), MODULE_BOUNDARIES)
def test_on_both_sides_of_a_module_boundary_our_module_logs_what_that_sides_upstream_module_logged(
    our, before, after, task
):
    name = recording_name(before, task)
    upstream_before, upstream_after = upstream_on_both_sides(name, after)
    assert parity.compare(upstream_before, our(name), name, f"upstream {before}").differences == []
    assert parity.compare(upstream_after, our(name, as_release=after), name, f"upstream {after}").differences == []


@pytest.mark.parametrize("task", TASKS)
def test_from_8_3_9_the_same_training_opens_the_run_in_project_ultralytics_and_nothing_else_changes(task):
    as_8_3_8, as_8_3_9 = upstream_on_both_sides(recording_name("8.3.8", task), "8.3.9")
    tags_8_3_8, tags_8_3_9 = as_8_3_8.by_field()["sys/tags"], as_8_3_9.by_field()["sys/tags"]
    assert [op["values"] for op in tags_8_3_8] == [["YOLOv8"]]
    assert [op["values"] for op in tags_8_3_9] == [["Ultralytics"]]
    same_tags = Trace(as_8_3_9.init_run, [tags_8_3_8[0] if op in tags_8_3_9 else op for op in as_8_3_9.operations])
    assert diff_traces(as_8_3_8, same_tags) == [
        "init_run project: expected 'YOLOv8', got 'Ultralytics'",
        "init_run tags: expected ['YOLOv8'], got ['Ultralytics']",
    ]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", MATRIX[2:])
def test_from_8_3_9_on_the_run_opens_in_project_ultralytics_with_the_tag_ultralytics(our, version, task):
    init_run = our(recording_name(version, task)).init_run
    assert (init_run["project"], init_run["tags"]) == ("Ultralytics", ["Ultralytics"])


# Plots: detection, and OBB, which names its curves as detection does


@pytest.mark.parametrize("task", ["detect", "obb"])
def test_the_fixed_plot_list_uploads_the_curves_while_they_have_their_old_names(our, task):
    assert plots(our(recording_name("8.3.161", task))) == FIXED_PLOTS | CURVES


@pytest.mark.parametrize("task", ["detect", "obb"])
def test_the_fixed_plot_list_uploads_no_curves_once_they_are_renamed(our, task):
    assert plots(our(recording_name("8.3.234", task))) == FIXED_PLOTS


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", YOLOV8_ERA)
def test_the_yolov8_era_uploads_the_fixed_plot_list_and_so_no_curve_of_any_task(our, version, task):
    assert plots(our(recording_name(version, task))) == FIXED_PLOTS


def test_from_8_3_235_the_same_training_uploads_the_plots_the_trainer_and_validator_registered():
    fixed, registered = upstream_on_both_sides("ultralytics-8.3.234", "8.3.235")
    assert plots(fixed) == FIXED_PLOTS
    assert plots(registered) == plots(fixed) | curves("Box") | {"labels"}
    assert all(line.startswith("Plots/") for line in diff_traces(fixed, registered))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", (*DEDUPLICATING, *LATEST))
def test_plots_from_the_trainer_never_include_batch_images(our, version, task):
    assert not any("batch" in plot for plot in plots(our(recording_name(version, task))))


@pytest.mark.parametrize("task", ["detect", "obb"])
@pytest.mark.parametrize("version", DEDUPLICATING)
def test_while_the_validator_deduplicates_plots_the_raw_confusion_matrix_is_not_uploaded(our, version, task):
    assert plots(our(recording_name(version, task))) == {"results", "labels", "confusion_matrix_normalized"} | curves(
        "Box"
    )


@pytest.mark.parametrize("task", ["detect", "obb"])
@pytest.mark.parametrize("version", LATEST)
def test_once_deduplication_is_gone_the_raw_confusion_matrix_is_uploaded_again(our, version, task):
    assert plots(our(recording_name(version, task))) == FIXED_PLOTS | {"labels"} | curves("Box")


# Plots: segmentation and pose, whose curves carry their own prefix (Mask, Pose) besides Box


@pytest.mark.parametrize("task", ["segment", "pose"])
@pytest.mark.parametrize("version", FIXED_PLOT_LIST)
def test_the_fixed_plot_list_never_uploads_segmentation_or_pose_curves(our, version, task):
    assert plots(our(recording_name(version, task))) == FIXED_PLOTS


@pytest.mark.parametrize("task", ["segment", "pose"])
@pytest.mark.parametrize("version", DEDUPLICATING)
def test_while_the_validator_deduplicates_plots_only_the_box_curves_of_segmentation_and_pose_are_uploaded(
    our, version, task
):
    assert plots(our(recording_name(version, task))) == {"results", "labels", "confusion_matrix_normalized"} | curves(
        "Box"
    )


@pytest.mark.parametrize(("task", "prefix"), [("segment", "Mask"), ("pose", "Pose")])
@pytest.mark.parametrize("version", LATEST)
def test_once_deduplication_is_gone_the_mask_and_pose_curves_are_uploaded(our, version, task, prefix):
    assert plots(our(recording_name(version, task))) == FIXED_PLOTS | {"labels"} | curves("Box") | curves(prefix)


# Plots: classification, which has no curves and no labels plot


@pytest.mark.parametrize("version", (*FIXED_PLOT_LIST, *LATEST))
def test_classification_uploads_its_results_and_confusion_matrices(our, version):
    assert plots(our(recording_name(version, "classify"))) == FIXED_PLOTS


@pytest.mark.parametrize("version", DEDUPLICATING)
def test_while_the_validator_deduplicates_plots_classification_uploads_no_raw_confusion_matrix(our, version):
    assert plots(our(recording_name(version, "classify"))) == {"results", "confusion_matrix_normalized"}


# Validation images


@pytest.mark.parametrize("version", YOLOV8_ERA)
def test_before_8_3_50_obb_trainings_upload_no_validation_images(our, version):
    """The OBB trainer gave its validator no callbacks until 8.3.50: on_val_end never ran."""
    assert fields(our(recording_name(version, "obb")), "Validation") == set()


@pytest.mark.parametrize(
    ("version", "task"),
    [(version, task) for version in MATRIX for task in TASKS if not (task == "obb" and version in YOLOV8_ERA)],
)
def test_every_other_training_uploads_the_images_of_the_final_evaluation(our, version, task):
    assert fields(our(recording_name(version, task)), "Validation") >= {
        "Validation/val_batch0_labels",
        "Validation/val_batch0_pred",
    }


# Steps


def first_metric(trace) -> str:
    return sorted(fields(trace, "metrics"))[0]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", (*FIXED_PLOT_LIST, *DEDUPLICATING))
def test_until_8_4_51_the_final_evaluation_logs_its_metrics_at_step_e_again(our, version, task):
    trace = our(recording_name(version, task))
    assert steps(trace, first_metric(trace)) == [1, 2, 3, 3]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("version", LATEST)
def test_from_8_4_52_the_final_evaluation_logs_its_metrics_at_step_e_plus_one(our, version, task):
    trace = our(recording_name(version, task))
    assert steps(trace, first_metric(trace)) == [1, 2, 3, 4]


@pytest.mark.parametrize("task", TASKS)
def test_releases_without_an_upstream_module_log_what_the_8_4_131_module_logs_on_their_training(our, task):
    """The golden trace of a training by 8.4.190 was made by running 8.4.131's own module on it
    (test_released_modules.py and the 8.4.131 environment compare it with that module live)."""
    name = recording_name("8.4.190", task)
    golden = parity.load_golden(load_bundled(name))
    assert golden.meta["upstream"] == "8.4.131"
    assert parity.compare(golden, our(name), name, "upstream 8.4.131").differences == []
