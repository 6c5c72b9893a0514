"""The Neptune 3.x adapter (``ultralytics_neptune.scale``) against the fake ``neptune_scale``: each row of the README's
mapping table, the batching of a step's values, the choice of client, and extended mode's additions on 3.x."""

from __future__ import annotations

import json
import sys

import pytest

from ultralytics_neptune import settings
from ultralytics_neptune.scale import ScaleBackend, ScaleRun, qualified_project, run_arguments
from ultralytics_neptune.verification.fake.scale import FakeScale
from ultralytics_neptune.verification.recording import Recording
from ultralytics_neptune.verification.replay import ReplayTrainer, replay


@pytest.fixture
def fake_scale(monkeypatch):
    fake = FakeScale()
    monkeypatch.setitem(sys.modules, "neptune_scale", fake.module)
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    return fake


@pytest.fixture
def run(fake_scale):
    warnings = []
    started = ScaleBackend().start(
        {"project": "ws/p", "name": "train", "tags": ["Ultralytics"]}, lambda k, m: warnings.append(m)
    )
    started.warnings = warnings
    return started


def _ops(run: ScaleRun, kind: str) -> list:
    return [op for op in run.client_run.operations if op["type"] == kind]


def test_the_name_becomes_the_experiment_name_and_the_tags_are_added(run):
    assert run.client_run.experiment_name == "train"
    assert _ops(run, "AddStrings") == [{"type": "AddStrings", "path": ["sys", "tags"], "values": ["Ultralytics"]}]


def test_a_custom_run_id_becomes_the_run_id():
    assert run_arguments({"project": "ws/p", "custom_run_id": "abc", "mode": "offline"})["run_id"] == "abc"


def test_debug_mode_becomes_disabled_and_sync_becomes_async():
    assert run_arguments({"project": "ws/p", "mode": "debug"})["mode"] == "disabled"
    assert run_arguments({"project": "ws/p", "mode": "sync"})["mode"] == "async"


def test_read_only_mode_is_refused():
    with pytest.raises(ValueError, match="no counterpart"):
        run_arguments({"project": "ws/p", "mode": "read-only"})


def test_a_project_without_a_workspace_becomes_local(monkeypatch):
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    assert qualified_project("Ultralytics") == "local/Ultralytics"


def test_a_project_without_a_workspace_becomes_neptune_project_when_that_is_qualified(monkeypatch):
    monkeypatch.setenv("NEPTUNE_PROJECT", "team/yolo")
    assert qualified_project("Ultralytics") == "team/yolo"


def test_a_dict_becomes_flat_configs_without_none_lists_and_paths(run):
    from pathlib import Path

    run["Configuration/Hyperparameters"] = {
        "epochs": 3,
        "lr0": 0.01,
        "amp": True,
        "data": "d.yaml",
        "x": None,
        "classes": [0, 1],
        "save_dir": Path("/x"),
        "nested": {"a": 1},
    }
    configs = {"/".join(op["path"]): op["value"] for op in run.client_run.operations if op["type"].startswith("Assign")}
    prefix = "Configuration/Hyperparameters/"
    assert {k[len(prefix) :]: v for k, v in configs.items() if k.startswith(prefix)} == {
        "epochs": 3,
        "lr0": 0.01,
        "amp": True,
        "data": "d.yaml",
        "nested/a": 1,
    }


def test_values_left_out_of_a_dict_are_warned_about(run):
    run["Configuration/Hyperparameters"] = {"x": None}
    assert any("left out" in warning for warning in run.warnings)


def test_the_values_of_one_step_go_in_one_log_metrics_call(run):
    for key in ("train/box_loss", "train/cls_loss", "lr/pg0"):
        run[key].append(value=1.0, step=1)
    run.flush()
    assert run.client_run.calls["log_metrics"] == 1
    assert len(_ops(run, "LogFloats")) == 3


def test_a_new_step_sends_the_previous_steps_values(run):
    run["a"].append(value=1.0, step=1)
    run["a"].append(value=2.0, step=2)
    assert [op["values"] for op in _ops(run, "LogFloats")] == [[{"value": 1.0, "step": 1}]]


def test_a_step_the_series_already_has_is_not_sent(run):
    run["metrics/mAP50(B)"].append(value=0.1, step=3)
    run.flush()
    run["metrics/mAP50(B)"].append(value=0.2, step=3)
    run.flush()
    assert [op["values"][0]["value"] for op in _ops(run, "LogFloats")] == [0.1]


def test_a_step_the_series_already_has_is_warned_about(run):
    run["m"].append(value=0.1, step=3)
    run.flush()
    run["m"].append(value=0.2, step=3)
    assert any("refuses steps that do not increase" in warning for warning in run.warnings)


def test_a_python_nan_is_not_sent_as_the_1x_client_drops_it(run):
    run["m"].append(value=float("nan"), step=1)
    run.flush()
    assert _ops(run, "LogFloats") == []


def test_extend_sends_each_point_at_its_step(run):
    run["m"].extend([0.5], steps=[4])
    run.flush()
    assert _ops(run, "LogFloats")[0]["values"] == [{"value": 0.5, "step": 4}]


def test_a_file_is_assigned_by_its_path(run, tmp_path):
    image = tmp_path / "train_batch0.jpg"
    image.write_bytes(b"\xff\xd8\xff" + b"0" * 10)
    run["Mosaic/train_batch0"].upload(type("File", (), {"path": str(image)})())
    assert _ops(run, "UploadFile")[0]["file_path"] == str(image)


def test_a_figure_is_assigned_as_its_png(run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 1), dpi=50)
    run["Plots/results"].upload(figure)
    plt.close(figure)
    assert _ops(run, "UploadFile")[0]["content"]["image"]["width"] > 0


def test_a_failed_run_gets_the_failed_tag(run):
    run["sys/failed"] = True
    assert _ops(run, "AddStrings")[-1]["values"] == ["failed"]


def test_a_resumed_run_loses_the_failed_tag(run):
    run["sys/failed"] = False
    assert _ops(run, "RemoveStrings")[-1]["values"] == ["failed"]


def test_stop_sends_waiting_values_and_closes_within_the_timeout(run):
    run["m"].append(value=1.0, step=1)
    run.stop(seconds=7)
    assert (len(_ops(run, "LogFloats")), run.client_run.close_timeout) == (1, 7)


def test_the_client_is_scale_when_only_neptune_scale_is_installed(monkeypatch):
    monkeypatch.delenv(settings.CLIENT_ENV, raising=False)
    monkeypatch.setattr(settings, "_installed", lambda module: module == "neptune_scale")
    assert settings.neptune_client() == settings.Choice("scale", "default")


def test_the_client_switch_picks_the_1x_client(monkeypatch):
    monkeypatch.setenv(settings.CLIENT_ENV, "neptune")
    assert settings.neptune_client().value == "neptune"


def test_the_registration_argument_wins_over_the_switch(monkeypatch):
    monkeypatch.setenv(settings.CLIENT_ENV, "neptune")
    assert settings.neptune_client("scale").value == "scale"


def test_a_client_name_that_means_nothing_is_refused(monkeypatch):
    monkeypatch.setenv(settings.CLIENT_ENV, "neptune2")
    with pytest.raises(settings.SettingError, match="ULTRALYTICS_NEPTUNE_CLIENT='neptune2'"):
        settings.neptune_client()


def test_status_shows_the_client_that_logs(monkeypatch):
    from ultralytics_neptune.status import status

    monkeypatch.setenv(settings.CLIENT_ENV, "scale")
    rows = dict(status()[0])
    assert rows["client that logs"] == f"scale (from {settings.CLIENT_ENV} environment variable)"


@pytest.fixture
def latest(neptune_recordings):
    return [recording for recording in neptune_recordings.values() if recording.task == "detect"][-1]


def _registered_replay(recording: Recording, tmp_path, **kwargs) -> ReplayTrainer:
    from ultralytics_neptune import add_neptune_callbacks

    trainer = ReplayTrainer(tmp_path / "save_dir")
    add_neptune_callbacks(trainer, client="scale", mode="offline", **kwargs)
    return replay(recording, {}, tmp_path / "save_dir", trainer=trainer)


def test_a_registration_with_client_scale_starts_one_run(fake_scale, latest, tmp_path):
    _registered_replay(latest, tmp_path)
    assert len(fake_scale.runs) == 1


def test_parity_on_scale_makes_at_most_two_log_metrics_calls_a_step(fake_scale, latest, tmp_path):
    _registered_replay(latest, tmp_path)
    steps = {
        point["step"] for op in fake_scale.last_run.operations if op["type"] == "LogFloats" for point in op["values"]
    }
    assert fake_scale.last_run.calls["log_metrics"] <= 2 * len(steps)


def test_extended_mode_on_scale_logs_the_client_release_among_the_versions(fake_scale, latest, tmp_path):
    _registered_replay(latest, tmp_path, extended=True)
    paths = {"/".join(op["path"]) for op in fake_scale.last_run.operations}
    assert "Configuration/Versions/neptune-scale" in paths and "Configuration/Versions/neptune" not in paths


def test_extended_mode_on_scale_uploads_plots_as_their_files(fake_scale, latest, tmp_path):
    _registered_replay(latest, tmp_path, extended=True)
    plots = [op for op in fake_scale.last_run.operations if op["path"][0] == "Plots"]
    assert plots and all(op["file_path"].startswith(str(tmp_path)) for op in plots)


def test_extended_mode_on_scale_resumes_the_run_id_kept_next_to_the_weights(fake_scale, latest, tmp_path):
    trainer = _registered_replay(latest, tmp_path, extended=True)
    kept = json.loads((trainer.save_dir / "weights" / "neptune_run.json").read_text())
    assert kept["custom_run_id"] == fake_scale.last_run.run_id


def test_extended_mode_on_scale_tags_a_training_that_ends_by_exception_as_failed(fake_scale, latest, tmp_path):
    from ultralytics_neptune.extended import ExtendedLogger

    logger = ExtendedLogger(release=latest.ultralytics_version, client="scale", mode="offline")
    events = [event for event in latest.events if event["event"] != "on_train_end"]
    replay(Recording(latest.meta, events), logger.callbacks(), tmp_path / "save_dir")
    tags = [op for op in fake_scale.last_run.operations if op["type"] == "AddStrings"]
    assert tags[-1]["values"] == ["failed"]
