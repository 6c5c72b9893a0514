"""The parity suite: our callbacks log what the upstream callback logged, recording by recording, for every task."""

import pytest

from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.trace import Trace, TraceMismatch, assert_traces_equal, diff_traces
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import bundled_recordings, load_bundled, recording_name

RECORDINGS = list(bundled_recordings())


def test_every_task_of_the_latest_and_the_last_upstream_release_is_bundled():
    expected = {recording_name(version, task) for version in ("8.4.131", "8.4.190") for task in TASKS}
    assert expected <= set(RECORDINGS)


@pytest.mark.parametrize("name", RECORDINGS)
def test_our_trace_equals_the_golden_trace_of_the_upstream_module(name, replays):
    recording = load_bundled(name)
    result = parity.compare(parity.load_golden(recording), replays.ours(name), name, "golden trace")
    assert result.passed, "\n".join(result.differences)
    assert result.notes == []  # nothing left uncompared


@pytest.mark.parametrize("name", RECORDINGS)
def test_our_trace_equals_the_live_upstream_module(name, replays):
    recording = load_bundled(name)
    if parity.upstream_module_path() is None:
        pytest.skip(
            f"Ultralytics {parity.installed_ultralytics()} ships no Neptune callback; the golden trace is the reference"
        )
    if not parity.upstream_applies(recording):
        pytest.skip(
            f"the installed upstream module ({parity.installed_ultralytics()}) is not the reference of "
            f"{recording.name} (that is {parity.golden_source(recording)})"
        )
    result = parity.compare(replays.upstream(name), replays.ours(name), name, "live upstream")
    assert result.passed, "\n".join(result.differences)
    assert result.notes == []  # nothing left uncompared


@pytest.fixture(scope="module")
def golden_131():
    return parity.load_golden(load_bundled("ultralytics-8.4.131"))


def mutated(trace: Trace, change) -> Trace:
    operations = [dict(op) for op in trace.operations]
    change(operations)
    return Trace(trace.init_run, operations, trace.meta)


def test_a_step_off_by_one_fails_the_comparison_and_names_the_field(golden_131):
    def shift_first_step(operations):
        index = next(i for i, op in enumerate(operations) if op["type"] == "LogFloats")
        value = dict(operations[index]["values"][0])
        value["step"] += 1
        operations[index] = {**operations[index], "values": [value]}

    wrong = mutated(golden_131, shift_first_step)
    with pytest.raises(
        TraceMismatch,
        match=r"train/box_loss \(operation 1 of \d+\): expected LogFloats\(value=.*step=1\), got LogFloats\(.*step=2\)",
    ):
        assert_traces_equal(golden_131, wrong)


def test_a_missing_mosaic_upload_fails_the_comparison(golden_131):
    def drop_a_mosaic(operations):
        operations.remove(next(op for op in operations if op["path"][0] == "Mosaic"))

    differences = diff_traces(golden_131, mutated(golden_131, drop_a_mosaic))
    assert len(differences) == 1
    assert differences[0].startswith("Mosaic/train_batch") and differences[0].endswith("got nothing")


def test_a_different_upload_content_fails_the_comparison(golden_131):
    def change_weights(operations):
        index = next(i for i, op in enumerate(operations) if op["path"][0] == "weights")
        operations[index] = {**operations[index], "content": {"size": 1, "sha256": "0" * 64}}

    assert diff_traces(golden_131, mutated(golden_131, change_weights))


def test_a_different_project_fails_the_comparison(golden_131):
    wrong = Trace({**golden_131.init_run, "project": "runs"}, golden_131.operations, golden_131.meta)
    assert diff_traces(golden_131, wrong) == ["init_run project: expected 'Ultralytics', got 'runs'"]


def test_uploads_may_come_in_any_order_between_fields(golden_131):
    def reorder_fields(operations):
        operations.sort(key=lambda op: list(reversed(op["path"])))  # stable: each field keeps its own order

    assert diff_traces(golden_131, mutated(golden_131, reorder_fields)) == []


def test_a_callback_with_a_step_off_by_one_fails_the_parity_suite(tmp_path, broken_step):
    result = parity.check_against_golden(load_bundled("ultralytics-8.4.131"), tmp_path)
    assert not result.passed
    assert any(line.startswith("metrics/mAP50(B)") for line in result.differences)


def drawn_by(trace: Trace, matplotlib: str) -> Trace:
    return Trace(trace.init_run, trace.operations, {**trace.meta, "matplotlib": matplotlib})


def test_a_reference_drawn_by_another_matplotlib_fails_the_comparison(golden_131):
    result = parity.compare(drawn_by(golden_131, "0.0.1"), golden_131, "ultralytics-8.4.131", "golden trace")
    assert not result.passed
    assert result.differences[0].startswith("figure pixels cannot be compared: the reference was drawn with ")


def test_the_pixels_are_left_uncompared_only_when_the_caller_asks_and_the_result_says_so(golden_131):
    other = drawn_by(golden_131, "0.0.1")
    result = parity.compare(other, golden_131, "ultralytics-8.4.131", "golden trace", allow_other_matplotlib=True)
    assert result.passed
    assert result.notes[0].startswith("figure pixels not compared: the reference was drawn with matplotlib 0.0.1")


def test_a_figure_drawn_otherwise_fails_the_comparison(golden_131):
    def redraw_a_plot(operations):
        index = next(i for i, op in enumerate(operations) if op["path"][0] == "Plots")
        image = {**operations[index]["content"]["image"], "pixels_sha256": "0" * 64}
        operations[index] = {**operations[index], "content": {**operations[index]["content"], "image": image}}

    result = parity.compare(golden_131, mutated(golden_131, redraw_a_plot), "ultralytics-8.4.131", "golden trace")
    assert len(result.differences) == 1 and result.differences[0].startswith("Plots/")
