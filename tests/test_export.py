"""``ultralytics-neptune export``: offline Neptune runs into MLflow, read back with MLflow's own client.

Runs are real: the demo's training, the installed Ultralytics release's own callback module replaying a bundled
recording (where the release still has one), and small runs written through the real ``neptune`` client in offline
mode, damaged afterwards where a test needs it. What MLflow holds is compared with what the offline reader sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path
from unittest import mock

import pytest

neptune = pytest.importorskip("neptune", reason="the export tests write runs with the real neptune client (test extra)")
pytest.importorskip("mlflow", reason="the export tests read runs back with MLflow's own client (test extra)")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.utils.validation import _validate_metric_name, _validate_param_name, _validate_tag_name  # noqa: E402
from run_checks import outside_pytest  # noqa: E402
from test_report import PNG_1X1, log_epochs, log_offline_run  # noqa: E402

from ultralytics_neptune.cli import main as cli  # noqa: E402
from ultralytics_neptune.export.names import MAX_NAME, MAX_PARAM_VALUE, mlflow_name  # noqa: E402
from ultralytics_neptune.offline import offline_run_folders, read_offline_run  # noqa: E402
from ultralytics_neptune.trace import image_digest  # noqa: E402

RECORDING = "ultralytics-8.4.131"


# ------------------------------------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """The run folder of ``ultralytics-neptune demo`` (1 epoch), logged as a user's training logs."""
    out = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "ultralytics_neptune", "demo", "--out", str(out), "--epochs", "1"]
    environment = {key: value for key, value in outside_pytest().items() if not key.startswith("NEPTUNE_")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (folder,) = offline_run_folders(out / ".neptune")
    return folder


@pytest.fixture(scope="module")
def upstream_run(tmp_path_factory) -> Path:
    """The run folder the installed Ultralytics' own Neptune callback module wrote through the real client offline
    (client defaults: console and hardware monitoring on), replaying the bundled 8.4.131 training."""
    import ultralytics

    from ultralytics_neptune.verification.parity import closing_new_figures
    from ultralytics_neptune.verification.recording import load_bundled
    from ultralytics_neptune.verification.replay import replay
    from ultralytics_neptune.verification.upstream import load_upstream_module, upstream_module_path

    if upstream_module_path() is None:
        pytest.skip(
            f"Ultralytics {ultralytics.__version__} has no Neptune callback of its own (removed in 8.4.132); "
            "the ultralytics-8.4.131 tox environment runs this test"
        )
    workdir = tmp_path_factory.mktemp("upstream")
    environment = {"NEPTUNE_DATA_DIRECTORY": str(workdir / ".neptune"), "NEPTUNE_MODE": "offline"}
    with mock.patch.dict(os.environ, environment), closing_new_figures():
        module = load_upstream_module()
        replay(load_bundled(RECORDING), module.callbacks, workdir / "save_dir")
        module.run.stop()  # the module leaves its run to the client's exit handler
    (folder,) = offline_run_folders(workdir / ".neptune")
    return folder


@pytest.fixture
def data_directory(tmp_path) -> Path:
    return tmp_path / ".neptune"


def small_training(data_directory: Path) -> Path:
    """Three epochs of a small training: hyperparameters, losses, mAP50(B) and a learning rate per epoch."""
    return log_offline_run(data_directory, log_epochs(3), name="small", tags=["test", "export"])


@pytest.fixture
def small_run(data_directory) -> Path:
    return small_training(data_directory)


@pytest.fixture
def two_runs(data_directory) -> list:
    """Two small runs in data_directory."""
    return [small_training(data_directory), log_offline_run(data_directory, log_epochs(2), name="other")]


@pytest.fixture(scope="module")
def truncated_run(tmp_path_factory) -> Path:
    """A small run with the last line of its operation file cut short, as a crash while writing leaves it."""
    folder = small_training(tmp_path_factory.mktemp("truncated") / ".neptune")
    log = folder / "data-1.log"
    log.write_bytes(log.read_bytes().rstrip(b"\n")[:-20])
    return folder


@pytest.fixture(scope="module")
def empty_run(tmp_path_factory) -> Path:
    return log_offline_run(tmp_path_factory.mktemp("empty") / ".neptune")


@pytest.fixture(scope="module")
def uploads_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
def gone_upload(uploads_folder) -> Path:
    """A picture uploaded by the run of ``missing_upload_run`` and deleted since."""
    return uploads_folder / "gone.png"


@pytest.fixture(scope="module")
def missing_upload_run(uploads_folder, gone_upload) -> Path:
    """A run with two uploaded pictures, a weights file and a figure kept in the run folder; one picture is gone."""
    kept, weights = uploads_folder / "kept.png", uploads_folder / "best.pt"
    for picture in (kept, gone_upload):
        picture.write_bytes(PNG_1X1)
    weights.write_bytes(os.urandom(4096))

    def fill(run):
        log_epochs(2)(run)
        run["Plots/kept"].upload(neptune.types.File(str(kept)))
        run["Plots/gone"].upload(neptune.types.File(str(gone_upload)))
        run["weights/train/best.pt"].upload(neptune.types.File(str(weights)))
        run["Plots/figure"].upload(neptune.types.File.from_content(PNG_1X1, extension="png"))

    folder = log_offline_run(uploads_folder / ".neptune", fill, name="uploads")
    gone_upload.unlink()
    return folder


@pytest.fixture(scope="module")
def large_run(tmp_path_factory) -> Path:
    """A run holding more than one MLflow call takes (100 params, 100 tags, 1000 values in all) and more files than
    one artifact call logs: 150 hyperparameters, 120 other values, 12 series of 100 points, 60 uploaded files."""
    folder = tmp_path_factory.mktemp("large")
    files = []
    for number in range(60):
        files.append(folder / f"file_{number:02d}.bin")
        files[-1].write_bytes(os.urandom(64))

    def fill(run):
        run["Configuration/Hyperparameters"] = {f"option_{number}": number for number in range(150)}
        for number in range(120):
            run[f"info/value_{number}"] = f"value {number}"
        for step in range(1, 101):
            for number in range(12):
                run[f"train/loss_{number}"].append(number + 1 / step, step=step)
        for path in files:
            run[f"Files/{path.stem}"].upload(neptune.types.File(str(path)))

    return log_offline_run(folder / ".neptune", fill, name="large")


# -------------------------------------------------------------------------------------------- the MLflow side


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """A fresh local MLflow store (SQLite, artifacts in its folder's ``mlruns``) shared by the module's tests, each
    exporting into an experiment of its own (creating and migrating a store takes seconds); its tracking URI."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    here = os.getcwd()
    os.chdir(folder)  # MLflow resolves the default artifact root once per store, from the current folder
    try:
        MlflowClient(uri).search_experiments()
    finally:
        os.chdir(here)
    return uri


@pytest.fixture
def experiment(request) -> str:
    """The test's own experiment in the shared store."""
    return request.node.name


def run_export(store: str, experiment: str, *arguments) -> tuple:
    """Run the command into an experiment of the store; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(["export", *map(str, arguments), "--tracking-uri", store, "--experiment", experiment])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def export(store, experiment):
    """export(*paths, *options) runs the command into the test's experiment; returns (exit code, stdout, stderr)."""
    return partial(run_export, store, experiment)


@pytest.fixture
def mlflow_runs(store, experiment):
    """mlflow_runs() lists the active runs of the test's experiment, as MLflow's own client reads them."""

    def runs() -> list:
        client = MlflowClient(store)
        found = client.get_experiment_by_name(experiment)
        return client.search_runs([found.experiment_id]) if found else []

    return runs


@pytest.fixture
def exported_run(mlflow_runs):
    """exported_run(folder) is the MLflow run of an offline run folder."""

    def find(folder: Path):
        run_id = read_offline_run(folder).run_id
        (found,) = [run for run in mlflow_runs() if run.data.tags.get("neptune.run_id") == run_id]
        return found

    return find


def as_text(value) -> str:
    return value if isinstance(value, str) else str(value)


def with_steps(points: list) -> list:
    """Points with a missing step numbered as the Neptune server numbers them (the previous step plus 1)."""
    numbered, last = [], None
    for step, value in points:
        step = step if step is not None else (last + 1 if last is not None else 0)
        numbered.append((step, value))
        last = step
    return numbered


def artifact_files(store: str, mlflow_run, destination: Path) -> dict:
    """{artifact path: file} of every artifact of a run, downloaded through MLflow's client."""
    root = Path(MlflowClient(store).download_artifacts(mlflow_run.info.run_id, "", str(destination)))
    return {path.relative_to(root).as_posix(): path for path in root.rglob("*") if path.is_file()}


def expected_artifact(field: str, upload: dict) -> str:
    ext = upload.get("ext")
    return field if not ext or field.endswith("." + ext) else f"{field}.{ext}"


# ------------------------------------------------------------------------------ what MLflow holds, run by run

KINDS = ["demo_run", "upstream_run", "truncated_run", "empty_run", "missing_upload_run", "large_run"]


@pytest.fixture(scope="module", params=KINDS)
def exported(request, store):
    """(offline run as the reader sees it, the MLflow run read back) of each kind of run, exported once."""
    folder = request.getfixturevalue(request.param)
    code, _, err = run_export(store, request.param, folder)
    assert code == 0, err
    client = MlflowClient(store)
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name(request.param).experiment_id])
    return read_offline_run(folder), mlflow_run


def test_every_param_is_read_back_as_the_reader_sees_it(exported):
    offline, mlflow_run = exported
    expected = {
        mlflow_name(field): as_text(value)
        for field, value in offline.atoms().items()
        if field.startswith("Configuration/")
    }
    assert mlflow_run.data.params == expected


def test_every_metric_point_is_read_back_at_its_step_as_the_reader_sees_it(exported, store):
    offline, mlflow_run = exported
    client = MlflowClient(store)
    expected = {mlflow_name(field): with_steps(points) for field, points in offline.series().items()}
    found = {
        key: [(metric.step, metric.value) for metric in client.get_metric_history(mlflow_run.info.run_id, key)]
        for key in mlflow_run.data.metrics
    }
    assert found == expected


def test_every_other_value_is_a_tag_as_the_reader_sees_it(exported):
    offline, mlflow_run = exported
    expected = {
        mlflow_name(field): as_text(value)
        for field, value in offline.atoms().items()
        if not field.startswith("Configuration/")
    }
    tags = offline.trace.init_run.get("tags")
    if tags:
        expected["sys/tags"] = ", ".join(sorted(set(tags)))
    found = {key: value for key, value in mlflow_run.data.tags.items() if not key.startswith(("mlflow.", "neptune."))}
    assert found == expected
    assert mlflow_run.data.tags["neptune.run_id"] == offline.run_id
    assert mlflow_run.info.run_name == (offline.atoms().get("sys/name") or mlflow_run.info.run_name)


def test_every_upload_still_on_disk_is_an_artifact_with_the_same_bytes(exported, store, tmp_path):
    offline, mlflow_run = exported
    files = artifact_files(store, mlflow_run, tmp_path / "artifacts")
    for field, upload in offline.uploads().items():
        content, path = upload["content"], expected_artifact(field, upload)
        if content.get("missing"):
            assert path not in files
        elif "image" in content:
            assert image_digest(files[path].read_bytes()) == content["image"]
        else:
            assert hashlib.sha256(files[path].read_bytes()).hexdigest() == content["sha256"]
    names = json.loads(files["neptune-export/names.json"].read_text())
    assert names["metrics"] == {mlflow_name(field): field for field in offline.series()}


# ------------------------------------------------------------------------------------------ the run's details


def test_a_truncated_operation_file_is_one_warning_naming_it_and_the_rest_is_exported(
    truncated_run, export, exported_run
):
    code, out, err = export(truncated_run)
    log = truncated_run / "data-1.log"
    assert code == 0 and ", 1 warning:" in out
    assert err.count("warning: ") == 1 and f"{log} last line" in err and "is truncated and was skipped" in err
    assert exported_run(truncated_run).data.metrics["lr/pg0"] == pytest.approx(0.01 / 2)  # epochs 1-2 of lr


def test_an_upload_that_is_gone_is_one_warning_naming_it_and_the_others_are_exported(
    missing_upload_run, gone_upload, export, store, tmp_path, exported_run
):
    code, out, err = export(missing_upload_run)
    assert code == 0 and ", 1 warning:" in out
    assert err.count("warning: ") == 1 and f"Plots/gone: {gone_upload} does not exist any more; not exported" in err
    files = artifact_files(store, exported_run(missing_upload_run), tmp_path / "artifacts")
    assert {"Plots/kept.png", "Plots/figure.png", "weights/train/best.pt"} <= set(files)


def test_an_empty_run_is_exported_with_its_name_and_no_warning(empty_run, export, exported_run):
    code, out, err = export(empty_run)
    assert code == 0 and "Exported 1 run (1 new" in out and "warning: " not in err
    assert exported_run(empty_run).info.run_name == "Untitled"


def test_metric_points_keep_the_time_they_were_logged(small_run, export, store, exported_run):
    export(small_run)
    written = [json.loads(line)["obj"] for line in (small_run / "data-1.log").read_text().splitlines()]
    logged = [
        (value["step"], round(value["ts"] * 1000))
        for obj in written
        if obj["path"] == ["train", "box_loss"]
        for value in obj["values"]
    ]
    history = MlflowClient(store).get_metric_history(exported_run(small_run).info.run_id, "train/box_loss")
    assert [(metric.step, metric.timestamp) for metric in history] == logged


def test_the_run_keeps_its_name_creation_time_and_finished_status(small_run, export, exported_run):
    export(small_run)
    mlflow_run = exported_run(small_run)
    created = json.loads((small_run / "metadata.json").read_text())["createdAt"]
    from datetime import datetime

    assert mlflow_run.info.run_name == "small" and mlflow_run.info.status == "FINISHED"
    assert mlflow_run.info.start_time == round(datetime.fromisoformat(created).timestamp() * 1000)


def test_a_failed_run_is_marked_failed(data_directory, export, exported_run):
    """A script that dies of an exception: the client marks its run failed (sys/failed)."""
    script = (
        "import neptune\n"
        "run = neptune.init_run(mode='offline', name='crash', capture_stdout=False, capture_stderr=False, "
        "capture_hardware_metrics=False, source_files=[], git_ref=False)\n"
        "run['train/box_loss'].append(1.0, step=1)\n"
        "raise RuntimeError('the training died')\n"
    )
    environment = {**outside_pytest(), "NEPTUNE_DATA_DIRECTORY": str(data_directory)}
    subprocess.run([sys.executable, "-c", script], capture_output=True, env=environment, timeout=120)
    (folder,) = offline_run_folders(data_directory)
    export(folder)
    mlflow_run = exported_run(folder)
    assert mlflow_run.info.status == "FAILED" and mlflow_run.data.tags["sys/failed"] == "True"


def test_a_value_longer_than_mlflow_keeps_is_cut_and_kept_whole_in_an_artifact(
    data_directory, export, store, tmp_path, exported_run
):
    long = "x" * (MAX_PARAM_VALUE + 500)

    def fill(run):
        run["Configuration/Hyperparameters/notes"] = long

    folder = log_offline_run(data_directory, fill)
    code, _, err = export(folder)
    mlflow_run = exported_run(folder)
    name = "Configuration/Hyperparameters/notes"
    assert code == 0 and mlflow_run.data.params[name] == long[:MAX_PARAM_VALUE]
    assert "1 value(s) longer than MLflow keeps were cut" in err
    files = artifact_files(store, mlflow_run, tmp_path / "artifacts")
    assert json.loads(files["neptune-export/values.json"].read_text())["params"][name] == long


# ------------------------------------------------------------------------------------------------ idempotence


def test_exporting_twice_skips_every_run_and_says_so(two_runs, data_directory, export, mlflow_runs):
    first = export(data_directory)
    second = export(data_directory)
    assert first[0] == second[0] == 0
    assert "Exported 2 runs (2 new, 0 brought up to date, 0 replaced), skipped 0" in first[1]
    assert "Exported 0 runs (0 new, 0 brought up to date, 0 replaced), skipped 2 (unchanged)" in second[1]
    assert len(mlflow_runs()) == 2


def test_replace_exports_every_run_anew(two_runs, data_directory, export, mlflow_runs):
    export(data_directory)
    before = {run.info.run_id for run in mlflow_runs()}
    code, out, _ = export(data_directory, "--replace")
    after = {run.info.run_id for run in mlflow_runs()}
    assert code == 0 and "Exported 2 runs (0 new, 0 brought up to date, 2 replaced)" in out
    assert len(after) == 2 and not before & after


def test_a_run_that_grew_since_its_export_is_brought_up_to_date_in_place(
    data_directory, export, store, exported_run, mlflow_runs
):
    folder = log_offline_run(data_directory, log_epochs(5), name="growing")
    log = folder / "data-1.log"
    whole = log.read_text()
    lines = whole.splitlines(keepends=True)
    log.write_text("".join(lines[: len(lines) // 2]))  # the run as it was half way through its training
    export(folder)
    half = exported_run(folder)
    log.write_text(whole)
    code, out, _ = export(folder)
    grown = exported_run(folder)
    history = MlflowClient(store).get_metric_history(grown.info.run_id, "train/box_loss")
    assert code == 0 and "(0 new, 1 brought up to date, 0 replaced)" in out
    assert grown.info.run_id == half.info.run_id and len(mlflow_runs()) == 1
    assert [(metric.step, metric.value) for metric in history] == read_offline_run(folder).series()["train/box_loss"]
    assert grown.data.params == exported_run(folder).data.params


def test_a_run_whose_export_was_cut_short_is_exported_anew_next_time(large_run, export, mlflow_runs):
    """The marks of a complete export come with MLflow's last call: an export that fails before it is not complete."""
    log_batch, calls = MlflowClient.log_batch, []

    def failing_after_the_first(self, *args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise MlflowException("the store went away")
        return log_batch(self, *args, **kwargs)

    with mock.patch.object(MlflowClient, "log_batch", failing_after_the_first):
        cut_short = export(large_run)
    code, out, err = export(large_run)
    assert cut_short[0] == 1 and "could not be exported: MlflowException: the store went away" in cut_short[2]
    assert code == 0 and "Exported 1 run (0 new, 0 brought up to date, 1 replaced)" in out
    assert "was incomplete or differs" in err and len(mlflow_runs()) == 1


def test_a_copy_of_a_run_in_another_folder_is_the_run_already_exported(small_run, tmp_path, export, mlflow_runs):
    copy = tmp_path / "copy" / ".neptune" / "offline" / small_run.name
    shutil.copytree(small_run, copy)
    code, out, _ = export(small_run, copy)
    assert code == 0 and "Exported 1 run (1 new" in out and "skipped 1 (unchanged)" in out
    assert len(mlflow_runs()) == 1


def test_last_n_exports_only_the_newest_n_runs(data_directory, export, mlflow_runs):
    folders = [log_offline_run(data_directory, log_epochs(2), name=name) for name in ("old", "new")]
    export(data_directory, "--last", 1)
    assert [run.info.run_name for run in mlflow_runs()] == ["new"]
    assert read_offline_run(folders[1]).run_id == mlflow_runs()[0].data.tags["neptune.run_id"]


# -------------------------------------------------------------------------------------------------- the names

TRICKY_NAMES = [
    "metrics/mAP50(B)",
    "metrics/mAP50-95(B)",
    "metrics/mAP50-95:28B:29",  # already looks like an escaped name
    "metrics/mAP50-95:28B:29(B)",
    "Configuration/Model/model/speed_PyTorch(ms)",
    "a:b",
    "a:3ab",
    "a/b",
    "a//b",
    "a/:2f/b",
    "/a",
    "a/",
    ".",
    "..",
    "a/./b",
    "a/../b",
    "a/.../b",
    "with space",
    "tab\there",
    "ünïcode/名前",
    "percent%28",
    "x" * 300,
    "x" * 299 + "y",
    "x" * 240 + "(" * 20,
    "x" * 240 + ":28" * 20,
]


def bundled_field_names() -> set:
    """Every field every bundled golden trace logs: what each Ultralytics release and task writes."""
    from ultralytics_neptune.trace import Trace

    golden = Path(__file__).parent.parent / "ultralytics_neptune" / "verification" / "data" / "golden"
    return {"/".join(op["path"]) for path in golden.glob("*.json") for op in Trace.load(path).operations}


def decoded(name: str) -> str:
    """Undo the escapes of a name: each ":" and two hex digits is one byte."""
    data, index = bytearray(), 0
    while index < len(name):
        if name[index] == ":":
            data.append(int(name[index + 1 : index + 3], 16))
            index += 3
        else:
            data += name[index].encode()
            index += 1
    return data.decode("utf-8")


def test_no_two_names_get_one_mlflow_name():
    names = {*TRICKY_NAMES, *bundled_field_names()}
    mapped = {mlflow_name(name) for name in names}
    assert len(mapped) == len(names)


def test_an_mlflow_name_decodes_back_to_its_field_path():
    for name in [*TRICKY_NAMES, *bundled_field_names()]:
        if len(mlflow_name(name)) < MAX_NAME:
            assert decoded(mlflow_name(name)) == name


def test_mlflow_accepts_every_mapped_name_as_a_metric_param_and_tag_name():
    for name in [*TRICKY_NAMES, *bundled_field_names()]:
        mapped = mlflow_name(name)
        assert len(mapped) <= MAX_NAME
        _validate_metric_name(mapped)
        _validate_param_name(mapped)
        _validate_tag_name(mapped)


def test_names_mlflow_accepts_as_they_are_keep_their_spelling_except_the_escape_character():
    assert mlflow_name("train/box_loss") == "train/box_loss"
    assert mlflow_name("metrics/mAP50-95(B)") == "metrics/mAP50-95:28B:29"
    assert mlflow_name("a:b") == "a:3ab"


# ------------------------------------------------------------------------------------------------ the command


def test_without_mlflow_the_command_says_what_to_install(small_run, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an environment without it gives: ImportError
    code = cli(["export", str(small_run)])
    assert code == 1 and "pip install 'ultralytics-neptune[mlflow]'" in capsys.readouterr().err


def test_the_command_fails_with_a_message_where_there_is_no_run(tmp_path, capsys):
    assert cli(["export", str(tmp_path)]) == 1
    assert f"no offline Neptune run under {tmp_path}" in capsys.readouterr().err


def test_the_default_store_is_mlflow_db_in_the_current_folder(small_run, tmp_path):
    """MLflow's own default, in a process of its own (MLflow keeps its stores per process)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    environment = {key: value for key, value in outside_pytest().items() if not key.startswith("MLFLOW_")}
    command = [sys.executable, "-m", "ultralytics_neptune", "export", str(small_run)]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"at sqlite:///{folder / 'mlflow.db'}\n" in result.stdout
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name("neptune-offline").experiment_id])
    assert mlflow_run.info.run_name == "small"
