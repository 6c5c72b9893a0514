"""Contract tests: every rule of the fake client, run through the real ``neptune`` client in offline mode too.

Each script makes the same calls on a fake run and on a real offline run; the real run is read back from disk and
both must have received the same operations, and each call must have failed (or not) the same way.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

neptune = pytest.importorskip("neptune", reason="the contract tests need the real neptune client (test extra)")
torch = pytest.importorskip("torch")

from ultralytics_neptune.offline import read_offline_run, read_offline_runs  # noqa: E402
from ultralytics_neptune.trace import Trace, diff_traces  # noqa: E402
from ultralytics_neptune.verification.fake import FakeNeptune  # noqa: E402
from ultralytics_neptune.verification.fake import File as FakeFile  # noqa: E402

QUIET = {
    "capture_stdout": False,
    "capture_stderr": False,
    "capture_hardware_metrics": False,
    "source_files": [],
    "git_ref": False,
}


def outcome_of(call) -> str:
    try:
        call()
    except Exception as error:
        return type(error).__name__
    return "ok"


def run_on_both(script, tmp_path, monkeypatch, **init_kwargs):
    """Run script(run, File, files) on the real offline client and on the fake; return both traces and outcomes."""
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    monkeypatch.setenv("NEPTUNE_DATA_DIRECTORY", str(tmp_path / ".neptune"))
    monkeypatch.chdir(tmp_path)
    real_run = neptune.init_run(mode="offline", **QUIET, **init_kwargs)
    real_outcomes = [outcome_of(lambda call=call: call(real_run, neptune.types.File, files)) for call in script]
    real_run.stop()
    (offline_run,) = read_offline_runs(tmp_path / ".neptune")
    fake = FakeNeptune()
    fake_run = fake.init_run(mode="offline", **QUIET, **init_kwargs)
    fake_outcomes = [outcome_of(lambda call=call: call(fake_run, FakeFile, files)) for call in script]
    fake_trace = Trace.from_run(fake_run)
    return offline_run, fake_trace, real_outcomes, fake_outcomes


def assert_same_behaviour(script, tmp_path, monkeypatch, **init_kwargs):
    offline_run, fake_trace, real_outcomes, fake_outcomes = run_on_both(script, tmp_path, monkeypatch, **init_kwargs)
    assert offline_run.problems == []
    assert fake_outcomes == real_outcomes
    differences = diff_traces(offline_run.trace, Trace(offline_run.trace.init_run, fake_trace.operations))
    assert differences == [], "\n".join(differences)
    return offline_run


def append(path, value, **kwargs):
    return lambda run, File, files: run[path].append(value, **kwargs)


def extend(path, values, **kwargs):
    return lambda run, File, files: run[path].extend(values, **kwargs)


def assign(path, value):
    def call(run, File, files):
        run[path] = value

    return call


def test_scalars_are_float_series_with_the_steps_given(tmp_path, monkeypatch):
    script = [
        append("train/loss", 1.5, step=1),
        append("train/loss", 2, step=2),
        append("train/loss", 0.25, step=2.5),
        append("train/loss", True, step=3),
        append("lr/pg0", 0.001),
    ]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert offline_run.series()["train/loss"] == [(1, 1.5), (2, 2.0), (2.5, 0.25), (3, 1.0)]


def test_a_step_must_be_a_python_int_or_float(tmp_path, monkeypatch):
    script = [append("m", 1.0, step=np.int64(1)), append("m", 1.0, step="1"), append("m", 1.0, step=1)]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_non_increasing_steps_are_not_checked_by_the_client(tmp_path, monkeypatch):
    script = [append("m", 1.0, step=3), append("m", 2.0, step=3), append("m", 3.0, step=1)]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert [step for step, _ in offline_run.series()["m"]] == [3, 3, 1]


def test_python_float_nan_and_inf_are_dropped_from_series(tmp_path, monkeypatch):
    script = [append("m", v, step=i) for i, v in enumerate([float("nan"), math.inf, -math.inf, np.float64("nan"), 1.0])]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert offline_run.series()["m"] == [(4, 1.0)]


def test_numpy_float32_and_torch_nan_are_not_filtered(tmp_path, monkeypatch):
    script = [append("m", np.float32("nan"), step=1), append("t", torch.tensor(float("nan")), step=1)]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert math.isnan(offline_run.series()["m"][0][1]) and math.isnan(offline_run.series()["t"][0][1])


def test_numpy_and_torch_scalars_are_logged_as_floats(tmp_path, monkeypatch):
    script = [
        append("a", np.float32(0.5), step=1),
        append("b", np.int64(3), step=1),
        append("c", torch.tensor(0.25), step=1),
        assign("d", np.float32(0.5)),
        assign("e", np.int64(7)),
        assign("f", torch.tensor(2.0)),
        assign("g", np.float64(0.125)),
    ]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_extending_by_one_value_is_the_operation_appending_it_makes(tmp_path, monkeypatch):
    script = [
        append("m", 1.5, step=1),
        extend("m", [2.5], steps=[2]),
        extend("n", [0.5], steps=[1]),
        append("n", 1, step=2),
    ]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert offline_run.series()["m"] == [(1, 1.5), (2, 2.5)]


def test_extending_by_several_values_is_one_operation(tmp_path, monkeypatch):
    script = [extend("m", [1.0, 2.0, 3.0], steps=[1, 2, 3]), extend("notes", ["a", "b"], steps=[1, 2])]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert [len(op["values"]) for op in offline_run.trace.operations if op["path"] == ["m"]] == [3]


def test_extend_needs_a_collection_and_one_step_per_value(tmp_path, monkeypatch):
    script = [
        extend("m", 1.0, steps=[1]),
        extend("m", [1.0, 2.0], steps=[1]),
        extend("m", [1.0], steps=[1], timestamps=[1.0, 2.0]),
        extend("m", [1.0], steps=["1"]),
        extend("m", [1.0], steps=[1]),
    ]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_extend_drops_python_float_nan_and_inf_as_append_does(tmp_path, monkeypatch):
    script = [extend("m", [1.0, float("nan"), math.inf, 2.0], steps=[1, 2, 3, 4]), extend("m", [math.nan], steps=[5])]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert offline_run.series()["m"] == [(1, 1.0), (4, 2.0)]


def test_strings_are_string_series_when_appended_and_strings_when_assigned(tmp_path, monkeypatch):
    script = [append("notes", "first", step=1), append("notes", "second", step=2), assign("s", "x" * 20000)]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert len(offline_run.atoms()["s"]) == 16384


def test_a_dict_is_flattened_and_unsupported_values_are_dropped(tmp_path, monkeypatch):
    hyperparameters = {
        "epochs": 3,
        "lr0": 0.01,
        "amp": False,
        "name": "train",
        "empty": "",
        "none": None,
        "list": [1, 2],
        "tuple": (1, 2),
        "path": Path("runs/detect"),
        "nested": {"deep": {"value": 1.5}, "none": None},
        "model/parameters": 3,
        "speed(ms)": 4.1,
        "": "empty key",
    }
    offline_run = assert_same_behaviour(
        [assign("Configuration/Hyperparameters", hyperparameters)], tmp_path, monkeypatch
    )
    atoms = offline_run.atoms()
    assert atoms["Configuration/Hyperparameters/nested/deep/value"] == 1.5
    assert atoms["Configuration/Hyperparameters/model/parameters"] == 3
    assert not any(key.endswith(("none", "list", "tuple", "path")) for key in atoms)


def test_assigning_nan_or_a_huge_int_is_skipped(tmp_path, monkeypatch):
    script = [assign("nan", float("nan")), assign("inf", math.inf), assign("big", 2**40), assign("ok", 2**31 - 1)]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert set(offline_run.atoms()) >= {"ok"} and not {"nan", "inf", "big"} & set(offline_run.atoms())


def test_a_namespace_assigned_twice_updates_its_fields(tmp_path, monkeypatch):
    script = [assign("Configuration/Model", {"a": 1, "b": 2.5}), assign("Configuration/Model", {"a": 2, "b": 3})]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert offline_run.atoms()["Configuration/Model/b"] == 3.0


def test_a_field_keeps_its_type(tmp_path, monkeypatch):
    script = [
        assign("f", 1.5),
        assign("f", 2),
        assign("i", 1),
        append("i", 2, step=1),
        append("series", 1.0, step=1),
        assign("series", 2.0),
        assign("s", "text"),
        assign("s", 3),
    ]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_fields_and_namespaces_never_overlap(tmp_path, monkeypatch):
    def upload_to_namespace(run, File, files):
        run["a"].upload(File(str(files / "x.jpg")))

    script = [
        assign("x", 1),
        assign("x/y", 2),
        append("a/b", 1.0, step=1),
        append("a", 1.0, step=1),
        assign("a", 1.0),
        upload_to_namespace,
        append("x", {"y": 1.0}, step=1),
    ]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_keys_are_split_on_slashes_only(tmp_path, monkeypatch):
    script = [append("metrics/mAP50-95(B)", 0.5, step=1), append("a//b/", 1.0, step=1), assign("x.y z", 1)]
    offline_run = assert_same_behaviour(script, tmp_path, monkeypatch)
    assert set(offline_run.series()) == {"metrics/mAP50-95(B)", "a/b"}


def test_a_dict_appended_becomes_one_series_per_key(tmp_path, monkeypatch):
    assert_same_behaviour([append("val", {"box": 1.0, "cls": 2.0}, step=1)], tmp_path, monkeypatch)


def test_unsupported_values_appended_are_dropped(tmp_path, monkeypatch):
    assert_same_behaviour([append("n", None, step=1), append("p", Path("x"), step=1)], tmp_path, monkeypatch)


def test_none_appended_to_an_existing_series_is_an_error(tmp_path, monkeypatch):
    script = [
        append("m", 1.0, step=1),
        append("m", None, step=2),
        append("m", "text", step=3),
        append("m", 2.0, step=4),
    ]
    assert_same_behaviour(script, tmp_path, monkeypatch)


def test_files_are_uploaded_by_path_and_a_missing_file_is_no_error_offline(tmp_path, monkeypatch):
    def write_and_upload(run, File, files):
        (files / "train_batch0.jpg").write_bytes(b"jpeg bytes")
        run["Mosaic/train_batch0"].upload(File(str(files / "train_batch0.jpg")))

    def upload_missing(run, File, files):
        run["weights/train/best.pt"].upload(File(str(files / "missing.pt")))

    def upload_plain_string(run, File, files):
        (files / "results.csv").write_text("a,b\n")
        run["results"].upload(str(files / "results.csv"))

    offline_run = assert_same_behaviour([write_and_upload, upload_missing, upload_plain_string], tmp_path, monkeypatch)
    uploads = offline_run.uploads()
    assert uploads["weights/train/best.pt"]["content"] == {"missing": True, "error": "FileNotFoundError"}
    assert uploads["Mosaic/train_batch0"]["ext"] == "jpg"


def test_a_path_object_is_refused_where_a_string_is_needed(tmp_path, monkeypatch):
    def file_of_path(run, File, files):
        run["a"].upload(File(files / "x.jpg"))

    def upload_of_path(run, File, files):
        run["b"].upload(files / "x.jpg")

    def upload_of_array(run, File, files):
        run["c"].upload(np.zeros((2, 2)))

    assert_same_behaviour([file_of_path, upload_of_path, upload_of_array], tmp_path, monkeypatch)


def test_figures_and_images_are_rendered_to_png_at_upload(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from PIL import Image

    def upload_figure(run, File, files):
        figure = plt.figure()
        figure.add_axes([0, 0, 1, 1], frameon=False, xticks=[], yticks=[]).imshow(np.arange(64).reshape(8, 8))
        run["Plots/figure"].upload(figure)
        plt.close(figure)

    def upload_pil(run, File, files):
        run["Plots/pil"].upload(Image.new("RGB", (32, 16), (10, 200, 30)))

    offline_run = assert_same_behaviour([upload_figure, upload_pil], tmp_path, monkeypatch)
    assert offline_run.uploads()["Plots/pil"]["content"]["image"]["width"] == 32


def test_tags_given_at_start_or_added_later(tmp_path, monkeypatch):
    def add_tags(run, File, files):
        run["sys/tags"].add(["extra", "more"])

    assert_same_behaviour([add_tags], tmp_path, monkeypatch, tags=["Ultralytics"], name="train")


def test_nothing_can_be_logged_after_stop(tmp_path, monkeypatch):
    def stop_then_log(run, File, files):
        run.stop()
        run["late"].append(1.0, step=1)

    assert_same_behaviour([append("early", 1.0, step=1), stop_then_log], tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "arguments",
    [
        {"mode": "bogus"},
        {"mode": "offline", "name": 3},
        {"mode": "offline", "tags": ["a", 1]},
        {"mode": "offline", "tags": "one"},
        {"mode": "offline", "unknown_option": 1},
        {"mode": "offline", "capture_stdout": "yes"},
        {"mode": "async", "project": "workspace/project"},
        {"mode": "offline", "project": "Ultralytics"},
        {"mode": "debug"},
    ],
)
def test_init_run_accepts_and_refuses_the_same_arguments(arguments, tmp_path, monkeypatch):
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)
    monkeypatch.setenv("NEPTUNE_DATA_DIRECTORY", str(tmp_path / ".neptune"))
    quiet = {key: value for key, value in QUIET.items() if key not in arguments}

    def start(init_run):
        run = init_run(**quiet, **arguments)
        run.stop()

    assert outcome_of(lambda: start(FakeNeptune().init_run)) == outcome_of(lambda: start(neptune.init_run))


def test_the_run_start_operations_match(tmp_path, monkeypatch):
    offline_run = assert_same_behaviour([], tmp_path, monkeypatch, name="train", description="d", tags="solo")
    assert offline_run.atoms()["sys/name"] == "train"


def test_the_reader_reports_a_truncated_last_line_and_keeps_the_rest(tmp_path, monkeypatch):
    offline_run, *_ = run_on_both([append("m", 1.0, step=1), append("m", 2.0, step=2)], tmp_path, monkeypatch)
    log = offline_run.folder / "data-1.log"
    log.write_bytes(log.read_bytes().rstrip(b"\n")[:-15])
    reread = read_offline_run(offline_run.folder)
    assert reread.series()["m"] == [(1, 1.0)]
    assert len(reread.problems) == 1 and "last line" in reread.problems[0] and "truncated" in reread.problems[0]
