"""``ultralytics-neptune export`` of a Neptune 3.x run: the SQLite file a training logged through the 3.x client
(the bundled 8.4.131 detect recording replayed through parity mode with ``client="scale"``) into MLflow, read back
with MLflow's own client and compared with what the offline reader sees; and a 3.x run where the 3.x client is not
installed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import sqlite3
import sys
from pathlib import Path

import pytest

pytest.importorskip("neptune_scale", reason="a 3.x run is written and read with the real neptune-scale client")
pytest.importorskip("mlflow", reason="the export is read back with MLflow's own client (test-scale extra)")

from mlflow import MlflowClient

from ultralytics_neptune.cli import main as cli
from ultralytics_neptune.export.names import mlflow_name
from ultralytics_neptune.offline import offline_run_folders, read_offline_run
from ultralytics_neptune.offline_scale import DATABASE
from ultralytics_neptune.report.runs import read_views
from ultralytics_neptune.trace import image_digest
from ultralytics_neptune.verification.replay import replay
from ultralytics_neptune.verification.scale_check import scale_callbacks

RECORDING = "ultralytics-8.4.131"
DECODER = "neptune_api.proto.neptune_pb.ingest.v1"  # the package of the client's message classes


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory, neptune_recordings) -> Path:
    """The folder of the 3.x run parity mode logged on the bundled 8.4.131 detect training."""
    recording = neptune_recordings[RECORDING]
    root = tmp_path_factory.mktemp("scale-run")
    _logger, callbacks = scale_callbacks(recording.ultralytics_version, root / ".neptune")
    replay(recording, callbacks, root / "save_dir")
    (folder,) = offline_run_folders(root / ".neptune")
    return folder


def export(folder: Path, store: str) -> tuple:
    """(exit code, stdout, stderr) of the command exporting folder into the store."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(["export", str(folder), "--tracking-uri", store, "--experiment", "scale"])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def exported(scale_run, store, tmp_path_factory):
    """(the 3.x run as the reader sees it, its MLflow run, the command's output) after one export."""
    code, out, err = export(scale_run, store)
    assert code == 0, err
    client = MlflowClient(store)
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name("scale").experiment_id])
    return read_offline_run(scale_run), mlflow_run, out


def test_the_3x_run_is_exported_as_one_finished_mlflow_run_named_as_its_experiment(exported):
    offline, mlflow_run, out = exported
    assert (mlflow_run.info.run_name, mlflow_run.info.status) == ("train", "FINISHED")
    assert mlflow_run.data.tags["neptune.run_id"] == offline.run_id
    assert "1 new" in out


def test_every_config_of_the_3x_run_is_a_param(exported):
    offline, mlflow_run, _ = exported
    configs = {mlflow_name(field) for field in offline.atoms() if field.startswith("Configuration/")}
    assert configs and set(mlflow_run.data.params) == configs


def test_every_metric_point_of_the_3x_run_is_read_back_at_its_step(exported, store):
    offline, mlflow_run, _ = exported
    history = MlflowClient(store).get_metric_history
    found = {key: [(m.step, m.value) for m in history(mlflow_run.info.run_id, key)] for key in mlflow_run.data.metrics}
    assert found == {mlflow_name(field): points for field, points in offline.series().items()}


def test_every_metric_point_has_the_time_the_client_wrote_it(exported, store, scale_run):
    _, mlflow_run, _ = exported
    with contextlib.closing(sqlite3.connect(scale_run / DATABASE)) as database:
        first, last = database.execute("SELECT MIN(timestamp), MAX(timestamp) FROM run_operations").fetchone()
    history = MlflowClient(store).get_metric_history
    times = {m.timestamp for key in mlflow_run.data.metrics for m in history(mlflow_run.info.run_id, key)}
    assert times and all(first <= time <= last for time in times)


def test_every_upload_of_the_3x_run_is_an_artifact_with_the_same_bytes(exported, store, tmp_path):
    offline, mlflow_run, _ = exported
    root = Path(MlflowClient(store).download_artifacts(mlflow_run.info.run_id, "", str(tmp_path)))
    uploads = offline.uploads()
    assert uploads
    for field, upload in uploads.items():
        ext = upload.get("ext")
        path = root / (field if not ext or field.endswith(f".{ext}") else f"{field}.{ext}")
        content = upload["content"]
        if "image" in content:
            assert image_digest(path.read_bytes()) == content["image"], field
        else:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == content["sha256"], field


def test_exporting_the_3x_run_again_skips_it(exported, scale_run, store):
    code, out, _ = export(scale_run, store)
    assert (code, "skipped 1 (unchanged)" in out) == (0, True)


@pytest.fixture
def without_the_3x_client(monkeypatch):
    """The 3.x client's message classes cannot be imported, as where neptune-scale is not installed."""
    monkeypatch.setitem(sys.modules, DECODER, None)


def test_without_the_3x_client_its_run_is_one_error_naming_what_to_install_and_nothing_is_exported(
    without_the_3x_client, scale_run, tmp_path
):
    code, out, err = export(scale_run, f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: {scale_run} could not be exported: ClientMissing: {scale_run / DATABASE} is a Neptune 3.x run: "
        'reading it needs the 3.x client (python3 -m pip install "neptune-scale>=0.30,<0.31")'
    ]
    assert "Exported 0 runs" in out and "1 failed" in out


def test_without_the_3x_client_the_report_lists_its_run_with_what_to_install(without_the_3x_client, scale_run):
    (view,) = read_views([scale_run])
    assert view.warnings == [
        f"{scale_run / DATABASE} is a Neptune 3.x run: reading it needs the 3.x client (python3 -m pip install "
        '"neptune-scale>=0.30,<0.31")'
    ]
